// linalg.batch_matmul, which xDSL 0.74 lacks: upstream's custom and generic forms,
// mixed-precision accumulators, MLIR 22 indexing_maps (transposed / broadcast operands),
// cast_unsigned, memrefs, and verifier errors. Stock xdsl-opt sees it through our plugin.
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
// CHECK: linalg.batch_matmul ins(%a, %b : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// GENERIC-LABEL: sym_name = "f16_f32"
// GENERIC: "linalg.batch_matmul"(%a, %b, %o) <{operandSegmentSizes = array<i32: 2, 1>, indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]}>
// GENERIC-NEXT: ^bb0(%{{.*}}: f16, %{{.*}}: f16, %{{.*}}: f32):
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.mulf"
// GENERIC-NEXT: "arith.addf"
// GENERIC-NEXT: "linalg.yield"
// UPSTREAM-LABEL: func.func @f16_f32
// UPSTREAM: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%{{.*}} : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
func.func @f16_f32(%a: tensor<2x4x8xf16>, %b: tensor<2x8x16xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  func.return %r : tensor<2x4x16xf32>
}

// CHECK-LABEL: func.func @i8_i32
// CHECK: linalg.batch_matmul ins(%a, %b : tensor<3x4x8xi8>, tensor<3x8x16xi8>) outs(%o : tensor<3x4x16xi32>) -> tensor<3x4x16xi32>
// GENERIC-LABEL: sym_name = "i8_i32"
// GENERIC: ^bb0(%{{.*}}: i8, %{{.*}}: i8, %{{.*}}: i32):
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.muli"
// GENERIC-NEXT: "arith.addi"
func.func @i8_i32(%a: tensor<3x4x8xi8>, %b: tensor<3x8x16xi8>, %o: tensor<3x4x16xi32>) -> tensor<3x4x16xi32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<3x4x8xi8>, tensor<3x8x16xi8>) outs(%o : tensor<3x4x16xi32>) -> tensor<3x4x16xi32>
  func.return %r : tensor<3x4x16xi32>
}

// Both operands transposed: A[b,k,m], B[b,n,k] (what the old batch_matmul_transpose_a/_b did).
// CHECK-LABEL: func.func @transposed
// CHECK: linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%a, %b : tensor<2x8x4xf16>, tensor<2x16x8xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// GENERIC-LABEL: sym_name = "transposed"
// GENERIC: indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]
// UPSTREAM-LABEL: func.func @transposed
// UPSTREAM: linalg.batch_matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins
func.func @transposed(%a: tensor<2x8x4xf16>, %b: tensor<2x16x8xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %r = linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%a, %b : tensor<2x8x4xf16>, tensor<2x16x8xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  func.return %r : tensor<2x4x16xf32>
}

// The weights broadcast over the batch: B[k,n].
// CHECK-LABEL: func.func @broadcast_rhs
// CHECK: linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%a, %b : tensor<2x4x8xi8>, tensor<8x16xi8>)
func.func @broadcast_rhs(%a: tensor<2x4x8xi8>, %b: tensor<8x16xi8>, %o: tensor<2x4x16xi32>) -> tensor<2x4x16xi32> {
  %r = linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%a, %b : tensor<2x4x8xi8>, tensor<8x16xi8>) outs(%o : tensor<2x4x16xi32>) -> tensor<2x4x16xi32>
  func.return %r : tensor<2x4x16xi32>
}

// CHECK-LABEL: func.func @unsigned
// CHECK: linalg.batch_matmul {cast = #linalg.type_fn<cast_unsigned>} ins(%a, %b : tensor<2x4x8xi8>, tensor<2x8x16xi8>) outs(%o : tensor<2x4x16xi32>) -> tensor<2x4x16xi32>
// GENERIC-LABEL: sym_name = "unsigned"
// GENERIC: cast = #linalg.type_fn<cast_unsigned>
// GENERIC-NEXT: ^bb0(%{{.*}}: i8, %{{.*}}: i8, %{{.*}}: i32):
// GENERIC-NEXT: "arith.extui"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.extui"(%{{.*}}) : (i8) -> i32
// UPSTREAM-LABEL: func.func @unsigned
// UPSTREAM: linalg.batch_matmul {cast = #linalg.type_fn<cast_unsigned>} ins
func.func @unsigned(%a: tensor<2x4x8xi8>, %b: tensor<2x8x16xi8>, %o: tensor<2x4x16xi32>) -> tensor<2x4x16xi32> {
  %r = linalg.batch_matmul {cast = #linalg.type_fn<cast_unsigned>} ins(%a, %b : tensor<2x4x8xi8>, tensor<2x8x16xi8>) outs(%o : tensor<2x4x16xi32>) -> tensor<2x4x16xi32>
  func.return %r : tensor<2x4x16xi32>
}

// Buffers: no result.
// CHECK-LABEL: func.func @buffers
// CHECK: linalg.batch_matmul ins(%a, %b : memref<2x4x8xf32>, memref<2x8x16xf32>) outs(%o : memref<2x4x16xf32>){{$}}
func.func @buffers(%a: memref<2x4x8xf32>, %b: memref<2x8x16xf32>, %o: memref<2x4x16xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<2x4x8xf32>, memref<2x8x16xf32>) outs(%o : memref<2x4x16xf32>)
  func.return
}

// ERR: error: expected operand #0 of rank 2 to match the result count of indexing_map #0, 3
// BAD: func.func @rank(%a: tensor<4x8xf16>, %b: tensor<2x8x16xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
// BAD:   %r = linalg.batch_matmul ins(%a, %b : tensor<4x8xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// BAD:   func.return %r : tensor<2x4x16xf32>
// BAD: }
// BAD: // -----
// ERR: error: inferred input/output operand #1 has shape's dimension #1 to be 8, but found 9
// BAD: func.func @k_mismatch(%a: tensor<2x4x8xf16>, %b: tensor<2x9x16xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
// BAD:   %r = linalg.batch_matmul ins(%a, %b : tensor<2x4x8xf16>, tensor<2x9x16xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// BAD:   func.return %r : tensor<2x4x16xf32>
// BAD: }
// BAD: // -----
// ERR: error: expected type of operand #2 (tensor<2x4x16xf32>) to match type of corresponding result (tensor<2x4x16xf16>)
// BAD: func.func @result_type(%a: tensor<2x4x8xf16>, %b: tensor<2x8x16xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf16> {
// BAD:   %r = linalg.batch_matmul ins(%a, %b : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf16>
// BAD:   func.return %r : tensor<2x4x16xf16>
// BAD: }
// BAD: // -----
// ERR: error: the output indexing_map must be (d0, d1, d2, d3) -> (d0, d1, d2), got (d0, d1, d2, d3) -> (d0, d2, d1)
// BAD: func.func @output_map(%a: tensor<2x4x8xf16>, %b: tensor<2x8x16xf16>, %o: tensor<2x16x4xf32>) -> tensor<2x16x4xf32> {
// BAD:   %r = linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d1)>] ins(%a, %b : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x16x4xf32>) -> tensor<2x16x4xf32>
// BAD:   func.return %r : tensor<2x16x4xf32>
// BAD: }
// BAD: // -----
// ERR: error: 'linalg.batch_matmul' expected 2 inputs and 1 output, got 1 input(s) and 1 output(s)
// BAD: func.func @one_input(%a: tensor<2x4x8xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
// BAD:   %r = linalg.batch_matmul ins(%a : tensor<2x4x8xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// BAD:   func.return %r : tensor<2x4x16xf32>
// BAD: }
