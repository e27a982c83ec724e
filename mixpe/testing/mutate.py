"""Random mutations of valid MLIR, for robustness fuzzing of `mixpe-opt ... -t mixpe-sim`.

A mutation takes a valid module (text) and returns a mutated text plus a short description,
or None when it does not apply to that module. Two levels:

- IR level (parse with xDSL, change the IR, print generically): drop an op and replace its
  uses by another dominating value of the same type; swap two operands of an op.
- Text level: drop an op's defining line (its uses dangle), change an element type, change a
  constant (scalar or dense element), change a constant or dim in an affine map (`0 -> 1` in a
  broadcast map, `d2 -> d1`, a `floordiv` divisor), change a reassociation, delete a
  `linalg.yield` operand, change a static dimension, flip an iterator type, swap an arith op
  for a sibling (sitofp/uitofp, extsi/extui, subf/addf, ...).

`check_mutant` runs the real `mixpe-opt -p 'mixpe-pipeline{weight-bits=4}' -t mixpe-sim`
in-process and classifies the outcome:

- `diagnostic`: non-zero exit with a clean last line (`...: error: ...`), no traceback, no
  "internal error";
- `same`: the pipeline succeeded, the program runs on the simulator, and its results equal
  the mutated module's own evaluation (`mixpe.interp.evaluate`, before the pipeline) on the
  same inputs: bit-exact for integer results, within a few output ulps of the largest result
  for float ones (the frontend rounds dequantized weights to f16/bf16 and mixpe does not:
  docs/numerics.md); or both refuse the inputs with a clean error (e.g. a weight outside
  `weight-bits`, where the evaluator computes on while the simulator must refuse);
- `loose`: the float results differ by more than that tolerance, but the pipeline's output
  module evaluates to exactly the simulator's numbers: the mutation amplified the documented
  frontend-vs-mixpe rounding difference (e.g. `x * u` -> `x / u` with small u); counted apart;
- `unchecked`: compiled cleanly but the evaluator cannot run the mutated module (an op it does
  not implement): nothing to compare with, not a failure;
- `crash`: anything else (traceback, internal error, wrong numbers, a dirty diagnostic).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import builtin, func
from xdsl.dialects.builtin import ShapedType, TensorType
from xdsl.parser import Parser
from xdsl.printer import Printer

from mixpe import driver
from mixpe.context import mixpe_context
from mixpe.interp import mixpe_ops
from mixpe.interp.evaluate import EvaluationError, evaluate
from mixpe.reference.dtypes import is_float, to_numpy
from mixpe.reference.ir_types import dtype_name
from mixpe.simulator.execute import SimulationError, run_program
from mixpe.simulator.program import parse_program
from mixpe.tools import mixpe_opt

Mutation = Callable[[str, np.random.Generator], "tuple[str, str] | None"]


# ------------------------------------------------------------------------------------- IR level


def _parse(text: str):
    return Parser(mixpe_context(), text).parse_module()


def _print_generic(module) -> str:
    out = io.StringIO()
    Printer(stream=out, print_generic_format=True).print_op(module)
    return out.getvalue() + "\n"


def _ops(module):
    return [op for op in module.walk() if not isinstance(op, builtin.ModuleOp | func.FuncOp | func.ReturnOp)]


def _dominating_values(op):
    """Values usable at `op`: earlier results and block arguments in its block and enclosing ones."""
    vals = []
    cur = op
    while cur is not None and cur.parent_block() is not None:
        block = cur.parent_block()
        vals.extend(block.args)
        for o in block.ops:
            if o is cur:
                break
            vals.extend(o.results)
        cur = block.parent_op()
    return vals


def drop_op_replace(text: str, rng) -> tuple[str, str] | None:
    if "{-#" in text:
        return None  # xDSL renames resource blobs on re-parse: printed IR would lose them
    module = _parse(text)
    cands = []
    for op in _ops(module):
        if not op.results:
            continue
        repl = []
        for r in op.results:
            same = [v for v in _dominating_values(op) if v.type == r.type and v is not r]
            if not same:
                break
            repl.append(same)
        else:
            cands.append((op, repl))
    if not cands:
        return None
    op, repl = cands[int(rng.integers(len(cands)))]
    for r, options in zip(op.results, repl):
        r.replace_by(options[int(rng.integers(len(options)))])
    name = op.name
    op.detach()
    op.erase(safe_erase=False)
    return _print_generic(module), f"drop {name}, uses replaced by a same-typed value"


def swap_operands(text: str, rng) -> tuple[str, str] | None:
    if "{-#" in text:
        return None
    module = _parse(text)
    cands = [op for op in _ops(module) if len(op.operands) >= 2]
    if not cands:
        return None
    op = cands[int(rng.integers(len(cands)))]
    i, j = rng.choice(len(op.operands), size=2, replace=False)
    a, b = op.operands[int(i)], op.operands[int(j)]
    op.operands[int(i)], op.operands[int(j)] = b, a
    return _print_generic(module), f"swap operands {int(i)} and {int(j)} of {op.name}"


# ------------------------------------------------------------------------------------- text level


def _body_lines(text: str) -> list[int]:
    lines = text.splitlines()
    return [i for i, ln in enumerate(lines) if re.match(r"\s*%[\w.]+(:\d+)?\s*=", ln)]


def _replace_match(text: str, pattern: str, rng, repl: Callable[[re.Match], str | None], what: str):
    matches = list(re.finditer(pattern, text))
    rng.shuffle(matches)
    for m in matches:
        new = repl(m)
        if new is not None and new != m.group(0):
            return text[: m.start()] + new + text[m.end():], f"{what}: '{m.group(0)}' -> '{new}'"
    return None


def drop_op_dangling(text: str, rng) -> tuple[str, str] | None:
    """Delete a one-line op definition: its uses are left dangling (undefined SSA values)."""
    lines = text.splitlines()
    cands = [i for i in _body_lines(text) if not lines[i].rstrip().endswith("{")]
    if not cands:
        return None
    i = cands[int(rng.integers(len(cands)))]
    removed = lines.pop(i).strip()
    return "\n".join(lines) + "\n", f"delete line '{removed[:60]}'"


_TYPES = ["i1", "i4", "i8", "i16", "i32", "i64", "f16", "bf16", "f32", "f64", "index"]


def change_element_type(text: str, rng) -> tuple[str, str] | None:
    pattern = r"(?<![\w%#@])(i1|i4|i8|i16|i32|i64|f16|bf16|f32|f64)(?![\w])"

    def repl(m):
        return str(rng.choice([t for t in _TYPES if t != m.group(1)]))

    return _replace_match(text, pattern, rng, repl, "element type")


def change_constant(text: str, rng) -> tuple[str, str] | None:
    """A number in an `arith.constant` (scalar, splat or dense literal)."""
    lines = text.splitlines()
    cands = [i for i, ln in enumerate(lines) if "arith.constant" in ln and "dense_resource" not in ln]
    rng.shuffle(cands)
    for i in cands:
        ln = lines[i]
        start = ln.index("arith.constant") + len("arith.constant")
        nums = list(re.finditer(r"-?\d+(\.\d+)?(e[-+]?\d+)?", ln[start:]))
        # keep numbers of the type (tensor<4x8xi8>): only literal values before the ':'
        colon = ln[start:].rfind(":")
        nums = [m for m in nums if m.start() < colon]
        if not nums:
            continue
        m = nums[int(rng.integers(len(nums)))]
        old = m.group(0)
        if "." in old or "e" in old:
            new = str(rng.choice(["0.000000e+00", "-1.000000e+00", "6.550400e+04", "1.000000e-03", "2.500000e+00"]))
        else:
            new = str(rng.choice([0, 1, -1, 7, 8, 15, 16, 127, -128, 255, 100000]))
        if new == old:
            continue
        s = start + m.start()
        lines[i] = ln[:s] + new + ln[start + m.end():]
        return "\n".join(lines) + "\n", f"constant {old} -> {new} in '{ln.strip()[:50]}'"
    return None


def change_affine_map(text: str, rng) -> tuple[str, str] | None:
    """Inside `affine_map<(dims) -> (results)>`: a constant, a dim, or a floordiv divisor."""
    matches = list(re.finditer(r"affine_map<\(([^)]*)\)\s*->\s*\(([^)]*)\)>", text))
    rng.shuffle(matches)
    for m in matches:
        dims = [d.strip() for d in m.group(1).split(",") if d.strip()]
        res = m.group(2)
        toks = list(re.finditer(r"\b(d\d+|\d+)\b", res))
        if not toks:
            continue
        t = toks[int(rng.integers(len(toks)))]
        old = t.group(0)
        if old.startswith("d"):
            others = [d for d in dims if d != old]
            if not others:
                continue
            new = str(rng.choice(others + ["0"]))
        else:
            new = str(rng.choice(["0", "1", "2", "3", "16", "32", "64"]))
        if new == old:
            continue
        new_res = res[: t.start()] + new + res[t.end():]
        new_map = f"affine_map<({m.group(1)}) -> ({new_res})>"
        return text[: m.start()] + new_map + text[m.end():], f"affine map ({res}) -> ({new_res})"
    return None


def change_reassociation(text: str, rng) -> tuple[str, str] | None:
    pattern = r"(?<=tensor\.(?:expand|collapse)_shape )(%[\w.]+) (\[\[[\d, \[\]]*\]\])"

    def repl(m):
        groups = [[int(x) for x in re.findall(r"\d+", g)] for g in re.findall(r"\[([\d, ]*)\]", m.group(2))]
        flat = [i for g in groups for i in g]
        choice = int(rng.integers(3))
        if choice == 0 and len(groups) >= 2:  # move the boundary between two groups
            j = int(rng.integers(len(groups) - 1))
            if len(groups[j + 1]) > 1:
                groups[j].append(groups[j + 1].pop(0))
            elif len(groups[j]) > 1:
                groups[j + 1].insert(0, groups[j].pop())
        elif choice == 1 and len(groups) >= 2:  # merge two groups
            j = int(rng.integers(len(groups) - 1))
            groups[j] += groups.pop(j + 1)
        else:  # a wrong index
            flat[int(rng.integers(len(flat)))] += 1
            it = iter(flat)
            groups = [[next(it) for _ in g] for g in groups]
        new = "[" + ", ".join("[" + ", ".join(map(str, g)) + "]" for g in groups) + "]"
        return f"{m.group(1)} {new}"

    return _replace_match(text, pattern, rng, repl, "reassociation")


def delete_yield_operand(text: str, rng) -> tuple[str, str] | None:
    pattern = r"linalg\.yield ([^:\n]+) : ([^\n]+)"

    def repl(m):
        vals = [v.strip() for v in m.group(1).split(",")]
        types = [t.strip() for t in m.group(2).split(",")]
        j = int(rng.integers(len(vals)))
        del vals[j], types[j]
        return f"linalg.yield {', '.join(vals)} : {', '.join(types)}" if vals else "linalg.yield"

    return _replace_match(text, pattern, rng, repl, "yield")


def change_dimension(text: str, rng) -> tuple[str, str] | None:
    pattern = r"(?<=tensor<)([\dx?]+)(?=x[a-z])"

    def repl(m):
        dims = m.group(1).split("x")
        j = int(rng.integers(len(dims)))
        if dims[j] == "?":
            return None
        d = int(dims[j])
        dims[j] = str(rng.choice([max(d - 1, 0), d + 1, d * 2, 1, 0, "?"]))
        return "x".join(dims)

    return _replace_match(text, pattern, rng, repl, "dimension")


def flip_iterator(text: str, rng) -> tuple[str, str] | None:
    return _replace_match(text, r'"(parallel|reduction)"', rng,
                          lambda m: '"reduction"' if m.group(1) == "parallel" else '"parallel"', "iterator")


_SIBLINGS = [
    ("arith.sitofp", "arith.uitofp"), ("arith.extsi", "arith.extui"), ("arith.subf", "arith.addf"),
    ("arith.mulf", "arith.addf"), ("arith.subi", "arith.addi"), ("arith.mulf", "arith.divf"),
    ("arith.extf", "arith.truncf"), ("arith.maximumf", "arith.minimumf"),
]


def swap_arith_op(text: str, rng) -> tuple[str, str] | None:
    names = sorted({n for pair in _SIBLINGS for n in pair})
    pattern = r"\b(" + "|".join(re.escape(n) for n in names) + r")\b"

    def repl(m):
        sibs = [b if a == m.group(1) else a for a, b in _SIBLINGS if m.group(1) in (a, b)]
        return str(rng.choice(sibs))

    return _replace_match(text, pattern, rng, repl, "op")


MUTATIONS: dict[str, Mutation] = {
    "drop_op_replace": drop_op_replace,
    "drop_op_dangling": drop_op_dangling,
    "swap_operands": swap_operands,
    "change_element_type": change_element_type,
    "change_constant": change_constant,
    "change_affine_map": change_affine_map,
    "change_reassociation": change_reassociation,
    "delete_yield_operand": delete_yield_operand,
    "change_dimension": change_dimension,
    "flip_iterator": flip_iterator,
    "swap_arith_op": swap_arith_op,
}


def mutate(text: str, rng: np.random.Generator, kind: str | None = None) -> tuple[str, str, str] | None:
    """(mutated text, mutation kind, description), trying kinds in random order until one applies."""
    kinds = [kind] if kind else list(rng.permutation(sorted(MUTATIONS)))
    for k in kinds:
        try:
            got = MUTATIONS[str(k)](text, rng)
        except Exception:  # noqa: BLE001 - the mutator itself could not print the IR: try another
            got = None
        if got is not None:
            return got[0], str(k), got[1]
    return None


# ------------------------------------------------------------------------------------- checking


@dataclass
class MutantOutcome:
    status: str  # diagnostic | same | loose | unchecked | crash
    detail: str = ""


def _call(main, argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


_CLEAN_ERROR = re.compile(r"^(\S.*?:\d+:\d+: error: \S.*|mixpe-opt: error: \S.*)$")


def clean_diagnostic(rc: int, stderr: str) -> str | None:
    """None if (rc, stderr) is a clean failure: non-zero exit, last line an error, no traceback.
    Otherwise what is wrong."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if rc == 0:
        return "exit 0"
    if not lines:
        return f"exit {rc} with no message"
    if "Traceback" in stderr:
        return "a Python traceback"
    if "internal error" in stderr:
        return f"internal error: {lines[-1]}"
    errors = [ln for ln in lines if ": error: " in ln]
    if len(errors) != 1 or not _CLEAN_ERROR.match(lines[-1]):
        return f"not one clean error line: {lines[-3:]}"
    return None


