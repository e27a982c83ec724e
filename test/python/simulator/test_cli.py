"""mixpe-sim CLI: exit codes, one-line errors, atomic outputs (run as a subprocess)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from sim_programs import w4a8_inputs, w4a8_linear

from mixpe.reference import mpgemm
from mixpe.simulator.program import dumps
from mixpe.tools import mixpe_sim


def _sim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mixpe.tools.mixpe_sim", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def files(tmp_path):
    prog = tmp_path / "prog.json"
    prog.write_text(dumps(w4a8_linear().build()))
    ins = w4a8_inputs()
    npz = tmp_path / "in.npz"
    np.savez(npz, **ins)
    return tmp_path, prog, npz, ins


def _fails(r, *fragments):
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mixpe-sim: error: "), r.stderr
    assert "Traceback" not in r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def test_run_writes_outputs_and_report(files):
    d, prog, npz, ins = files
    r = _sim(prog, "--inputs", npz, "--outputs", d / "out.npz", "--report", d / "r.json")
    assert r.returncode == 0, r.stderr
    assert "mixpe-w4a8" in r.stdout and "cycles  total" in r.stdout and "group_psum" in r.stdout
    y = np.load(d / "out.npz")["result0"]
    want = mpgemm(ins["arg0"], ins["arg1"], ins["arg2"], ins["arg3"], group_size=16,
                  weight_bits=4, signed=False, zp_mode="original", out_dtype="f16")
    np.testing.assert_array_equal(y.view(np.uint16), want.view(np.uint16))
    rep = json.loads((d / "r.json").read_text())
    assert rep["functional"] and rep["totals"]["cycles"]["total"] > 0
    assert not [f for f in os.listdir(d) if f.endswith(".tmp")]


def test_cost_only_and_gemm(files):
    d, prog, _, _ = files
    r = _sim(prog, "--hw", "int8")
    assert r.returncode == 0 and "cost only" in r.stdout
    r = _sim("--gemm", "512,512,4096", "--hw", "int8", "--mode", "scalesim", "--report", d / "g.json")
    assert r.returncode == 0, r.stderr
    assert "1,064,447" in r.stdout  # docs/design.md §4: SCALE-Sim's OS cycles for this GEMM on 32x32
    assert json.loads((d / "g.json").read_text())["cost"]["cycles"]["total"] == 1064447
    r = _sim("--gemm", "64,4096,4096", "--hw", "mixpe-w4a8", "--array", "64x64")
    assert r.returncode == 0 and "(64x64, mode default)" in r.stdout


def test_bad_inputs_are_one_line_errors(files):
    d, prog, npz, ins = files
    text = prog.read_text()
    (d / "trunc.json").write_text(text[: len(text) // 2])
    _fails(_sim(d / "trunc.json"), "not valid JSON (truncated?)")
    (d / "v2.json").write_text(text.replace('"version": 1', '"version": 2'))
    _fails(_sim(d / "v2.json"), "unsupported program version 2")
    _fails(_sim(d / "missing.json"), "cannot read program")
    _fails(_sim(prog, "--hw", "no-such-hw"), "unknown hardware preset")
    _fails(_sim(prog, "--inputs", npz, "--outputs", d / "nodir" / "o.npz"), "does not exist")
    _fails(_sim(prog, "--inputs", d / "none.npz"), "no such file")
    (d / "junk.npz").write_bytes(b"not a zip")
    _fails(_sim(prog, "--inputs", d / "junk.npz"), "not a readable .npz")
    np.savez(d / "few.npz", arg0=ins["arg0"], arg1=ins["arg1"], arg2=ins["arg2"])
    _fails(_sim(prog, "--inputs", d / "few.npz"), "missing key arg3 ('z', tensor<4x8xui8>)")
    np.savez(d / "shape.npz", **{**ins, "arg0": ins["arg0"][:2]})
    _fails(_sim(prog, "--inputs", d / "shape.npz"), "arg0 ('x'): shape [2, 64] does not match")
    np.savez(d / "lossy.npz", **{**ins, "arg2": ins["arg2"].astype(np.float32) + np.float32(1e-7)})
    _fails(_sim(prog, "--inputs", d / "lossy.npz"), "arg2 ('s'): float32 value", "not exactly representable as f16")
    np.savez(d / "dtype.npz", **{**ins, "arg0": ins["arg0"].astype(np.float32) + 0.5})
    _fails(_sim(prog, "--inputs", d / "dtype.npz"), "arg0 ('x')", "as i8")
    bad = dict(ins)
    bad["arg1"] = ins["arg1"].copy()
    bad["arg1"][0, 0] = 200
    np.savez(d / "range.npz", **bad)
    _fails(_sim(prog, "--inputs", d / "range.npz"), "group_psum at model.py:10", "value 200")
    _fails(_sim("--gemm", "1,2"), "--gemm must be 3 positive integers")
    _fails(_sim("--gemm", "8,8,8", "--array", "8by8"), "--array must be 2 positive integers")
    _fails(_sim(), "give a PROGRAM")
    _fails(_sim(prog, "--frobnicate"), "unrecognized arguments")


def test_existing_output_survives_a_failed_run(files):
    d, prog, npz, ins = files
    out = d / "out.npz"
    out.write_bytes(b"previous")
    bad = {**ins, "arg0": ins["arg0"][:1]}
    np.savez(d / "bad.npz", **bad)
    _fails(_sim(prog, "--inputs", d / "bad.npz", "--outputs", out))
    assert out.read_bytes() == b"previous"


def test_internal_errors_are_guarded(monkeypatch, capsys, files):
    _, prog, _, _ = files

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr("mixpe.tools.mixpe_sim.run_program", boom)
    assert mixpe_sim.main([str(prog)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("mixpe-sim: internal error: RuntimeError: kaboom "
                           "(rerun with --debug for the traceback)")
    assert mixpe_sim.main([str(prog), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "o.bin"

    def fail(f):
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        mixpe_sim.write_atomic(str(target), fail)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_simulator_does_not_import_xdsl():
    code = ("import sys, mixpe.simulator, mixpe.reference, mixpe.tools.mixpe_sim, "
            "mixpe.simulator.execute; print(sorted(m for m in sys.modules if m.startswith('xdsl')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "[]", (r.stdout, r.stderr)
