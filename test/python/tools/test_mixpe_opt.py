"""mixpe-opt as a Python entry point: exit codes, diagnostics and atomic output."""

import subprocess
import sys

from mixpe.tools.mixpe_opt import main

GOOD = """func.func @f(%x: tensor<8x128xi8>, %w: tensor<128x32xi8>, %s: tensor<4x32xf32>) -> tensor<8x32xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 32 bits 4 signed format int layout kn zp symmetric acc i32
      : (tensor<8x128xi8>, tensor<128x32xi8>, tensor<4x32xf32>) -> tensor<8x32xf32>
  func.return %y : tensor<8x32xf32>
}
"""


def test_pipeline_to_output_file(tmp_path):
    src = tmp_path / "in.mlir"
    src.write_text(GOOD)
    out = tmp_path / "out.mlir"
    assert main([str(src), "-p", "mixpe-hoist-dequant", "-o", str(out)]) == 0
    assert "mixpe.group_psum" in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] != []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mixpe-opt-")]


def test_verifier_error_is_one_located_line_and_keeps_old_output(tmp_path, capsys):
    src = tmp_path / "bad.mlir"
    src.write_text(GOOD.replace("group 32", "group 48"))
    out = tmp_path / "out.mlir"
    out.write_text("previous contents")
    assert main([str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"{src}:2:3: error: group size 48 does not divide K=128"
    assert out.read_text() == "previous contents"


def test_unwritable_output(tmp_path, capsys):
    src = tmp_path / "in.mlir"
    src.write_text(GOOD)
    assert main([str(src), "-o", str(tmp_path / "missing" / "out.mlir")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mixpe-opt: error:") and "No such file or directory" in err


def test_console_script_no_traceback(tmp_path):
    src = tmp_path / "bad.mlir"
    src.write_text("func.func @f(%x: tensor<4xf32>) {\n  %y = arith.addf %x, %x : tensor<4xf64>\n}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mixpe.tools.mixpe_opt", str(src)], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"{src}:2:")