def random_args(func_type, rng: np.random.Generator) -> list[np.ndarray]:
    """Inputs of the right types: small non-negative integers (fitting 4-bit weights either
    way) and modest floats."""
    args = []
    for t in func_type.inputs.data:
        if not isinstance(t, TensorType):
            raise ValueError(f"non-tensor argument {t}")
        shape = tuple(t.get_shape())
        if any(d < 0 for d in shape):
            raise ValueError("dynamic shape argument")
        name = dtype_name(t)
        np_t = to_numpy(name)
        if name == "i1":
            args.append(rng.integers(0, 2, size=shape).astype(bool))
        elif name.startswith("i") or name.startswith("ui"):
            args.append(rng.integers(0, 8, size=shape).astype(np_t))
        else:
            args.append((rng.standard_normal(shape) * 0.5).astype(np_t))
    return args


def _same_results(got: dict, want: list[np.ndarray]) -> str | None:
    for i, w in enumerate(want):
        g = got[f"result{i}"]
        if g.shape != w.shape or g.dtype != w.dtype:
            return f"result{i}: {g.dtype}{list(g.shape)} vs evaluated {w.dtype}{list(w.shape)}"
        if not is_float(w.dtype):
            if not np.array_equal(g, w):
                return f"result{i}: integer results differ"
            continue
        g64, w64 = g.astype(np.float64), w.astype(np.float64)
        if not np.array_equal(np.isnan(g64), np.isnan(w64)):
            return f"result{i}: NaN in different places"
        fin = np.isfinite(w64) & np.isfinite(g64)
        if not np.array_equal(np.isinf(g64) & ~np.isfinite(w64) & ~np.isnan(w64), np.isinf(w64) & ~np.isnan(w64)):
            # an inf on one side only: allowed only if the other side is at the type's edge
            big = np.finfo(w.dtype).max if w.dtype.kind == "f" else float(np.finfo(np.float32).max)
            one_sided = np.isinf(g64) ^ np.isinf(w64)
            if np.any(np.minimum(np.abs(np.where(one_sided, g64, 0)), np.abs(np.where(one_sided, w64, 0))) < big / 4):
                return f"result{i}: inf on one side only"
        if not fin.any():
            continue
        ulp = {2: 2.0**-10, 4: 2.0**-23}.get(w.dtype.itemsize, 2.0**-52)
        if str(w.dtype) == "bfloat16":
            ulp = 2.0**-7
        scale = np.abs(w64[fin]).max() + np.abs(g64[fin]).max() + 1e-30
        atol = 16 * ulp * scale
        diff = np.abs(g64[fin] - w64[fin]).max()
        if diff > atol:
            return f"result{i}: max |sim - eval| {diff:.3g} > {atol:.3g}"
    return None


