"""One undefined-behaviour policy for both executors (mixpe.reference.elementwise): the IR
evaluator and the simulator refuse the same undefined operations with the same reason, rather
than each making up a different value (they used to disagree: the evaluator returned the
dividend for a division by zero and 0 for an oversized shift)."""

import numpy as np
import pytest

from mixpe import driver
from mixpe.interp.evaluate import EvaluationError, evaluate
from mixpe.simulator.execute import SimulationError, run_program

BODY = """
func.func @main(%a: tensor<4xi8>, %b: tensor<4xi8>) -> tensor<4xi8> {{
  %e = tensor.empty() : tensor<4xi8>
  %r = linalg.generic {{indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}}
      ins(%a, %b : tensor<4xi8>, tensor<4xi8>) outs(%e : tensor<4xi8>) {{
  ^bb0(%x: i8, %y: i8, %o: i8):
    %0 = {op} %x, %y : i8
    linalg.yield %0 : i8
  }} -> tensor<4xi8>
  return %r : tensor<4xi8>
}}
"""

CASES = [
    ("arith.divsi", [7, 1, 2, 3], [0, 1, 1, 1], "division by zero is undefined"),
    ("arith.remsi", [7, 1, 2, 3], [1, 0, 1, 1], "remainder by zero is undefined"),
    ("arith.divsi", [-128, 1, 2, 3], [-1, 1, 1, 1], "-128 by -1 overflows i8"),
    ("arith.shli", [1, 1, 1, 1], [8, 0, 1, 2], "by 8 bits on a 8-bit integer is undefined"),
    ("arith.shrsi", [1, 1, 1, 1], [1, -1, 1, 2], "by -1 bits on a 8-bit integer is undefined"),
]


@pytest.mark.parametrize("op,a,b,reason", CASES)
def test_both_executors_refuse_with_the_same_reason(op, a, b, reason):
    text = BODY.format(op=op)
    args = [np.array(a, np.int8), np.array(b, np.int8)]
    with pytest.raises(EvaluationError, match=reason):
        evaluate(driver.parse(text), args)
    program = driver.compile_to_program(text)
    with pytest.raises(SimulationError, match=reason):
        run_program(program, None, {"arg0": args[0], "arg1": args[1]})


@pytest.mark.parametrize("op,a,b,want", [
    ("arith.divsi", [7, -7, 127, -128], [2, 2, -1, 1], [3, -3, -127, -128]),  # toward zero
    ("arith.remsi", [7, -7, 5, -128], [2, 2, 3, 7], [1, -1, 2, -2]),
    ("arith.shrsi", [-128, 64, -1, 3], [7, 6, 3, 0], [-1, 1, -1, 3]),
])
def test_defined_cases_agree(op, a, b, want):
    text = BODY.format(op=op)
    args = [np.array(a, np.int8), np.array(b, np.int8)]
    ref = evaluate(driver.parse(text), args)[0]
    sim = run_program(driver.compile_to_program(text), None, {"arg0": args[0], "arg1": args[1]}).outputs["result0"]
    np.testing.assert_array_equal(ref, np.array(want, np.int8))
    np.testing.assert_array_equal(sim, ref)
