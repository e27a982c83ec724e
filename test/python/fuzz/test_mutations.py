"""Random IR mutations of valid inputs through `mixpe-opt -p 'mixpe-pipeline{weight-bits=4}'
-t mixpe-sim`: a clean one-line diagnostic, or a program whose numbers equal the mutated
module's own evaluation - never a crash (mixpe.testing.mutate). Plus the regression tests of
the crashes this fuzzer found."""

import glob
from pathlib import Path

import numpy as np
import pytest

from mixpe.frontend.linalg_emit import LinearSpec, emit
from mixpe.testing import fuzz, mutate

TORCH = Path(__file__).parents[2] / "inputs" / "torch"
SOURCES = sorted(p[:-4] for p in glob.glob(str(TORCH / "*.npz")))


def _torch_source(path: str):
    data = np.load(path + ".npz")
    keys = sorted((k for k in data.files if k.startswith("arg")), key=lambda k: int(k[3:]))
    return Path(path + ".mlir").read_text(), [data[k] for k in keys]


def _sources(rng, count):
    """Alternately a torch-mlir file with data and a random linalg_emit module."""
    for i in range(count):
        if i % 2 == 0:
            yield Path(SOURCES[(i // 2) % len(SOURCES)]).name, *_torch_source(SOURCES[(i // 2) % len(SOURCES)])
        else:
            case = fuzz.random_case(rng)
            while case.weights == "pow2_ir":
                case = fuzz.random_case(rng)
            args, q = fuzz.case_inputs(case)
            yield repr(case.spec), fuzz.case_module(case, q), args


@pytest.mark.parametrize("chunk", range(4))
def test_mutants_fail_cleanly_or_keep_numerics(chunk, tmp_path):
    """~100 mutations in four chunks (fixed seeds), every mutation kind on every source kind."""
    rng = np.random.default_rng(1000 + chunk)
    kinds = sorted(mutate.MUTATIONS)
    failures, seen = [], {}
    for i, (name, text, args) in enumerate(_sources(rng, 26)):
        kind = kinds[(i + chunk * 26) % len(kinds)]
        got = mutate.mutate(text, rng, kind) or mutate.mutate(text, rng)
        if got is None:
            continue
        mutant, kind, desc = got
        outcome = mutate.check_mutant(mutant, args, rng, str(tmp_path))
        seen[outcome.status] = seen.get(outcome.status, 0) + 1
        if outcome.status == "crash":
            failures.append(f"{kind} ({desc}) on {name}: {outcome.detail}")
    assert not failures, "\n\n".join(failures)
    assert seen.get("diagnostic", 0) and seen.get("same", 0), seen


def _opt(text, tmp_path):
    src = tmp_path / "m.mlir"
    src.write_text(text)
    from mixpe.tools import mixpe_opt

    return mutate._call(mixpe_opt.main, [str(src), "-p", "mixpe-pipeline{weight-bits=4}", "-t", "mixpe-sim",
                                         "-o", str(tmp_path / "p.json")])


SPEC = LinearSpec(m=2, k=64, n=4, group=32, bits=4, signed=False, zp_mode="original", layout="nk",
                  act="f16", style="fused")


def test_regression_generic_yielding_nothing(tmp_path):
    """`linalg.yield` with no operand in a one-output generic verified in xDSL 0.74 and
    mixpe-raise crashed (IndexError); it is now the upstream verifier's error."""
    text = emit(SPEC).replace("linalg.yield %r : f32", "linalg.yield")
    rc, _, err = _opt(text, tmp_path)
    assert rc == 1 and mutate.clean_diagnostic(rc, err) is None, err
    assert "expected number of yield values (0) to match the number of inits / outputs" in err


def test_regression_yield_of_the_wrong_type(tmp_path):
    text = emit(SPEC).replace("linalg.yield %r : f32",
                              "%r16 = arith.truncf %r : f32 to f16\n    linalg.yield %r16 : f16")
    rc, _, err = _opt(text, tmp_path)
    assert rc == 1 and "doesn't match the element type of the enclosing linalg.generic (f32)" in err, err


def test_regression_floordiv_by_zero_in_an_indexing_map(tmp_path):
    """xDSL's structured-op verifier evaluated `d2 floordiv 0` and raised ZeroDivisionError."""
    spec = LinearSpec(m=2, k=64, n=4, group=32, bits=4, signed=False, zp_mode="rescale", layout="kn",
                      act="f16", style="generic")
    text = emit(spec).replace("d2 floordiv 32", "d2 floordiv 0")
    rc, _, err = _opt(text, tmp_path)
    assert rc == 1 and mutate.clean_diagnostic(rc, err) is None, err
    assert "divisor of floordiv/ceildiv/mod must be a positive constant" in err


def test_regression_dense_resource_without_blob(tmp_path):
    """A constant whose dense_resource blob is missing reached the backend's constant
    evaluation and ended in an internal EvaluationError; now a located backend error."""
    text = (TORCH / "constant_weights_w4.mlir").read_text()
    text = text.replace("dense_resource<torch_tensor_64_2_torch.float16>", "dense_resource<missing_tensor_64_2>")
    rc, _, err = _opt(text, tmp_path)
    assert rc == 1 and mutate.clean_diagnostic(rc, err) is None, err
    assert "mixpe-sim backend: no data for dense_resource<missing_tensor_64_2>" in err


def test_regression_yield_of_a_sibling_regions_value(tmp_path):
    """xDSL's parser resolves a name defined in a sibling region (MLIR reuses names across
    regions); deleting the body's own definition made the backend crash with a KeyError."""
    text = (TORCH / "w2_g64.mlir").read_text()
    lines = text.splitlines()
    i = [n for n, ln in enumerate(lines) if "= arith.uitofp %in : i8 to f16" in ln][1]
    del lines[i]
    rc, _, err = _opt("\n".join(lines) + "\n", tmp_path)
    assert rc == 1 and mutate.clean_diagnostic(rc, err) is None, err


def test_regression_signed_bits_for_an_unsigned_weight_input():
    """A signless i8 argument read as unsigned weights is declared ui8 in the program; the
    simulator refused int8 data for it ("not exactly representable as ui8") instead of
    reading the same bits, as it does for uint8 data given to an i8 input."""
    from mixpe import driver
    from mixpe.simulator.execute import SimulationError, run_program
    from mixpe.simulator.program import parse_program

    spec = LinearSpec(m=2, k=64, n=4, group=32, bits=8, signed=False, zp_mode="original", layout="nk",
                      act="f16", style="torch")
    args = fuzz.case_inputs(fuzz.Case(spec, "mixpe-w4a16", 3))[0]
    program = parse_program(driver.compile_to_program(emit(spec), driver.CompileOptions(weight_bits=8)))
    assert program.inputs[1].type.dtype == "ui8"
    want = run_program(program, None, args).outputs["result0"]
    as_int8 = [args[0], args[1].view(np.int8), args[2], args[3].view(np.int8)]
    got = run_program(program, None, as_int8).outputs["result0"]
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))
    # ...and with 4-bit weights, the same bits (249) are a range error, not a conversion error
    program4 = parse_program(driver.compile_to_program(emit(spec), driver.CompileOptions(weight_bits=4)))
    bad = [a.copy() for a in as_int8]
    bad[1][0, 0] = -7
    with pytest.raises(SimulationError, match="249.*outside the unsigned 4-bit range|outside the unsigned 4-bit range"):
        run_program(program4, None, bad)