def check_mutant(text: str, args: list[np.ndarray] | None, rng: np.random.Generator,
                 workdir: str | None = None) -> MutantOutcome:
    """Compile `text` with the real mixpe-opt and classify the outcome (see the module docs)."""
    try:
        if workdir is None:
            with tempfile.TemporaryDirectory(prefix="mixpe-mut-") as d:
                return _check(text, args, rng, d)
        return _check(text, args, rng, workdir)
    except Exception:  # noqa: BLE001
        return MutantOutcome("crash", "harness: " + traceback.format_exc(limit=6))


def _check(text: str, args, rng, workdir: str) -> MutantOutcome:
    src = os.path.join(workdir, "mutant.mlir")
    prog = os.path.join(workdir, "prog.json")
    with open(src, "w") as f:
        f.write(text)
    if os.path.exists(prog):
        os.unlink(prog)
    rc, _, err = _call(mixpe_opt.main, [src, "-p", "mixpe-pipeline{weight-bits=4}", "-t", "mixpe-sim", "-o", prog])
    if rc != 0:
        why = clean_diagnostic(rc, err)
        if why:
            return MutantOutcome("crash", f"dirty failure ({why}):\n{err}")
        return MutantOutcome("diagnostic", err.splitlines()[-1])
    if "Traceback" in err or "internal error" in err:
        return MutantOutcome("crash", f"exit 0 but stderr says:\n{err}")
    return _compare(text, prog, args, rng)


