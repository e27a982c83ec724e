"""One output policy for every tool (mixpe.fileio), and the reliability fixes that came with it:
never replace what is not ours, never overwrite our own inputs, strict JSON, bounded work."""

import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from mixpe.eval.files import write_json
from mixpe.hw import load_hardware
from mixpe.fileio import OutputError, check_not_input, write_output
from mixpe.simulator import report
from mixpe.tools import mixpe_eval, mixpe_opt, mixpe_run

MODULE = Path(__file__).parents[2] / "inputs" / "torch" / "gptq_uint4_g128.mlir"


def _opt(argv, monkeypatch) -> int:
    monkeypatch.setattr("sys.argv", ["mixpe-opt", *argv])
    try:
        mixpe_opt.cli()
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def test_regular_file_gets_the_mode_of_a_normal_create(tmp_path):
    out = tmp_path / "o.bin"
    write_output(str(out), lambda f: f.write(b"x"))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["o.bin"]  # no temp file left


def test_a_symlink_is_written_through_not_replaced(tmp_path):
    target, link = tmp_path / "target.mlir", tmp_path / "link.mlir"
    target.write_text("old")
    link.symlink_to(target)
    write_output(str(link), lambda f: f.write(b"new"))
    assert link.is_symlink() and target.read_text() == "new"


def test_a_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    write_output(str(fifo), lambda f: f.write(b"through the pipe"))
    reader.join(10)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_dev_null_stays_a_device(monkeypatch):
    assert _opt([str(MODULE), "-o", "/dev/null"], monkeypatch) == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    out = tmp_path / "o.json"
    out.write_text("old")

    def boom(f):
        f.write(b"half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_output(str(out), boom)
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["o.json"]


def test_own_inputs_are_refused(tmp_path, monkeypatch, capsys):
    src = tmp_path / "m.mlir"
    src.write_text(MODULE.read_text())
    with pytest.raises(OutputError, match="it is one of this run's inputs"):
        check_not_input(str(tmp_path / "." / "m.mlir"), [str(src)], "-o")
    assert _opt([str(src), "-o", str(src)], monkeypatch) == 1
    assert "refusing to overwrite" in capsys.readouterr().err and src.read_text() == MODULE.read_text()
    assert mixpe_run.main([str(src), "--weight-bits", "4", "--report", str(src)]) == 1
    assert src.read_text() == MODULE.read_text()


def test_report_json_is_strict(tmp_path):
    out = tmp_path / "r.json"
    write_json(str(out), {"speedup": float("inf"), "err": [float("nan"), 1.5]})
    text = out.read_text()
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text) == {"speedup": None, "err": [None, 1.5]}


def test_jobs_are_capped_at_the_cpu_count(tmp_path, capsys):
    n = (os.cpu_count() or 1) + 1
    assert mixpe_eval.main(["--models", "vit-b", "--jobs", str(n), "--out", str(tmp_path / "o")]) == 1
    assert f"--jobs {n}: this machine has" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_batched_cost_does_not_grow_with_the_batch_count():
    hw = load_hardware("int8")
    one = report.gemm_cost(hw, 16, 16, 32).to_dict()
    t = time.perf_counter()
    many = report.gemm_cost(hw, 16, 16, 32, batch=10**8).to_dict()
    assert time.perf_counter() - t < 1.0
    assert many["cycles"]["total"] == 10**8 * one["cycles"]["total"]
    assert many["energy"]["total_pj"] == pytest.approx(10**8 * one["energy"]["total_pj"], rel=1e-12)


def test_eval_out_holding_a_users_files_needs_force(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "summary.md").write_text("mine")
    args = ["--models", "vit-b", "--designs", "int8", "--no-plots", "--quiet", "--jobs", "1", "--out", str(out)]
    assert mixpe_eval.main(args) == 1
    assert "pass --force" in capsys.readouterr().err and (out / "summary.md").read_text() == "mine"
    assert mixpe_eval.main([*args, "--force"]) == 0 and (out / "summary.md").read_text() != "mine"


def test_sweep_of_a_single_design(tmp_path):
    """Was: KeyError after all the work (the baseline named a per-point variant)."""
    out = tmp_path / "s"
    assert mixpe_eval.main(["sweep", "group=64,128", "--models", "vit-b", "--designs", "mixpe-w4a8", "--out",
                            str(out), "--no-plots", "--quiet", "--jobs", "1"]) == 0
    assert (out / "sweep.md").exists()


def test_eval_hardware_variants_live_in_a_private_temp_folder():
    from mixpe.eval import runner

    path = runner._hw_ref("mixpe-w4a8", "[pe]\n# a variant\n")
    folder = os.path.dirname(path)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and folder != "/tmp"


def test_sigterm_while_writing_removes_the_temp_file(tmp_path):
    """Was: SIGTERM during `mixpe-sim --outputs` left a 386 MB hidden temp file behind."""
    import subprocess
    import sys

    code = ("import os, signal, sys; from mixpe.fileio import write_output\n"
            "def w(f):\n    f.write(b'x' * 1000)\n    os.kill(os.getpid(), signal.SIGTERM)\n    f.write(b'never')\n"
            f"write_output({str(tmp_path / 'out.npz')!r}, w)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 128 + 15
    assert list(tmp_path.iterdir()) == []  # neither the output nor a temp file
