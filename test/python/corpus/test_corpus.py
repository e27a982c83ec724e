"""The bad-input corpus (test/corpus/cases.toml): every bad input ends in one clear line.

Each case runs one tool as a subprocess and passes only when: the exit code is the expected
one; stderr, without the remark lines the case expects, is exactly one line matching the
case's regex (or nothing, when the case expects none); a `file:line:col` location is there
when the case says so; no `Traceback` appears anywhere; and the run left no file behind in
its scratch folder except the ones the case names (so no half-written output, no temp file).
Cases run in parallel (2 workers) once per session; each case is then its own test.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "test" / "corpus"
INPUTS = ROOT / "test" / "inputs"
TOOLS = {"mixpe-opt": "mixpe_opt", "mixpe-sim": "mixpe_sim", "mixpe-run": "mixpe_run", "mixpe-eval": "mixpe_eval"}
CATEGORIES = {"mlir", "mixpe-op", "frontend", "hardware", "program", "npz", "cli"}
KEYS = {"id", "tool", "category", "argv", "exit", "stderr", "location", "remark", "stdout",
        "same_as", "absent", "created", "why"}
LOCATION = re.compile(r"[^\s:()]+:\d+:\d+\b")
REMARK = re.compile(r"^\S+:\d+:\d+: remark: ")
TIMEOUT = 60  # a hang is a failure


def load_cases() -> list[dict]:
    data = tomllib.loads((CORPUS / "cases.toml").read_text())
    return data["case"]


CASES = load_cases()


@dataclasses.dataclass
class Outcome:
    case: dict
    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    new_files: list[str]
    tmp: Path
    seconds: float
    reference: str | None = None  # stdout of the `same_as` command


def expand(text: str, tmp: Path) -> str:
    return text.replace("{dir}", str(CORPUS)).replace("{tmp}", str(tmp)).replace("{inputs}", str(INPUTS))


def command(tool: str, args: list[str]) -> list[str]:
    return [sys.executable, "-m", f"mixpe.tools.{TOOLS[tool]}", *args]


def run_tool(argv: list[str], cwd: Path) -> tuple[int | None, str, str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace"), (e.stderr or b"").decode(errors="replace")
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def run_case(case: dict, scratch: Path) -> Outcome:
    tmp = scratch / case["id"]
    tmp.mkdir()
    argv = command(case["tool"], [expand(a, tmp) for a in case["argv"]])
    start = time.monotonic()
    code, out, err = run_tool(argv, tmp)
    seconds = time.monotonic() - start
    new = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*"))
    reference = None
    if "same_as" in case:  # e.g. a declined pass must print the input's plain round trip
        ref_argv = command(case["tool"], [expand(a, tmp) for a in case["same_as"]])
        _, reference, _ = run_tool(ref_argv, scratch)
    return Outcome(case, argv, code, out, err, new, tmp, seconds, reference)


@pytest.fixture(scope="session")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    scratch = tmp_path_factory.mktemp("corpus")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: run_case(c, scratch), CASES))
    logs = tmp_path_factory.mktemp("corpus-logs")
    for r in results:  # each case's combined output, for the grep below
        (logs / f"{r.case['id']}.log").write_text(
            f"$ {' '.join(r.argv)}\nexit {r.returncode} ({r.seconds:.2f} s)\n"
            f"--- stdout\n{r.stdout}--- stderr\n{r.stderr}")
    return {r.case["id"]: r for r in results} | {"__logs__": logs}


def test_corpus_is_well_formed():
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids), "duplicate case ids"
    for c in CASES:
        assert set(c) <= KEYS, f"{c['id']}: unknown keys {set(c) - KEYS}"
        assert c["tool"] in TOOLS, c["id"]
        assert c["category"] in CATEGORIES, c["id"]
        assert re.fullmatch(r"[a-z0-9-]+", c["id"]), c["id"]
        assert c.get("exit", 1) == 0 or "stderr" in c, f"{c['id']}: an error case needs a stderr regex"
        re.compile(c.get("stderr", ""))
    assert {c["tool"] for c in CASES} == set(TOOLS)
    assert {c["category"] for c in CASES} == CATEGORIES
    # every input file is used by some case (a stale file is a case someone forgot)
    text = (CORPUS / "cases.toml").read_text()
    unused = [p.relative_to(CORPUS).as_posix() for p in (CORPUS / "files").rglob("*")
              if p.is_file() and not p.name.startswith(("_", "generate")) and p.suffix != ".pyc"
              and p.relative_to(CORPUS).as_posix() not in text]
    assert not unused, f"files no case uses: {unused}"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case, outcomes):
    r = outcomes[case["id"]]
    shown = (f"$ {' '.join(r.argv)}\n--- exit {r.returncode}\n"
             f"--- stdout\n{r.stdout[-2000:]}\n--- stderr\n{r.stderr[-4000:]}")
    assert r.returncode is not None, f"hang: no exit within {TIMEOUT} s\n{shown}"
    assert "Traceback" not in r.stdout + r.stderr, shown
    want = case.get("exit", 1)
    assert r.returncode == want, shown
    lines = r.stderr.splitlines()
    if "remark" in case:
        remarks = [ln for ln in lines if REMARK.match(ln)]
        assert remarks, f"expected a remark\n{shown}"
        assert any(re.search(case["remark"], ln) for ln in remarks), shown
        lines = [ln for ln in lines if not REMARK.match(ln)]
    if "stderr" in case:
        assert len(lines) == 1, f"stderr must be exactly one line\n{shown}"
        assert re.search(case["stderr"], lines[0]), f"stderr does not match {case['stderr']!r}\n{shown}"
        if case.get("location", False):
            assert LOCATION.search(lines[0]), f"no file:line:col location\n{shown}"
    else:
        assert lines == [], f"stderr must be empty\n{shown}"
    if "stdout" in case:
        assert re.search(case["stdout"], r.stdout, re.M), f"stdout does not match {case['stdout']!r}\n{shown}"
    if "same_as" in case:
        assert r.reference and r.stdout == r.reference, f"output differs from the round trip\n{shown}"
    for path in case.get("absent", []):
        assert not Path(expand(path, r.tmp)).exists(), f"{path} exists after the run\n{shown}"
    created = set(case.get("created", []))
    leftovers = [f for f in r.new_files if f not in created]
    assert not leftovers, f"files left behind in {{tmp}}: {leftovers}\n{shown}"
    missing = created - set(r.new_files)
    assert not missing, f"expected files not written: {sorted(missing)}\n{shown}"


def test_no_traceback_anywhere(outcomes):
    """The issue's acceptance: grep -r Traceback over every case's output finds nothing."""
    logs = outcomes["__logs__"]
    assert len(list(logs.iterdir())) == len(CASES)
    grep = subprocess.run(["grep", "-rl", "Traceback", str(logs)], capture_output=True, text=True)
    assert grep.returncode == 1, f"Traceback in: {grep.stdout}"
