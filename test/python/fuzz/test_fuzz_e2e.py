"""End-to-end fuzzing through the real `mixpe-run` (and `mixpe-opt -t mixpe-sim` + `mixpe-sim`
for detect-pow2): random quantized linears on random compatible presets, against numpy.

The generator and checker are `mixpe.testing.fuzz`, shared with `bench/fuzz_e2e.py` (1,000
cases); CI runs a fixed, derandomized budget.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixpe.frontend.linalg_emit import LinearSpec
from mixpe.testing import fuzz


def _chooser(data):
    return lambda label, options: data.draw(st.sampled_from(options), label=label)


@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_linear_through_mixpe_run(data, tmp_path_factory):
    case = fuzz.draw_case(_chooser(data))
    outcome = fuzz.check_case(case, str(tmp_path_factory.mktemp("case")))
    assert outcome.ok, f"{outcome.status}: {outcome.detail}\nreproduce: {fuzz.reproduction(case)}"


@pytest.mark.parametrize("weights", fuzz.WEIGHT_KINDS)
@pytest.mark.parametrize("act", ["f16", "i8"])
def test_every_weight_kind(weights, act, tmp_path):
    """Each path (argument, GPTQ int8 storage, constant with pruned planes, detect-pow2,
    mixpe-level pow2) at least once, whatever hypothesis draws."""
    spec = LinearSpec(m=3, k=128, n=8, group=64, bits=3 if weights == "pow2_ir" else 4,
                      signed=weights == "pow2_ir", zp_mode="rescale", layout="nk", act=act, style="generic")
    hw = "mixpe-w4a16" if act == "f16" else "mixpe-w4a8"
    outcome = fuzz.check_case(fuzz.Case(spec, hw, 1234, None, weights), str(tmp_path))
    assert outcome.ok, outcome.detail


def test_presets_follow_activation_format():
    assert {"mixpe-w4a16", "fp16", "w4a16-dequant"} <= set(fuzz.compatible_presets("f16"))
    assert {"mixpe-w4a8", "int8", "w4a8-dequant"} <= set(fuzz.compatible_presets("i8"))
    assert "mixpe-w4a8" not in fuzz.compatible_presets("bf16")
    assert "fp16" not in fuzz.compatible_presets("i8")


def test_checker_catches_a_wrong_answer(tmp_path, monkeypatch):
    """The checker is not vacuous: a one-ulp error in an integer-activation result is caught."""
    spec = LinearSpec(m=2, k=64, n=4, group=32, bits=4, signed=False, zp_mode="original", layout="kn",
                      act="i8", style="generic")
    case = fuzz.Case(spec, "mixpe-w4a8", 7)
    real = fuzz.run_cli

    def off_by_one_ulp(*a):
        y, err, args, q = real(*a)
        y = y.copy()
        y.flat[0] = np.nextafter(y.flat[0], np.float32(np.inf))
        return y, err, args, q

    monkeypatch.setattr(fuzz, "run_cli", off_by_one_ulp)
    assert fuzz.check_case(case, str(tmp_path)).status == "mismatch"
