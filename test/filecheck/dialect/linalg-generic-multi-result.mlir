// Multi-result linalg.generic, as torch-mlir emits for torch.max(dim) / argmax (max and its
// index in one reduction). xDSL 0.74 failed on `-> (A, B)` with "Expected '->'", and did not
// check the results against the outputs.
// RUN: mixpe-opt %s | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | mixpe-opt | filecheck %s
// RUN: xdsl-opt %s | filecheck %s
// Printing is stable: print, parse and print again gives the same text.
// RUN: mixpe-opt %s > %t.1.mlir && mixpe-opt %t.1.mlir > %t.2.mlir && diff %t.1.mlir %t.2.mlir
// RUN: sed -n 's|^// BAD: \{0,1\}||p' %s | mixpe-opt --split-input-file --verify-diagnostics | filecheck %s --check-prefix=ERR
// Upstream accepts our generic output, and reads it exactly as it reads this file itself:
// REQUIRES: mlir-opt
// RUN: %mlir-opt %s --mlir-print-op-generic --mlir-print-local-scope > %t.upstream
// RUN: mixpe-opt %s --print-op-generic | %mlir-opt --mlir-print-op-generic --mlir-print-local-scope | diff %t.upstream -
// RUN: mixpe-opt %s | %mlir-opt | filecheck %s --check-prefix=UPSTREAM

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @max_argmax
// CHECK: %{{.*}}, %{{.*}} = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xi64>) {
// CHECK: linalg.yield %{{.*}}, %{{.*}} : f32, i64
// CHECK-NEXT: } -> (tensor<4xf32>, tensor<4xi64>)
// UPSTREAM-LABEL: func.func @max_argmax
// UPSTREAM: %{{.*}}:2 = linalg.generic
// UPSTREAM: } -> (tensor<4xf32>, tensor<4xi64>)
func.func @max_argmax(%x: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xi64>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0 : i64
  %e0 = tensor.empty() : tensor<4xf32>
  %e1 = tensor.empty() : tensor<4xi64>
  %m0 = linalg.fill ins(%ninf : f32) outs(%e0 : tensor<4xf32>) -> tensor<4xf32>
  %i0 = linalg.fill ins(%zero : i64) outs(%e1 : tensor<4xi64>) -> tensor<4xi64>
  %r:2 = linalg.generic {indexing_maps = [#id, #row, #row], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%m0, %i0 : tensor<4xf32>, tensor<4xi64>) {
  ^bb0(%in: f32, %max: f32, %idx: i64):
    %k = linalg.index 1 : index
    %ki = arith.index_cast %k : index to i64
    %new = arith.maximumf %in, %max : f32
    %gt = arith.cmpf ogt, %in, %max : f32
    %sel = arith.select %gt, %ki, %idx : i64
    linalg.yield %new, %sel : f32, i64
  } -> (tensor<4xf32>, tensor<4xi64>)
  func.return %r#0, %r#1 : tensor<4xf32>, tensor<4xi64>
}

// Three elementwise results of different element types.
// CHECK-LABEL: func.func @three_results
// CHECK: } -> (tensor<4x8xf32>, tensor<4x8xf16>, tensor<4x8xi1>)
// CHECK: func.return %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf16>, tensor<4x8xi1>
func.func @three_results(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>, %o0: tensor<4x8xf32>, %o1: tensor<4x8xf16>, %o2: tensor<4x8xi1>) -> (tensor<4x8xf32>, tensor<4x8xf16>, tensor<4x8xi1>) {
  %r:3 = linalg.generic {indexing_maps = [#id, #id, #id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) outs(%o0, %o1, %o2 : tensor<4x8xf32>, tensor<4x8xf16>, tensor<4x8xi1>) {
  ^bb0(%p: f32, %q: f32, %u: f32, %v: f16, %w: i1):
    %s = arith.addf %p, %q : f32
    %t = arith.truncf %s : f32 to f16
    %c = arith.cmpf olt, %p, %q : f32
    linalg.yield %s, %t, %c : f32, f16, i1
  } -> (tensor<4x8xf32>, tensor<4x8xf16>, tensor<4x8xi1>)
  func.return %r#0, %r#1, %r#2 : tensor<4x8xf32>, tensor<4x8xf16>, tensor<4x8xi1>
}

// ERR: error: expected the number of tensor results (1) to be equal to the number of output tensors (2)
// BAD: func.func @one_result(%x: tensor<4x8xf32>, %a: tensor<4xf32>, %b: tensor<4xi64>) -> tensor<4xf32> {
// BAD:   %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%a, %b : tensor<4xf32>, tensor<4xi64>) {
// BAD:   ^bb0(%in: f32, %m: f32, %i: i64):
// BAD:     linalg.yield %m, %i : f32, i64
// BAD:   } -> tensor<4xf32>
// BAD:   func.return %r : tensor<4xf32>
// BAD: }
// BAD: // -----
// ERR: error: expected type of operand #2 (tensor<4xi64>) to match type of corresponding result (tensor<4xi32>)
// BAD: func.func @result_type(%x: tensor<4x8xf32>, %a: tensor<4xf32>, %b: tensor<4xi64>) -> tensor<4xf32> {
// BAD:   %r:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%a, %b : tensor<4xf32>, tensor<4xi64>) {
// BAD:   ^bb0(%in: f32, %m: f32, %i: i64):
// BAD:     linalg.yield %m, %i : f32, i64
// BAD:   } -> (tensor<4xf32>, tensor<4xi32>)
// BAD:   func.return %r#0 : tensor<4xf32>
// BAD: }
// BAD: // -----
// ERR: error: expected number of yield values (1) to match the number of inits / outputs operands of the enclosing linalg.generic (2)
// BAD: func.func @yield_count(%x: tensor<4x8xf32>, %a: tensor<4xf32>, %b: tensor<4xi64>) -> tensor<4xf32> {
// BAD:   %r:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%a, %b : tensor<4xf32>, tensor<4xi64>) {
// BAD:   ^bb0(%in: f32, %m: f32, %i: i64):
// BAD:     linalg.yield %m : f32
// BAD:   } -> (tensor<4xf32>, tensor<4xi64>)
// BAD:   func.return %r#0 : tensor<4xf32>
// BAD: }
// BAD: // -----
// ERR: error: Operation has 2 results, but was given 3 to bind.
// BAD: func.func @bind_count(%x: tensor<4x8xf32>, %a: tensor<4xf32>, %b: tensor<4xi64>) -> tensor<4xf32> {
// BAD:   %r:3 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%a, %b : tensor<4xf32>, tensor<4xi64>) {
// BAD:   ^bb0(%in: f32, %m: f32, %i: i64):
// BAD:     linalg.yield %m, %i : f32, i64
// BAD:   } -> (tensor<4xf32>, tensor<4xi64>)
// BAD:   func.return %r#0 : tensor<4xf32>
// BAD: }
