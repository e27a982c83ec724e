"""Compile-and-simulate every distinct GEMM of an evaluation, once, on any executor.

Each distinct (design, shape, precision) becomes one `Task`: frontend linalg MLIR from
`linalg_emit`, compiled by `driver` for the design's hardware, simulated cost-only by
`run_program`. Models reuse the results for every occurrence, so a 32-layer model costs
what one layer does. Tasks are plain picklable data and `simulate` a module-level
function, so the same code runs on a process pool, Dask or Ray.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import hashlib
import io
import multiprocessing.util
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from mixpe.eval.models import Model
from mixpe.eval.workload import LayerSpec, Precision, Preset, Workload
from mixpe.frontend.linalg_emit import LinearSpec, MatmulSpec, emit, emit_matmul
from mixpe.hw import load_hardware
from mixpe.simulator.execute import run_program

_ARRAY_OPS = ("group_psum", "bitplane_psum", "shift_psum", "mpgemm")
EXECUTORS = ("process", "ray", "dask")
ENERGY_CATEGORIES = ("pe", "sram", "dram", "vector", "leakage", "static")  # cost.Energy.by_category


def precision_of(hw) -> Precision:
    """The hardware file's [workload]: A8 designs get i8 activations (A4, the paper's tag, i4),
    wider ones f16; weights wider than the 8-bit storage frontends use are unquantized."""
    w = hw.defaults
    act = "i4" if w.act_bits <= 4 else "i8" if w.act_bits <= 8 else "f16"
    if not w.group_size or w.weight_bits > 8:
        return Precision(PLAIN_BITS[act], act, 0)  # a plain matmul: both operands in `act`
    return Precision(w.weight_bits, act, w.group_size)


PLAIN_BITS = {"i4": 4, "i8": 8, "f16": 16}  # operand width of a plain `act` x `act` matmul


@dataclass(frozen=True)
class Design:
    """A design as evaluated: `hw` is a preset name or a TOML path; `toml` carries the text of
    a generated variant (sweeps): `hw` is then its file in the output folder, and a worker
    that cannot read that file writes the text to a temp file of its own."""

    label: str
    hw: str
    precision: Precision
    toml: str | None = None
    base: str | None = None  # the preset a variant was derived from
    point: tuple[tuple[str, str], ...] = ()  # sweep overrides applied
    act: str | None = None  # --act-bits / act=: every layer's activation type (tags included)
    note: str = ""  # what this variant changes, for reports (--compare-paper steps)


@dataclass(frozen=True)
class Task:
    design: Design
    kind: str  # linear | attention
    m: int
    k: int
    n: int
    mode: str
    precision: Precision

    @classmethod
    def of(cls, design: Design, layer: LayerSpec, mode: str) -> Task:
        p = layer.precision or design.precision
        if design.act is not None and p.act != design.act:  # what-if activation width
            p = Precision(p.weight_bits, design.act, p.group)
        if layer.kind == "attention" and layer.precision is None:  # activations x activations
            p = Precision(PLAIN_BITS[p.act], p.act, 0)  # at the design's activation width
        return cls(design, layer.kind, layer.m, layer.k, layer.n, mode, p)

    def key(self) -> tuple:
        """Cache key: same hardware content, shape and precision -> same result (a generated
        variant is keyed by its text, so identical variants of different steps or assumption
        sides are compiled once)."""
        return (hw_digest(self.design.hw, self.design.toml), self.precision, self.kind,
                self.m, self.k, self.n, self.mode)

    def mlir(self) -> str:
        p = self.precision
        if not p.group:
            return emit_matmul(MatmulSpec(self.m, self.k, self.n, p.act))
        if self.k % p.group:
            raise ValueError(f"group size {p.group} does not divide K={self.k} ({self.design.label})")
        # GPTQ convention: unsigned N-bit values in i8 storage with integer zero points, HF
        # Linear [N,K] layout; i8 activations need the generic form (LinearSpec docs)
        return emit(LinearSpec(
            m=self.m, k=self.k, n=self.n, group=p.group, bits=p.weight_bits, signed=False,
            zp_mode="original", layout="nk", act=p.act, style="torch" if p.act == "f16" else "generic"))


@functools.lru_cache(maxsize=None)
def hw_digest(hw: str, toml: str | None) -> str:
    """What a design's hardware is, for the cache: its merged table's values (sources, name and
    description left out), so variants that change no figure share their results."""
    import json
    import tomllib

    from mixpe.hw import read_table

    data = tomllib.loads(toml) if toml is not None else read_table(hw)

    def strip(v):
        if isinstance(v, dict):
            if "value" in v and "source" in v:
                return v["value"]
            return {k: strip(x) for k, x in v.items()}
        return v

    plain = {k: strip(v) for k, v in data.items() if k not in ("name", "description", "base")}
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def _hw_ref(hw: str, toml: str | None) -> str:
    """The hardware argument for the compiler: the preset/path, or a file in this process's
    private temp folder (mode 0700, made by `tempfile`, removed at exit): never a predictable
    name in the shared temp folder, which another user could pre-create as a symlink."""
    if toml is None or (os.path.isfile(hw) and open(hw).read() == toml):
        return hw
    digest = hashlib.sha256(toml.encode()).hexdigest()[:16]
    path = os.path.join(_private_dir(), f"{digest}.toml")
    with open(path, "x") as f:
        f.write(toml)
    return path


@functools.cache
def _private_dir() -> str:
    path = tempfile.mkdtemp(prefix="mixpe-eval-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    # pool and Dask workers leave through os._exit, which skips atexit: multiprocessing runs its
    # own exit finalizers there
    multiprocessing.util.Finalize(None, shutil.rmtree, args=(path,), kwargs={"ignore_errors": True},
                                  exitpriority=0)
    return path


@functools.lru_cache(maxsize=None)
def _load(ref: str):
    return load_hardware(ref)


def simulate(task: Task) -> dict:
    """Worker: emit, compile for the design's hardware, simulate cost-only, summarise."""
    from mixpe import driver  # xDSL (~0.3 s): only compiling needs it, not `--models list` or reports

    ref = _hw_ref(task.design.hw, task.design.toml)
    hw = _load(ref)
    p = task.precision
    t0 = time.perf_counter()
    text = task.mlir()
    remarks = io.StringIO()
    with contextlib.redirect_stderr(remarks):
        program = driver.compile_to_program(
            text, driver.CompileOptions(hw=ref, weight_bits=p.weight_bits if p.group else None),
            filename=f"{task.kind}-{task.m}x{task.k}x{task.n}")
    t1 = time.perf_counter()
    result = run_program(program, hw, mode=task.mode)
    t2 = time.perf_counter()
    d = result.to_dict()
    tot = d["totals"]
    counts = result.total.counts
    ops = [i["op"] for i in d["instructions"]]
    return {
        "hardware": hw.name, "hw_path": hw.path,
        "cycles": tot["cycles"], "time_us": tot["time_us"],
        "energy_pj": {k: float(v) for k, v in tot["energy_pj"].items()},
        "macs": result.total.macs, "ideal_cycles": result.total.ideal_compute,
        "dram_bits": counts.dram_read_bits + counts.dram_write_bits,
        "bound": tot["roofline_bound"], "roofline_cycles": tot["roofline_cycles"],
        "bandwidth_bits_per_cycle": hw.dram.bandwidth_bits_per_cycle,
        "raised": any(op in _ARRAY_OPS for op in ops), "ops": ops,
        "notes": list(result.notes),
        "remarks": [ln for ln in remarks.getvalue().splitlines()
                    if ln.strip() and not (not p.group and "not raised" in ln)],
        "compile_s": t1 - t0, "simulate_s": t2 - t1,
    }


