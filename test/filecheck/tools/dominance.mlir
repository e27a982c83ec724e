// xDSL 0.74 does not check dominance; mixpe-opt does, with the use's location.
// RUN: mixpe-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @use_before_def(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: dominance.mlir:[[# @LINE + 1]]:3: error: operand #0 of 'arith.addf' is not visible here
  %y = arith.addf %z, %x : tensor<4xf32>
  %z = arith.addf %x, %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}

// -----

// A value defined in a sibling region: the parser's scoping already refuses it.
func.func @sibling_region(%x: tensor<4xf32>, %o: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%o : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = arith.addf %in, %in : f32
    linalg.yield %t : f32
  } -> tensor<4xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%o : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    // CHECK: dominance.mlir:[[# @LINE + 1]]:18: error: use of undefined value %t
    linalg.yield %t : f32
  } -> tensor<4xf32>
  func.return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// Valid nesting: values of enclosing blocks are visible inside regions.
// CHECK-LABEL: func.func @nested_ok
func.func @nested_ok(%x: tensor<4xf32>, %o: tensor<4xf32>, %c: f32) -> tensor<4xf32> {
  %a = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%o : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = arith.addf %in, %c : f32
    linalg.yield %t : f32
  } -> tensor<4xf32>
  func.return %a : tensor<4xf32>
}