def _compare(text: str, prog_path: str, args, rng) -> MutantOutcome:
    mixpe_ops.register()
    module = driver.parse(text)  # mixpe-opt verified it: this must succeed
    funcs = [op for op in module.walk() if isinstance(op, func.FuncOp) and op.body.blocks]
    with open(prog_path) as f:
        program = parse_program(json.load(f))
    entry = program.function
    fn = next((f for f in funcs if f.sym_name.data == entry), funcs[0] if len(funcs) == 1 else None)
    if fn is None:
        return MutantOutcome("unchecked", "cannot tell which function was compiled")
    ftype = fn.function_type
    if args is None or len(args) != len(ftype.inputs.data) or any(
            not isinstance(t, ShapedType) or tuple(a.shape) != tuple(t.get_shape())
            for a, t in zip(args, ftype.inputs.data)):
        try:
            args = random_args(ftype, rng)
        except ValueError as e:
            return MutantOutcome("unchecked", f"no inputs: {e}")
    eval_error = sim_error = None
    want = got = None
    try:
        want = evaluate(module, args, entry=fn.sym_name.data)
    except (EvaluationError, ValueError) as e:
        eval_error = e
    try:
        got = run_program(program, None, {f"arg{i}": a for i, a in enumerate(args)}).outputs
    except (SimulationError, ValueError) as e:
        sim_error = e
    if want is None and got is None:
        return MutantOutcome("same", f"both refuse the inputs: {sim_error}")
    if want is None:
        if isinstance(eval_error, EvaluationError):
            return MutantOutcome("unchecked", f"evaluator: {eval_error}")
        return MutantOutcome("crash", f"evaluator refuses inputs the simulator ran: {eval_error}")
    if got is None:
        if "outside the" in str(sim_error) or "overflows" in str(sim_error) or "not ±2^p" in str(sim_error):
            return MutantOutcome("same", f"simulator refuses the inputs: {sim_error}")
        return MutantOutcome("crash", f"simulator refuses inputs the evaluator ran: {sim_error}")
    why = _same_results(got, want)
    if why is None:
        return MutantOutcome("same")
    # The tolerance is a few ulps of the largest result; a mutation can amplify the documented
    # rounding difference (mixpe does not round dequantized weights to f16) without bound, e.g.
    # `silu(g) * u` -> `silu(g) / u`. Then the compiled module itself must match the simulator
    # bit for bit (backend and simulator exact), and the outcome is `loose`, not a crash.
    compiled = driver.compile_module(driver.parse(text), driver.CompileOptions(weight_bits=4))
    mine = evaluate(compiled, args, entry=fn.sym_name.data)
    exact = all(np.array_equal(np.asarray(got[f"result{i}"]).view(np.uint8), np.asarray(m).view(np.uint8))
                for i, m in enumerate(mine))
    if exact:
        return MutantOutcome("loose", f"frontend vs compiled: {why}; compiled module == simulator exactly")
    return MutantOutcome("crash", f"numerics changed: {why}")