# ------------------------------------------------------------------------------- executors


class _Serial:
    """In-process, for --jobs 1 (and tests): no worker start-up, easy to profile."""

    def submit(self, fn, *args) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args))
        except Exception as e:  # noqa: BLE001 - delivered through the future, as a pool would
            f.set_exception(e)
        return f

    def shutdown(self, cancel: bool = False) -> None:
        pass


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent(parent: int) -> None:
    """Process-pool worker initializer: the worker dies with mixpe-eval, even when mixpe-eval
    is killed by SIGKILL and cannot clean up (before, orphaned workers waited for work forever).

    On Linux, prctl(PR_SET_PDEATHSIG, SIGKILL) has the kernel kill the worker when the thread
    that started it exits (the pool starts workers from the submitting thread, mixpe-eval's
    main thread; with the forkserver start method that is the forkserver, which exits with
    mixpe-eval). A parent that died before the prctl is caught by looking at it afterwards.
    SIGTERM is reset to the default (a forked worker inherits the parent's handler, which
    raises SystemExit: the pool would deliver that as a task's result and keep the worker) and
    SIGINT ignored (Ctrl-C reaches the whole process group; the parent stops the pool)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl (unusual libc): workers end with the pool only
        return
    if not _alive(parent):
        os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:  # a zombie has exited: "pid (comm) Z ..."
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal or no /proc: assume alive
        return True


class _Processes:
    """A local process pool whose workers never outlive mixpe-eval: `_die_with_parent` covers
    SIGKILL, and `shutdown(cancel=True)` (an exception or SIGTERM in mixpe-eval) drops the
    queued tasks and kills the workers instead of waiting for the running ones."""

    def __init__(self, jobs: int):
        self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=_die_with_parent, initargs=(os.getpid(),))

    def submit(self, fn, *args) -> Future:
        return self.pool.submit(fn, *args)

    def shutdown(self, cancel: bool = False) -> None:
        if not cancel:
            self.pool.shutdown(wait=True)
            return
        # the workers, before shutdown forgets them (`_processes` is the only handle on them
        # before Python 3.14's kill_workers(); a worker holds nothing that needs cleaning up)
        workers = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for w in workers:
            with contextlib.suppress(OSError, ValueError):
                w.kill()
        deadline = time.monotonic() + 5
        for w in workers:
            with contextlib.suppress(ValueError):
                w.join(max(0.0, deadline - time.monotonic()))


class _Ray:
    """Ray tasks; `ObjectRef.future()` gives the concurrent.futures interface. Without an
    address a local Ray node is started for this run (dashboard off) and stopped after it."""

    def __init__(self, jobs: int, address: str | None):
        import ray  # pyright: ignore[reportMissingImports]  # optional executor, not a dependency

        self.ray = ray
        self.started = not ray.is_initialized() and not address
        if not ray.is_initialized():
            extra = {} if address else {"include_dashboard": False}
            ray.init(address=address, num_cpus=None if address else jobs, ignore_reinit_error=True,
                     log_to_driver=False, **extra)
        self.remote = ray.remote(simulate)
        self.refs: list = []

    def submit(self, fn, *args) -> Future:
        assert fn is simulate
        ref = self.remote.remote(*args)
        self.refs.append(ref)
        return ref.future()

    def shutdown(self, cancel: bool = False) -> None:
        if cancel:
            for ref in self.refs:
                with contextlib.suppress(Exception):  # finished tasks cannot be cancelled
                    self.ray.cancel(ref, force=True)
        if self.started:  # a user's cluster outlives the run; the local node ends with it
            self.ray.shutdown()


class _Dask:
    """dask.distributed's own concurrent.futures executor (`Client.get_executor()`). Without an
    address, a `LocalCluster` of `jobs` worker processes, scheduler and workers listening on
    127.0.0.1 only, no dashboard, closed with the run (also on SIGTERM, via `shutdown`)."""

    def __init__(self, jobs: int, address: str | None):
        from distributed import Client, LocalCluster

        self.cluster = None if address else LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None)  # pyright: ignore[reportArgumentType]  # None: no dashboard (annotated str)
        self.client = Client(address) if address else Client(self.cluster)
        self.executor = self.client.get_executor()

    def submit(self, fn, *args) -> Future:
        return self.executor.submit(fn, *args)

    def shutdown(self, cancel: bool = False) -> None:
        try:
            self.executor.shutdown(wait=not cancel)  # wait=False cancels the pending futures
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


_PACKAGES = {"ray": "ray", "dask": "distributed"}


def make_executor(kind: str, jobs: int, address: str | None = None):
    """`process` (default, local), `ray` or `dask`, the latter imported only when asked for.
    Every executor has `submit(fn, *args) -> Future` and `shutdown(cancel=False)`; after a
    failure or SIGTERM, `shutdown(cancel=True)` drops the queued tasks and stops local workers."""
    if kind not in EXECUTORS:
        raise ValueError(f"unknown executor '{kind}' (known: {', '.join(EXECUTORS)})")
    if kind == "process":
        return _Serial() if jobs <= 1 else _Processes(jobs)
    try:
        return _Ray(jobs, address) if kind == "ray" else _Dask(jobs, address)
    except ImportError as e:
        pkg = _PACKAGES[kind]
        raise ExecutorUnavailable(
            f"--executor {kind}: cannot import {e.name or pkg} (pip install {pkg!r})") from None


class ExecutorUnavailable(ValueError):
    pass


def run_tasks(tasks: list[Task], executor, progress=None) -> dict[tuple, dict]:
    """Results by task key; `progress` is called once per finished task."""
    futures = {executor.submit(simulate, t): t for t in tasks}
    out = {}
    for f in as_completed(futures):
        t = futures[f]
        try:
            out[t.key()] = f.result()
        except Exception as e:
            raise TaskFailed(f"{t.design.label} {t.kind} M={t.m} K={t.k} N={t.n}: {e}",
                             user=isinstance(e, ValueError)) from e
        if progress:
            progress()
    return out


class TaskFailed(ValueError):
    """A task that could not be compiled or simulated; `user` when its cause is a bad request
    (a ValueError: a group size that does not divide K, hardware that cannot run the layer),
    so the tool reports it as a user error (exit 1), not an internal one."""

    def __init__(self, message: str, *, user: bool = False):
        super().__init__(message)
        self.user = user


# ------------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    preset: str
    mode: str
    workloads: list[Workload]
    models: list[Model]
    designs: list[Design]
    attention: bool
    layers: list[dict]  # one row per (workload, model, design, layer)
    totals: list[dict]  # one row per (workload, model, design)
    distinct: int  # compiled tasks
    occurrences: int  # GEMM executions they stand for
    instances: int  # (workload, model, design, layer) rows
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    compiled: int = 0  # tasks run by this evaluation (the others came from a shared cache)


def plan(preset: Preset, models: list[Model], designs: list[Design], workloads: list[Workload],
         attention: bool) -> list[tuple[Workload, Model, Design, LayerSpec, Task]]:
    return [
        (wl, model, design, layer, Task.of(design, layer, preset.mode))
        for wl in workloads for model in models for design in designs
        for layer in preset.layers_of(model, wl, attention, design.base or design.label)
    ]


def evaluate(preset: Preset, models: list[Model], designs: list[Design], workloads: list[Workload],
             attention: bool, executor, progress_factory=None, cache: dict | None = None) -> Evaluation:
    """Plan every GEMM, simulate each distinct task once, and aggregate per model. `cache`
    (task key -> result) is shared between evaluations (--compare-paper steps, assumption
    sides): a task already in it is not run again, so only tasks whose hardware changed are."""
    start = time.perf_counter()
    items = plan(preset, models, designs, workloads, attention)
    unique: dict[tuple, Task] = {}
    for *_, task in items:
        unique.setdefault(task.key(), task)
    cache = {} if cache is None else cache
    # biggest GEMMs first: they take longest, so the pool ends evenly
    tasks = sorted((t for k, t in unique.items() if k not in cache), key=lambda t: -t.m * t.k * t.n)
    bar = progress_factory(len(tasks)) if progress_factory and tasks else None
    try:
        cache.update(run_tasks(tasks, executor, bar.update if bar else None))
    finally:
        if bar:
            bar.close()
    results = {k: cache[k] for k in unique}
    layers = [_layer_row(wl, model, design, layer, task.precision, results[task.key()])
              for wl, model, design, layer, task in items]
    ev = Evaluation(
        preset=preset.name, mode=preset.mode, workloads=workloads, models=models, designs=designs,
        attention=attention, layers=layers, totals=_totals(layers), distinct=len(unique),
        occurrences=sum(layer.count for _, _, _, layer, _ in items), instances=len(items))
    ev.compiled = len(tasks)
    ev.notes = _notes(results.values())
    present = {(wl.name, m.key) for wl, m, *_ in items}
    skipped = [f"{m.name} {wl.name}" for wl in workloads for m in models if (wl.name, m.key) not in present]
    if skipped:
        ev.notes.insert(0, f"no GEMMs (skipped): {', '.join(skipped)} (encoder models have no decode phase)")
    ev.workloads = [wl for wl in workloads if any(w == wl.name for w, _ in present)]
    ev.seconds = time.perf_counter() - start
    return ev


def _layer_row(wl: Workload, model: Model, design: Design, layer: LayerSpec, p: Precision, r: dict) -> dict:
    c = layer.count
    energy = sum(r["energy_pj"].values())
    return {
        "workload": wl.name, "model": model.key, "design": design.label,
        "hardware": design.label if design.toml is not None else r["hardware"],
        "layer": layer.name, "kind": layer.kind, "M": layer.m, "K": layer.k, "N": layer.n,
        "count": c, "precision": p.label, "quantized": bool(p.group),
        "raised": r["raised"], "bound": r["bound"],
        "cycles": r["cycles"]["total"], "time_us": r["time_us"], "energy_pj": energy,
        "total_cycles": c * r["cycles"]["total"], "total_time_us": c * r["time_us"],
        "total_energy_pj": c * energy,
        **{f"energy_{k}_pj": c * r["energy_pj"].get(k, 0.0) for k in ENERGY_CATEGORIES},
        "macs": r["macs"], "ideal_cycles": r["ideal_cycles"], "dram_bits": r["dram_bits"],
        "bandwidth_bits_per_cycle": r["bandwidth_bits_per_cycle"],
        "compile_s": r["compile_s"], "simulate_s": r["simulate_s"],
    }


def _totals(layers: list[dict]) -> list[dict]:
    groups: dict[tuple, dict] = {}
    for row in layers:
        key = (row["workload"], row["model"], row["design"])
        g = groups.setdefault(key, {
            "workload": row["workload"], "model": row["model"], "design": row["design"],
            "hardware": row["hardware"], "linear_time_us": 0.0, "attention_time_us": 0.0,
            "time_us": 0.0, "energy_pj": 0.0, "linear_energy_pj": 0.0, "attention_energy_pj": 0.0,
            "cycles": 0, "macs": 0, "gemms": 0})
        g[f"{row['kind']}_time_us"] += row["total_time_us"]
        g[f"{row['kind']}_energy_pj"] += row["total_energy_pj"]
        g["time_us"] += row["total_time_us"]
        g["energy_pj"] += row["total_energy_pj"]
        g["cycles"] += row["total_cycles"]
        g["macs"] += row["count"] * row["macs"]
        g["gemms"] += row["count"]
        for c in ENERGY_CATEGORIES:
            g[f"energy_{c}_pj"] = g.get(f"energy_{c}_pj", 0.0) + row[f"energy_{c}_pj"]
    return list(groups.values())


def _notes(results) -> list[str]:
    """Simulator notes and compiler remarks, without their per-module locations, deduplicated."""
    import re

    seen: dict[str, None] = {}
    for r in results:
        for line in (*r["notes"], *r["remarks"]):
            line = re.sub(r"^\S+:\d+:\d+: ", "", line)  # remark location: the emitted module's
            seen.setdefault(re.sub(r"^instruction \d+ \([^)]*\): ", "", line))
    return list(seen)
