"""mixpe-eval's workers never outlive it (issue #14).

Runs `python -m mixpe.tools.mixpe_eval --jobs 2` as a subprocess on a workload that takes
several seconds, waits until its workers exist, then
- SIGTERM: it stops the pool and removes the --out folder it created, exits non-zero
  within seconds, and leaves no child process and no temp file behind;
- SIGKILL: it cannot clean up, but its workers die with it (PR_SET_PDEATHSIG).
Linux only: children are found through /proc.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds children through /proc")

# ~7 s with 2 workers on a 2-core machine (574 distinct layers): still running after 2 s
WORKLOAD = ["--tokens", "prefill=64,prefill=128,prefill=256,decode=1,decode=8", "--attention",
            "--no-plots", "--quiet"]


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for f in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            out |= {int(x) for x in open(f).read().split()}
        except OSError:  # the thread ended meanwhile
            pass
    return out


def _alive(pid: int) -> bool:
    """Exists and is not a zombie (a dead orphan may stay a zombie where pid 1 does not reap)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _wait(cond, timeout: float, step: float = 0.02) -> float:
    """Seconds until cond() held, or -1 after `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return time.monotonic() - t0
        time.sleep(step)
    return -1.0


class Run:
    """A mixpe-eval subprocess writing into `tmp/runs/out`."""

    def __init__(self, tmp_path, *extra: str):
        self.parent = tmp_path / "runs"
        self.parent.mkdir()
        self.out = self.parent / "out"
        self.log = tmp_path / "stderr.log"
        self.tmp_before = set(os.listdir(tempfile.gettempdir()))
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mixpe.tools.mixpe_eval", *WORKLOAD, "--jobs", "2", *extra,
                 "--out", str(self.out)],
                stdout=subprocess.DEVNULL, stderr=err, cwd=tmp_path)
        self.workers: set[int] = set()

    def wait_for_workers(self, n: int = 2, settle: float = 1.0) -> None:
        """Until `n` children exist, then `settle` s more so tasks are running."""
        found = _wait(lambda: len(_children(self.proc.pid)) >= n or self.proc.poll() is not None, 20)
        assert found >= 0 and self.proc.poll() is None, self.stderr()
        time.sleep(settle)
        self.workers = _children(self.proc.pid)
        assert self.proc.poll() is None, f"finished before the signal; make WORKLOAD longer\n{self.stderr()}"
        assert len(self.workers) >= n and self.out.is_dir()

    def stderr(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def new_temp_files(self) -> list[str]:
        new = set(os.listdir(tempfile.gettempdir())) - self.tmp_before
        pid = str(self.proc.pid)
        return sorted(n for n in new if pid in n or n.lstrip(".").startswith("mixpe"))

    def cleanup(self) -> None:
        """A failed test must not leave processes behind either."""
        for pid in (self.proc.pid, *self.workers):
            if _alive(pid):
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                except OSError:
                    continue
                if b"python" in cmd:  # still ours, not a reused pid
                    os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(5)


@pytest.fixture
def run(tmp_path):
    runs: list[Run] = []

    def start(*extra: str) -> Run:
        r = Run(tmp_path, *extra)
        runs.append(r)
        return r

    yield start
    for r in runs:
        r.cleanup()


def test_sigterm_stops_workers_and_removes_out(run):
    r = run()
    r.wait_for_workers()
    t0 = time.monotonic()
    r.proc.send_signal(signal.SIGTERM)
    rc = r.proc.wait(10)
    exited = time.monotonic() - t0
    gone = _wait(lambda: not any(_alive(w) for w in r.workers), 2)
    print(f"SIGTERM: exit {rc} after {exited:.2f} s; workers {sorted(r.workers)} gone after "
          f"{time.monotonic() - t0:.2f} s")
    assert rc == 128 + signal.SIGTERM, r.stderr()
    assert exited < 5
    assert gone >= 0, [w for w in r.workers if _alive(w)]
    assert not r.out.exists()  # it created the folder: a terminated run removes it
    assert os.listdir(r.parent) == []  # no atomic-write temp files beside it either
    assert r.new_temp_files() == []
    assert "Traceback" not in r.stderr()


def test_sigkill_workers_die_with_it(run):
    r = run()
    r.wait_for_workers()
    t0 = time.monotonic()
    r.proc.send_signal(signal.SIGKILL)
    assert r.proc.wait(5) == -signal.SIGKILL
    gone = _wait(lambda: not any(_alive(w) for w in r.workers), 10)
    print(f"SIGKILL: workers {sorted(r.workers)} gone after {time.monotonic() - t0:.2f} s")
    assert gone >= 0, f"orphaned workers still running: {[w for w in r.workers if _alive(w)]}"


def test_sigterm_closes_local_dask_cluster(run):
    pytest.importorskip("distributed")
    r = run("--executor", "dask")
    r.wait_for_workers(settle=3.0)  # the cluster starts, then its workers take tasks
    t0 = time.monotonic()
    r.proc.send_signal(signal.SIGTERM)
    rc = r.proc.wait(15)
    exited = time.monotonic() - t0
    gone = _wait(lambda: not any(_alive(w) for w in r.workers), 5)
    print(f"SIGTERM (dask): exit {rc} after {exited:.2f} s; children {sorted(r.workers)} gone after "
          f"{time.monotonic() - t0:.2f} s")
    assert rc == 128 + signal.SIGTERM, r.stderr()
    assert gone >= 0, [w for w in r.workers if _alive(w)]
    assert not r.out.exists() and os.listdir(r.parent) == []
