// What mixpe-raise must decline, each with the remark it prints; the IR stays untouched.
// RUN: mixpe-opt %s --split-input-file -p mixpe-raise 2>&1 | filecheck %s

// A scale broadcast by `k floordiv 48` with K = 128: the last group would be partial.
// CHECK: mixpe-raise_negative.mlir:[[# @LINE + 14]]:3: remark: [mixpe-raise] not raised: group size does not divide K (K=128, groups of 48): the last group would be partial, and mixpe groups are uniform
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

// Per-element scales (a scale for every k): g = 1 would be valid but leaves nothing to hoist;
// it is also what a ragged group broadcast to K by an opaque op looks like.
// CHECK: remark: [mixpe-raise] not raised: the scales change with every k (group size 1, K=64): nothing to hoist; if they were broadcast from fewer groups (e.g. a ragged last group cut by an op mixpe cannot look through), the group size does not divide K
// CHECK-LABEL: func.func @per_element_scales
// CHECK: linalg.matmul
func.func @per_element_scales(%x: tensor<2x64xf32>, %q: tensor<64x8xi8>, %s: tensor<64x8xf32>) -> tensor<2x8xf32> {
  %e0 = tensor.empty() : tensor<64x8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<64x8xi8>, tensor<64x8xf32>) outs(%e0 : tensor<64x8xf32>) {
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

// An integer matmul into i32 whose init is not zero (a running sum): not what mpgemm computes.
// CHECK: remark: [mixpe-raise] not raised: the accumulator does not start at zero (a bias or running sum in the init)
// CHECK-LABEL: func.func @int_matmul_running_sum
// CHECK: linalg.matmul
func.func @int_matmul_running_sum(%x: tensor<4x64xi8>, %w: tensor<64x8xi8>, %acc: tensor<4x8xi32>) -> tensor<4x8xi32> {
  %y = linalg.matmul ins(%x, %w : tensor<4x64xi8>, tensor<64x8xi8>) outs(%acc : tensor<4x8xi32>) -> tensor<4x8xi32>
  func.return %y : tensor<4x8xi32>
}

// -----

// Activations scaled per k (a per-input-channel smoothing factor, not per token): the scale
// cannot leave the sum, so they stay float activations (raised with an f32 accumulator).
// CHECK-LABEL: func.func @activation_scale_per_k
// CHECK: mixpe.mpgemm %{{.*}}, %q scales(%s) group 32 bits 8 signed format int layout kn zp symmetric acc f32 : (tensor<2x64xf32>
func.func @activation_scale_per_k(%xq: tensor<2x64xi8>, %sk: tensor<64xf32>, %q: tensor<64x8xi8>, %s: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %ex = tensor.empty() : tensor<2x64xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%xq, %sk : tensor<2x64xi8>, tensor<64xf32>) outs(%ex : tensor<2x64xf32>) {
  ^bb0(%a: i8, %b: f32, %o: f32):
    %af = arith.sitofp %a : i8 to f32
    %v = arith.mulf %af, %b : f32
    linalg.yield %v : f32
  } -> tensor<2x64xf32>
  %e0 = tensor.empty() : tensor<64x8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0 floordiv 32, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<64x8xi8>, tensor<2x8xf32>) outs(%e0 : tensor<64x8xf32>) {
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

// Unsigned activations (uitofp): mixpe reads integer activations as signed, so they stay float.
// CHECK-LABEL: func.func @unsigned_activations
// CHECK: mixpe.mpgemm %{{.*}}, %q scales(%s) group 64 bits 8 signed format int layout kn zp symmetric acc f32 : (tensor<2x64xf32>
func.func @unsigned_activations(%xq: tensor<2x64xi8>, %q: tensor<64x8xi8>, %s: tensor<1x8xf32>) -> tensor<2x8xf32> {
  %ex = tensor.empty() : tensor<2x64xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%xq : tensor<2x64xi8>) outs(%ex : tensor<2x64xf32>) {
  ^bb0(%a: i8, %o: f32):
    %af = arith.uitofp %a : i8 to f32
    linalg.yield %af : f32
  } -> tensor<2x64xf32>
  %e0 = tensor.empty() : tensor<64x8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<64x8xi8>, tensor<1x8xf32>) outs(%e0 : tensor<64x8xf32>) {
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
