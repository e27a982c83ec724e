// The fallback path: what mixpe-raise declines still compiles and runs. An act-order
// dequantization (scales gathered through a constant g_idx) is declined by mixpe-raise; the
// dequant generic runs whole on the vector unit as a `generic` instruction (maps, loop ranges
// and its scalar body), and the matmul runs dense on the array at the design's precision.
// RUN: mixpe-opt %s --split-input-file -p mixpe-pipeline -t mixpe-sim 2>%t.err | filecheck %s
// RUN: filecheck %s --check-prefix=REMARK < %t.err

// REMARK: remark: [mixpe-raise] not raised:
// CHECK: "attrs": {
// CHECK: "body": [
// CHECK: "op": "index"
// CHECK: "op": "extract"
// CHECK: "captures": 2,
// CHECK: "inits": [
// CHECK-NEXT: false
// CHECK: "inputs": 1,
// CHECK: "iterators": [
// CHECK-NEXT: "parallel",
// CHECK-NEXT: "parallel"
// CHECK: "maps": [
// CHECK: "ranges": [
// CHECK-NEXT: 64,
// CHECK-NEXT: 16
// CHECK: "op": "generic",
// CHECK: "op": "matmul",
func.func @act_order(%x: tensor<4x64xf32>, %q: tensor<64x16xi8>, %s: tensor<2x16xf32>) -> tensor<4x16xf32> {
  %gidx = arith.constant dense<[0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]> : tensor<64xi64>
  %e = tensor.empty() : tensor<64x16xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q : tensor<64x16xi8>) outs(%e : tensor<64x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %k = linalg.index 0 : index
    %n = linalg.index 1 : index
    %g = tensor.extract %gidx[%k] : tensor<64xi64>
    %gi = arith.index_cast %g : i64 to index
    %sc = tensor.extract %s[%gi, %n] : tensor<2x16xf32>
    %0 = arith.sitofp %a : i8 to f32
    %1 = arith.mulf %0, %sc : f32
    linalg.yield %1 : f32
  } -> tensor<64x16xf32>
  %c0 = arith.constant 0.0 : f32
  %i = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%i : tensor<4x16xf32>) -> tensor<4x16xf32>
  %r = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x16xf32>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// A fused norm-style reduction (sum of squares: two body ops) with a floordiv-mapped operand.
// CHECK: "body": [
// CHECK: "op": "mul"
// CHECK: "op": "add"
// CHECK: "iterators": [
// CHECK-NEXT: "parallel",
// CHECK-NEXT: "reduction"
// CHECK: "floordiv",
// CHECK: "op": "generic",
func.func @fused(%x: tensor<4x64xf32>, %s: tensor<2xf32>) -> tensor<4xf32> {
  %c0 = arith.constant 0.0 : f32
  %i = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%i : tensor<4xf32>) -> tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1 floordiv 32)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x, %s : tensor<4x64xf32>, tensor<2xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
