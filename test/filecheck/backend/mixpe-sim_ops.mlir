// What real model exports contain besides quantized linears, as program instructions:
// named contractions as dense array matmuls (operands arranged to [b,M,K] x [b,K,N] or nk),
// static slices/pads, torch's pow(x, 2), keepdim reductions and tm_tensor.sort (topk).
// RUN: mixpe-opt %s --split-input-file -t mixpe-sim | filecheck %s

// A transposed-B batch_matmul (attention's Q.K^T) is one batched `nk` matmul; the zero fill it
// skips is not in the program.
// CHECK-LABEL: "function": "bmm",
// CHECK-NOT: "op": "fill"
// CHECK: "layout": "nk"
// CHECK-NEXT: },
// CHECK-NEXT: "loc": "{{.*}}mixpe-sim_ops.mlir:[[# @LINE + 14]]:3",
// CHECK-NEXT: "op": "matmul",
// CHECK-NEXT: "results": [
// CHECK-NEXT: {
// CHECK-NEXT: "dtype": "f32",
// CHECK-NEXT: "name": "{{t[0-9]+}}",
// CHECK-NEXT: "shape": [
// CHECK-NEXT: 2,
// CHECK-NEXT: 4,
// CHECK-NEXT: 6
func.func @bmm(%a: tensor<2x4x8xf32>, %b: tensor<2x6x8xf32>) -> tensor<2x4x6xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x6xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %r = linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%a, %b : tensor<2x4x8xf32>, tensor<2x6x8xf32>) outs(%c : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  return %r : tensor<2x4x6xf32>
}

// -----

// matvec: the vector becomes a [K,1] matrix and the result is reshaped back.
// CHECK-LABEL: "function": "mv",
// CHECK: "op": "reshape",
// CHECK: "op": "matmul",
// CHECK: "op": "reshape",
func.func @mv(%a: tensor<4x8xf32>, %v: tensor<8xf32>) -> tensor<4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %r = linalg.matvec ins(%a, %v : tensor<4x8xf32>, tensor<8xf32>) outs(%c : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// CHECK-LABEL: "function": "tensors",
// CHECK: "offsets": [
// CHECK: "op": "slice",
// CHECK: "op": "reshape",
// CHECK: "op": "insert_slice",
// CHECK: "high": [
// CHECK: "value": 0.0
// CHECK: "op": "pad",
func.func @tensors(%x: tensor<4x8xf32>, %d: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x12xf32>) {
  %s = tensor.extract_slice %x[1, 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<8xf32>
  %i = tensor.insert_slice %s into %d[3, 0] [1, 8] [1, 1] : tensor<8xf32> into tensor<4x8xf32>
  %c = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0] high[0, 4] {
  ^bb0(%a: index, %b: index):
    tensor.yield %c : f32
  } : tensor<4x8xf32> to tensor<4x12xf32>
  return %i, %p : tensor<4x8xf32>, tensor<4x12xf32>
}

// -----

// RMSNorm's pow(x, 2) then mean with keepdim=True.
// CHECK-LABEL: "function": "rms",
// CHECK: "op": "sitofp"
// CHECK: "op": "pow"
// CHECK: "op": "reduce",
// CHECK: "op": "reshape",
func.func @rms(%x: tensor<1x4x8xf32>) -> tensor<1x4x1xf32> {
  %two = arith.constant 2 : i64
  %e = tensor.empty() : tensor<1x4x8xf32>
  %sq = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<1x4x8xf32>) outs(%e : tensor<1x4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = math.fpowi %a, %two : f32, i64
    linalg.yield %0 : f32
  } -> tensor<1x4x8xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<1x4x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e1 : tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%sq : tensor<1x4x8xf32>) outs(%f : tensor<1x4x1xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.addf %a, %o : f32
    linalg.yield %0 : f32
  } -> tensor<1x4x1xf32>
  return %s : tensor<1x4x1xf32>
}

// -----

// topk: a stable descending sort of values and indices alike.
// CHECK-LABEL: "function": "topk",
// CHECK: "descending": true,
// CHECK-NEXT: "dim": 1,
// CHECK-NEXT: "key": 0
// CHECK: "op": "sort",
func.func @topk(%v: tensor<4x8xf32>, %i: tensor<4x8xi64>) -> (tensor<4x8xf32>, tensor<4x8xi64>) {
  %s:2 = tm_tensor.sort dimension(1) outs(%v, %i : tensor<4x8xf32>, tensor<4x8xi64>) {
  ^bb0(%a: f32, %b: f32, %ia: i64, %ib: i64):
    %c = arith.cmpf oge, %a, %b : f32
    tm_tensor.yield %c : i1
  } -> tensor<4x8xf32>, tensor<4x8xi64>
  return %s#0, %s#1 : tensor<4x8xf32>, tensor<4x8xi64>
}
