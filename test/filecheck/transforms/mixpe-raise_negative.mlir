// What mixpe-raise must decline, each with the remark it prints; the IR stays untouched.
// RUN: mixpe-opt %s --split-input-file -p mixpe-raise 2>&1 | filecheck %s

// A scale broadcast by `k floordiv 48` with K = 128: the last group would be partial.
// CHECK: mixpe-raise_negative.mlir:[[# @LINE + 14]]:3: remark: [mixpe-raise] not raised: group size 48 does not divide K=128
// CHECK-LABEL: func.func @group_does_not_divide_k
// CHECK:         linalg.generic
func.func @group_does_not_divide_k(%x: tensor<2x128xf32>, %q: tensor<32x128xi8>, %s: tensor<32x3xf32>) -> tensor<2x32xf32> {
  %e0 = tensor.empty() : tensor<32x128xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1 floordiv 48)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<32x128xi8>, tensor<32x3xf32>) outs(%e0 : tensor<32x128xf32>) {
  ^bb0(%qq: i8, %ss: f32, %o: f32):
    %qf = arith.sitofp %qq : i8 to f32
    %v = arith.mulf %qf, %ss : f32
    linalg.yield %v : f32
  } -> tensor<32x128xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x32xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x32xf32>) -> tensor<2x32xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%x, %w : tensor<2x128xf32>, tensor<32x128xf32>) outs(%f : tensor<2x32xf32>) -> tensor<2x32xf32>
  func.return %r : tensor<2x32xf32>
}

// -----

// A bias carried in the accumulator init: Y = B + X·W is not what mpgemm computes.
// CHECK: remark: [mixpe-raise] not raised: the accumulator does not start at zero (a bias or running sum in the init)
// CHECK-LABEL: func.func @bias_in_init
// CHECK:         linalg.matmul
func.func @bias_in_init(%x: tensor<2x64xf32>, %q: tensor<64x8xi8>, %s: tensor<1x8xf32>, %b: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %e0 = tensor.empty() : tensor<64x8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<64x8xi8>, tensor<1x8xf32>) outs(%e0 : tensor<64x8xf32>) {
  ^bb0(%qq: i8, %ss: f32, %o: f32):
    %qf = arith.sitofp %qq : i8 to f32
    %v = arith.mulf %qf, %ss : f32
    linalg.yield %v : f32
  } -> tensor<64x8xf32>
  %r = linalg.matmul ins(%x, %w : tensor<2x64xf32>, tensor<64x8xf32>) outs(%b : tensor<2x8xf32>) -> tensor<2x8xf32>
  func.return %r : tensor<2x8xf32>
}

// -----

// A non-zero fill is a bias too.
// CHECK: remark: [mixpe-raise] not raised: the accumulator does not start at zero
// CHECK-LABEL: func.func @nonzero_fill
func.func @nonzero_fill(%x: tensor<2x64xf32>, %q: tensor<64x8xi8>, %s: tensor<1x8xf32>) -> tensor<2x8xf32> {
  %e0 = tensor.empty() : tensor<64x8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<64x8xi8>, tensor<1x8xf32>) outs(%e0 : tensor<64x8xf32>) {
  ^bb0(%qq: i8, %ss: f32, %o: f32):
    %qf = arith.sitofp %qq : i8 to f32
    %v = arith.mulf %qf, %ss : f32
    linalg.yield %v : f32
  } -> tensor<64x8xf32>
  %c1 = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2x8xf32>
  %f = linalg.fill ins(%c1 : f32) outs(%e : tensor<2x8xf32>) -> tensor<2x8xf32>
  %r = linalg.matmul ins(%x, %w : tensor<2x64xf32>, tensor<64x8xf32>) outs(%f : tensor<2x8xf32>) -> tensor<2x8xf32>
  func.return %r : tensor<2x8xf32>
}

// -----

// Scales laid out [N,G] while the weights are [K,N]: the parameters must follow the
// weights' layout, so this is declined rather than silently transposed.
// CHECK: remark: [mixpe-raise] not raised: the scales are not constant over groups of consecutive k with the weights' layout (kn: expected scales [G, N] read at k floordiv g)
// CHECK-LABEL: func.func @scale_layout_mismatch
func.func @scale_layout_mismatch(%x: tensor<2x64xf32>, %q: tensor<64x8xi8>, %s: tensor<8x2xf32>) -> tensor<2x8xf32> {
  %e0 = tensor.empty() : tensor<64x8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1, d0 floordiv 32)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<64x8xi8>, tensor<8x2xf32>) outs(%e0 : tensor<64x8xf32>) {
  ^bb0(%qq: i8, %ss: f32, %o: f32):
    %qf = arith.sitofp %qq : i8 to f32
    %v = arith.mulf %qf, %ss : f32
    linalg.yield %v : f32
  } -> tensor<64x8xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x8xf32>) -> tensor<2x8xf32>
  %r = linalg.matmul ins(%x, %w : tensor<2x64xf32>, tensor<64x8xf32>) outs(%f : tensor<2x8xf32>) -> tensor<2x8xf32>
  func.return %r : tensor<2x8xf32>
}

// -----

// The reduction size is dynamic: g | K cannot be proved.
// CHECK: remark: [mixpe-raise] not raised: the reduction size is dynamic
// CHECK-LABEL: func.func @dynamic_k
func.func @dynamic_k(%x: tensor<2x?xf32>, %w: tensor<?x8xf32>, %o: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<2x?xf32>, tensor<?x8xf32>) outs(%o : tensor<2x8xf32>) -> tensor<2x8xf32>
  func.return %r : tensor<2x8xf32>
}

// -----

// A batched contraction (3-D result).
// CHECK: remark: [mixpe-raise] not raised: the result is not a 2-D tensor (batched contractions are not raised)
// CHECK-LABEL: func.func @batched
func.func @batched(%x: tensor<2x4x8xf32>, %w: tensor<2x8x4xf32>, %o: tensor<2x4x4xf32>) -> tensor<2x4x4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%o : tensor<2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x4xf32>
  func.return %r : tensor<2x4x4xf32>
}

// -----

// W8A8 with an activation zero point: its term needs weight column sums, which the
// mixpe epilogue has no operand for.
// CHECK: remark: [mixpe-raise] not raised: the activation zero point is not the constant 0 (only weight zero points have an epilogue term)
// CHECK-LABEL: func.func @quantized_matmul_activation_zero_point
// CHECK: linalg.quantized_matmul
func.func @quantized_matmul_activation_zero_point(%x: tensor<4x64xi8>, %w: tensor<64x8xi8>, %zx: i32, %zw: i32) -> tensor<4x8xi32> {
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x8xi32>
  %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<4x8xi32>) -> tensor<4x8xi32>
  %y = linalg.quantized_matmul ins(%x, %w, %zx, %zw : tensor<4x64xi8>, tensor<64x8xi8>, i32, i32) outs(%f : tensor<4x8xi32>) -> tensor<4x8xi32>
  func.return %y : tensor<4x8xi32>
}
