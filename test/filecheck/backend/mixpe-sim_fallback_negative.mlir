// The fallback path's negative cases: what even the `generic` instruction cannot run is a
// located one-line error and no output file.
// RUN: mixpe-opt %s --split-input-file --verify-diagnostics -p mixpe-pipeline -t mixpe-sim | filecheck %s
// RUN: rm -f %t.json
// RUN: not mixpe-opt %s --split-input-file -p mixpe-pipeline -t mixpe-sim -o %t.json 2>&1 | filecheck %s --check-prefix=EXIT
// RUN: not test -e %t.json

// EXIT: error: mixpe-sim backend: the body reads its output

// Negative: a body that reads its output when the init is an uninitialised tensor.empty.
// CHECK: mixpe-sim_fallback_negative.mlir:[[# @LINE + 3]]:3: error: mixpe-sim backend: the body reads its output, but the init is an uninitialised tensor
func.func @reads_empty(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.addf %a, %o : f32
    linalg.yield %0 : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A body op with no vector-unit equivalent (math.cbrt) is refused where it is.
// CHECK: mixpe-sim_fallback_negative.mlir:[[# @LINE + 5]]:5: error: mixpe-sim backend: 'math.cbrt' has no vector-unit equivalent
func.func @no_equivalent(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = math.cbrt %a : f32
    linalg.yield %0 : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
