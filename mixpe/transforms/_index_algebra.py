"""Exact index arithmetic for looking through reshapes, transposes and broadcasts.

Frontends spread one quantized weight over several tensors: `[N,K]` is expanded to
`[N,G,g]`, scales `[N,G]` become `[N,G,1]` and are read through a `(d0,d1,0)` map,
a collapse folds it back, a transpose turns it into `[K,N]`. To prove that a scale
really is constant along a group of `g` consecutive k, we track, for every tensor we
read, *which element* is read as an exact function of the contraction's loop
variables. Index expressions here are sums of mixed-radix digits

    coeff * ((var // div) % mod)

which is closed under the operations reshapes need (+, * const, // const, % const)
when the divisions align with digit boundaries, and has a canonical form so that
"this scale is read at (n, k // 128)" is a plain equality test.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod


class NotAffine(Exception):
    """The index is not expressible exactly (a division straddles digits)."""


@dataclass(frozen=True, order=True)
class Digit:
    var: str
    div: int
    mod: int | None  # None: unbounded above


@dataclass(frozen=True)
class Ix:
    """An exact index expression; build with `Ix.var` / `Ix.const`, compare with `==`."""

    terms: tuple[tuple[Digit, int], ...]
    const: int
    extents: tuple[tuple[str, int], ...]

    @staticmethod
    def var(name: str, extents: dict[str, int]) -> Ix:
        return Ix._make({Digit(name, 1, None): 1}, 0, extents)

    @staticmethod
    def const_(value: int, extents: dict[str, int]) -> Ix:
        return Ix._make({}, value, extents)

    @staticmethod
    def _make(terms: dict[Digit, int], const: int, extents) -> Ix:
        ext = dict(extents)
        norm: dict[Digit, int] = {}
        for d, c in terms.items():
            if c == 0:
                continue
            size = ext[d.var]
            if d.div >= size:  # (v // div) is always 0
                continue
            mod = d.mod
            if mod is not None and d.div * mod >= size:
                mod = None
            if mod == 1:
                continue
            key = Digit(d.var, d.div, mod)
            norm[key] = norm.get(key, 0) + c
        norm = _merge(norm)
        return Ix(tuple(sorted(norm.items())), const, tuple(sorted(ext.items())))

    def _ext(self) -> dict[str, int]:
        return dict(self.extents)

    def range(self) -> tuple[int, int]:
        """Smallest and largest value over all loop variable values."""
        ext = self._ext()
        lo = hi = self.const
        for d, c in self.terms:
            top = _digit_count(d, ext[d.var]) - 1
            lo, hi = (lo, hi + c * top) if c > 0 else (lo + c * top, hi)
        return lo, hi

    def __add__(self, other: Ix) -> Ix:
        terms = dict(self.terms)
        for d, c in other.terms:
            terms[d] = terms.get(d, 0) + c
        return Ix._make(terms, self.const + other.const, self._ext())

    def scale(self, factor: int) -> Ix:
        return Ix._make({d: c * factor for d, c in self.terms}, self.const * factor, self._ext())

    def divmod(self, by: int) -> tuple[Ix, Ix]:
        """(self // by, self % by), exactly, for non-negative expressions."""
        if by == 1:
            return self, Ix.const_(0, self._ext())
        ext = self._ext()
        if self.range()[0] < 0:
            raise NotAffine("negative index")
        high = {d: c // by for d, c in self.terms if c % by == 0}
        low = {d: c for d, c in self.terms if c % by != 0}
        low_ix = Ix._make(low, self.const % by if not high else self.const, ext)
        if low_ix.range()[1] < by and (self.const == 0 or not high):
            quotient = Ix._make(high, self.const // by if not high else 0, ext)
            return quotient, low_ix
        if self.const == 0 and len(low) == 1:
            (d, c), = low.items()
            if c == 1 and (d.mod is None or d.mod % by == 0):
                high[Digit(d.var, d.div * by, None if d.mod is None else d.mod // by)] = 1
                return Ix._make(high, 0, ext), Ix._make({Digit(d.var, d.div, by): 1}, 0, ext)
        raise NotAffine(f"cannot divide {self} by {by} exactly")

    def __str__(self) -> str:
        parts = []
        for d, c in self.terms:
            s = d.var if d.div == 1 else f"({d.var} floordiv {d.div})"
            if d.mod is not None:
                s = f"({s} mod {d.mod})"
            parts.append(s if c == 1 else f"{c}*{s}")
        if self.const or not parts:
            parts.append(str(self.const))
        return " + ".join(parts)


def _digit_count(d: Digit, size: int) -> int:
    n = -(-size // d.div)
    return n if d.mod is None else min(n, d.mod)


def _merge(terms: dict[Digit, int]) -> dict[Digit, int]:
    """c*(v//(a*m) % M) * m + c*(v//a % m)  ->  c*(v//a % (m*M)): undo a split."""
    changed = True
    while changed:
        changed = False
        for lo, c_lo in list(terms.items()):
            if lo.mod is None:
                continue
            for hi, c_hi in list(terms.items()):
                if (
                    hi.var == lo.var
                    and hi.div == lo.div * lo.mod
                    and c_hi == c_lo * lo.mod
                ):
                    del terms[lo], terms[hi]
                    mod = None if hi.mod is None else hi.mod * lo.mod
                    merged = Digit(lo.var, lo.div, mod)
                    terms[merged] = terms.get(merged, 0) + c_lo
                    changed = True
                    break
            if changed:
                break
    return terms


def linearize(index: tuple[Ix, ...], shape: tuple[int, ...]) -> Ix:
    """Row-major flattening of `index` into a tensor of `shape`."""
    total = index[0].scale(0)
    for i, size in zip(index, shape):
        total = total.scale(size) + i
    return total


def delinearize(flat: Ix, shape: tuple[int, ...]) -> tuple[Ix, ...]:
    """Inverse of `linearize`: the multi-index of `flat` in a row-major `shape`."""
    out: list[Ix] = []
    rest = flat
    for size in shape[:0:-1]:
        rest, digit = rest.divmod(size)
        out.append(digit)
    out.append(rest)
    return tuple(reversed(out))


def group_sizes(reassociation: list[list[int]], shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    return [tuple(shape[i] for i in group) for group in reassociation]


__all__ = ["Ix", "Digit", "NotAffine", "linearize", "delinearize", "group_sizes", "prod"]
