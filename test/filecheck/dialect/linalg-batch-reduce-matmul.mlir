// linalg.batch_reduce_matmul (C[m,n] += sum over b and k of A[b,m,k] * B[b,k,n]), which
// xDSL 0.74 lacks: custom and generic forms, mixed precision, transposed indexing_maps, errors.
// RUN: mixpe-opt %s | filecheck %s
// RUN: mixpe-opt %s | mixpe-opt | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | mixpe-opt | filecheck %s
// RUN: xdsl-opt %s | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC
// Negative cases are the `// BAD:` lines, run on their own:
// RUN: sed -n 's|^// BAD: \{0,1\}||p' %s | mixpe-opt --split-input-file --verify-diagnostics | filecheck %s --check-prefix=ERR
// Upstream accepts our generic output, and reads it exactly as it reads this file itself:
// REQUIRES: mlir-opt
// RUN: %mlir-opt %s --mlir-print-op-generic --mlir-print-local-scope > %t.upstream
// RUN: mixpe-opt %s --print-op-generic | %mlir-opt --mlir-print-op-generic --mlir-print-local-scope | diff %t.upstream -
// RUN: mixpe-opt %s --print-op-generic | %mlir-opt | filecheck %s --check-prefix=UPSTREAM

// CHECK-LABEL: func.func @f16_f32
// CHECK: linalg.batch_reduce_matmul ins(%a, %b : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
// GENERIC-LABEL: sym_name = "f16_f32"
// GENERIC: "linalg.batch_reduce_matmul"(%a, %b, %o) <{operandSegmentSizes = array<i32: 2, 1>, indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d1, d2)>]}>
// GENERIC-NEXT: ^bb0(%{{.*}}: f16, %{{.*}}: f16, %{{.*}}: f32):
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.mulf"
// GENERIC-NEXT: "arith.addf"
// UPSTREAM-LABEL: func.func @f16_f32
// UPSTREAM: linalg.batch_reduce_matmul ins(%{{.*}}, %{{.*}} : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%{{.*}} : tensor<4x16xf32>) -> tensor<4x16xf32>
func.func @f16_f32(%a: tensor<2x4x8xf16>, %b: tensor<2x8x16xf16>, %o: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = linalg.batch_reduce_matmul ins(%a, %b : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %r : tensor<4x16xf32>
}

// CHECK-LABEL: func.func @i8_i32
// CHECK: linalg.batch_reduce_matmul ins(%a, %b : tensor<3x4x8xi8>, tensor<3x8x16xi8>) outs(%o : tensor<4x16xi32>) -> tensor<4x16xi32>
// GENERIC-LABEL: sym_name = "i8_i32"
// GENERIC: ^bb0(%{{.*}}: i8, %{{.*}}: i8, %{{.*}}: i32):
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.muli"
// GENERIC-NEXT: "arith.addi"
func.func @i8_i32(%a: tensor<3x4x8xi8>, %b: tensor<3x8x16xi8>, %o: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %r = linalg.batch_reduce_matmul ins(%a, %b : tensor<3x4x8xi8>, tensor<3x8x16xi8>) outs(%o : tensor<4x16xi32>) -> tensor<4x16xi32>
  func.return %r : tensor<4x16xi32>
}

// B stored [b,n,k].
// CHECK-LABEL: func.func @transposed_b
// CHECK: linalg.batch_reduce_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, d2)>] ins(%a, %b : tensor<2x4x8xf32>, tensor<2x16x8xf32>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
// UPSTREAM-LABEL: func.func @transposed_b
// UPSTREAM: linalg.batch_reduce_matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins
func.func @transposed_b(%a: tensor<2x4x8xf32>, %b: tensor<2x16x8xf32>, %o: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = linalg.batch_reduce_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, d2)>] ins(%a, %b : tensor<2x4x8xf32>, tensor<2x16x8xf32>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %r : tensor<4x16xf32>
}

// ERR: error: expected operand #2 of rank 3 to match the result count of indexing_map #2, 2
// BAD: func.func @batched_output(%a: tensor<2x4x8xf16>, %b: tensor<2x8x16xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
// BAD:   %r = linalg.batch_reduce_matmul ins(%a, %b : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// BAD:   func.return %r : tensor<2x4x16xf32>
// BAD: }
// BAD: // -----
// ERR: error: inferred input/output operand #1 has shape's dimension #0 to be 2, but found 3
// BAD: func.func @batch_mismatch(%a: tensor<2x4x8xf16>, %b: tensor<3x8x16xf16>, %o: tensor<4x16xf32>) -> tensor<4x16xf32> {
// BAD:   %r = linalg.batch_reduce_matmul ins(%a, %b : tensor<2x4x8xf16>, tensor<3x8x16xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
// BAD:   func.return %r : tensor<4x16xf32>
// BAD: }
