"""mixpe-run's number checks: --expect/--rtol exit codes, the reference evaluator failing, bf16
outputs as float32, integer results, the comparison metrics, and the remark-collection hook."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from mixpe.tools import mixpe_run
from mixpe.tools.mixpe_run import compare, main

ROOT = Path(__file__).resolve().parents[3]
TORCH = ROOT / "test" / "inputs" / "torch"
GATED = str(TORCH / "gated_mlp_w4_g128.mlir")
GATED_NPZ = str(TORCH / "gated_mlp_w4_g128.npz")
BF16 = str(TORCH / "perchannel_int8_bf16.mlir")
BF16_NPZ = str(TORCH / "perchannel_int8_bf16.npz")

INT_MODULE = """func.func @main(%a: tensor<4x16xi8>, %b: tensor<16x8xi8>) -> tensor<4x8xi32> {
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x8xi32>
  %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<4x8xi32>) -> tensor<4x8xi32>
  %y = linalg.matmul ins(%a, %b : tensor<4x16xi8>, tensor<16x8xi8>) outs(%f : tensor<4x8xi32>) -> tensor<4x8xi32>
  func.return %y : tensor<4x8xi32>
}
"""


def _gated_result0() -> np.ndarray:
    with np.load(GATED_NPZ) as npz:
        return npz["result0"]


def test_wrong_expected_exits_1_with_one_line(tmp_path):
    """Run as users do (a subprocess): the report on stdout, one error line, exit 1."""
    y = _gated_result0()
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, result0=(y.astype(np.float32) * 3.19).astype(y.dtype))  # rel error 2.19/3.19
    p = subprocess.run([sys.executable, "-m", "mixpe.tools.mixpe_run", GATED, "--weight-bits", "4",
                        "--inputs", GATED_NPZ, "--expect", str(wrong)], capture_output=True, text=True)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr + p.stdout
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(r"mixpe-run: error: result0: relative error 0\.68\d* exceeds --rtol 0\.01", lines[0]), lines
    assert "program main on mixpe-w4a16" in p.stdout  # the simulation is still reported


def test_expected_within_rtol_and_explicit_rtol(tmp_path, capsys):
    y = _gated_result0()
    off = tmp_path / "off.npz"
    np.savez(off, result0=(y.astype(np.float32) * 1.05).astype(y.dtype))  # ~4.8% off
    args = [GATED, "--weight-bits", "4", "--inputs", GATED_NPZ, "--expect", str(off)]
    assert main(args) == 1
    assert "exceeds --rtol 0.01" in capsys.readouterr().err
    assert main([*args, "--rtol", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "rtol 0.1 (--rtol): ok" in out
    assert "expected:  result0 from" in out and "(--expect)" in out


def test_inputs_result_keys_are_expected_outputs(capsys):
    assert main([GATED, "--weight-bits", "4", "--inputs", GATED_NPZ]) == 0
    out = capsys.readouterr().out
    assert re.search(r"expected:  result0 from \S+gated_mlp_w4_g128\.npz \(--inputs\)", out)
    assert "vs expected rel" in out and "vs reference rel" in out


@pytest.mark.parametrize("flags, message", [
    (["--expect", GATED_NPZ], "--expect needs --inputs"),
    (["--inputs", GATED_NPZ, "--rtol", "-1"], "--rtol -1: expected a finite number >= 0"),
    (["--inputs", GATED_NPZ, "--expect", GATED], "not a readable .npz archive"),
    (["--inputs", GATED_NPZ, "--expect", str(TORCH / "w2_g64.npz")],
     "result0: shape [4, 64] does not match the program's [4, 256]"),
])
def test_bad_number_flags_are_one_line(flags, message, capsys):
    assert main([GATED, "--weight-bits", "4", *flags]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("mixpe-run: error: ") and message in err


def test_evaluation_error_is_a_note_not_a_crash(tmp_path, monkeypatch, capsys):
    from mixpe.interp import evaluate as ev

    def refuse(module, args, entry=None, **kw):
        raise ev.EvaluationError("linalg.generic", "%3 = linalg.generic ...", "unsupported operation")

    monkeypatch.setattr(ev, "evaluate", refuse)
    report = tmp_path / "r.json"
    assert main([GATED, "--weight-bits", "4", "--inputs", GATED_NPZ, "--report", str(report)]) == 0
    cap = capsys.readouterr()
    assert cap.err == ""
    notes = [ln for ln in cap.out.splitlines() if "reference evaluator" in ln]
    assert notes == ["  note: the reference evaluator cannot run linalg.generic (unsupported operation); "
                     "numbers are not checked against the module"]
    assert "vs expected rel" in cap.out and "vs reference" not in cap.out  # npz outputs still compared
    assert "speedup" in cap.out  # and the simulation reported
    n = json.loads(report.read_text())["numbers"]
    assert n["reference"] is None and "cannot run linalg.generic" in n["reference_note"]
    assert n["results"][0]["vs_reference"] is None and n["results"][0]["ok"]


def test_evaluation_error_with_hw_all(monkeypatch, capsys):
    from mixpe.interp import evaluate as ev

    monkeypatch.setattr(ev, "evaluate", lambda *a, **k: (_ for _ in ()).throw(
        ev.EvaluationError("math.erf", "...", "unsupported operation")))
    assert main([GATED, "--weight-bits", "4", "--hw", "all", "--inputs", GATED_NPZ]) == 0
    out = capsys.readouterr().out
    assert "note: the reference evaluator cannot run math.erf" in out
    assert "error vs reference" not in out and "error vs expected" in out


def test_bf16_outputs_are_float32(tmp_path, capsys):
    out, report = tmp_path / "o.npz", tmp_path / "r.json"
    assert main([BF16, "--weight-bits", "8", "--inputs", BF16_NPZ, "--outputs", str(out), "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "outputs npz: result0: bfloat16 written as float32 (exact), so plain numpy reads it" in printed
    assert "rtol 0.02 (default): ok" in printed
    with np.load(out) as npz:  # plain numpy: no ml_dtypes view needed
        y = npz["result0"]
    assert y.dtype == np.float32
    assert np.array_equal(y.astype(ml_dtypes.bfloat16).astype(np.float32), y)  # exactly bf16 values
    n = json.loads(report.read_text())["numbers"]
    assert n["outputs_npz"]["conversions"] == ["result0: bfloat16 written as float32 (exact)"]
    # and the written file is a valid --expect for the same run: bit for bit
    assert main([BF16, "--weight-bits", "8", "--inputs", BF16_NPZ, "--expect", str(out)]) == 0
    assert "vs expected rel 0, 0 ulp" in capsys.readouterr().out


def test_integer_results_exact_or_mismatch_count(tmp_path, capsys):
    src = tmp_path / "int.mlir"
    src.write_text(INT_MODULE)
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (4, 16), dtype=np.int8)
    b = rng.integers(-128, 128, (16, 8), dtype=np.int8)
    y = a.astype(np.int32) @ b.astype(np.int32)
    np.savez(tmp_path / "in.npz", arg0=a, arg1=b, result0=y)
    y[0, :3] += 1
    np.savez(tmp_path / "bad.npz", result0=y)
    assert main([str(src), "--inputs", str(tmp_path / "in.npz")]) == 0
    assert "vs reference exact   vs expected exact   rtol 0 (default): ok" in capsys.readouterr().out
    assert main([str(src), "--inputs", str(tmp_path / "in.npz"), "--expect", str(tmp_path / "bad.npz")]) == 1
    cap = capsys.readouterr()
    assert "vs expected 3 of 32 differ (max |diff| 1)" in cap.out
    # (the plain integer GEMM is not raised: its remark comes first)
    assert re.fullmatch(r"mixpe-run: error: result0: relative error \S+ exceeds --rtol 0 "
                        r"\(3 of 32 elements differ\)", cap.err.splitlines()[-1])


def test_compare_metrics():
    f16 = np.float16
    one = np.array([1.0, -2.0, 0.0], dtype=f16)
    nxt = np.array([np.nextafter(f16(1), f16(2)), -2.0, -0.0], dtype=f16)
    c = compare(nxt, one, "f16")
    assert c["max_ulp"] == 1 and c["mismatches"] == 1  # +0 and -0 are equal
    assert c["rel_error"] == pytest.approx(2.0**-10 / 2)
    assert c["ulp_of_max"] == pytest.approx(0.5)  # one ulp at 1.0 is half an ulp at 2.0
    nan = compare(np.array([np.nan, 1], f16), np.array([1, 1], f16), "f16")
    assert math.isinf(nan["rel_error"]) and nan["max_ulp"] is None and nan["nonfinite_mismatches"] == 1
    same_nan = compare(np.array([np.nan, 1], f16), np.array([np.nan, 1], f16), "f16")
    assert same_nan["exact"] and same_nan["rel_error"] == 0 and same_nan["max_ulp"] == 0
    zero = compare(np.array([1e-3], np.float32), np.array([0.0], np.float32), "f32")
    assert math.isinf(zero["rel_error"])
    # bf16 expected given as float32 (exact) compares in bf16 ulps
    bf = np.array([1.0, 3.0], ml_dtypes.bfloat16)
    c = compare(bf, np.array([1.0, 3.0 + 2.0**-6], np.float32), "bf16")
    assert c["max_ulp"] == 1
    # torch uint8 data for a signless i8 result are the same bits
    assert compare(np.array([-1, 2], np.int8), np.array([255, 2], np.uint8), "i8")["exact"]


def test_default_rtol_by_type():
    assert mixpe_run.default_rtol("f16") == 1e-2
    assert mixpe_run.default_rtol("bf16") == 2e-2
    assert mixpe_run.default_rtol("f32") == 1e-4
    assert mixpe_run.default_rtol("i32") == 0
    assert mixpe_run.default_rtol("f16", "per-token") == mixpe_run.ACT_QUANT_RTOL
    assert mixpe_run.default_rtol("i32", "per-token") == 0


def test_no_reference_evaluation_without_inputs(monkeypatch, capsys):
    """Evaluating the reference costs time: only with --inputs (the quick start stays fast)."""
    from mixpe.interp import evaluate as ev

    monkeypatch.setattr(ev, "evaluate", lambda *a, **k: pytest.fail("evaluated without --inputs"))
    assert main([GATED, "--weight-bits", "4"]) == 0
    assert "Numbers" not in capsys.readouterr().out


def test_collect_diagnostics_records_and_still_prints(capsys):
    from mixpe import driver
    from mixpe.diagnostics import Diagnostic, collect_diagnostics

    text = (TORCH / "neg_fp_weights.mlir").read_text()
    with collect_diagnostics() as seen:
        driver.compile_module(driver.parse(text, "neg.mlir"), driver.CompileOptions())
    err = capsys.readouterr().err
    assert seen and all(isinstance(d, Diagnostic) for d in seen)
    d = next(d for d in seen if d.message.startswith("[mixpe-raise]"))
    assert d.severity == "remark" and d.location == "neg.mlir:16:5"
    assert f"{d.location}: remark: {d.message}" in err  # printed as before
    with collect_diagnostics() as later:
        pass
    assert later == []  # nothing recorded outside the block
