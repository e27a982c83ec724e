// The pre-MLIR-22 spellings linalg.matmul_transpose_a/_b and linalg.batch_matmul_transpose_a/_b
// (older torch-mlir / IREE exports). MLIR 22 removed them in favour of indexing_maps, so their
// custom form is read as linalg.matmul / linalg.batch_matmul with the equivalent maps, which is
// what we print and what upstream mlir-opt 22 accepts.
// RUN: mixpe-opt %s | filecheck %s
// RUN: mixpe-opt %s | mixpe-opt | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | mixpe-opt | filecheck %s
// RUN: xdsl-opt %s | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC
// Negative cases are the `// BAD:` lines, run on their own:
// RUN: sed -n 's|^// BAD: \{0,1\}||p' %s | mixpe-opt --split-input-file --verify-diagnostics | filecheck %s --check-prefix=ERR
// REQUIRES: mlir-opt
// RUN: mixpe-opt %s --print-op-generic | %mlir-opt | filecheck %s --check-prefix=UPSTREAM

// CHECK-LABEL: func.func @matmul_transpose_a
// CHECK: linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%a, %b : tensor<8x4xf16>, tensor<8x16xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
// GENERIC-LABEL: sym_name = "matmul_transpose_a"
// GENERIC: "linalg.matmul"
// GENERIC-NEXT: ^bb0(%{{.*}}: f16, %{{.*}}: f16, %{{.*}}: f32):
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// UPSTREAM-LABEL: func.func @matmul_transpose_a
// UPSTREAM: linalg.matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<8x16xf16>)
func.func @matmul_transpose_a(%a: tensor<8x4xf16>, %b: tensor<8x16xf16>, %o: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = linalg.matmul_transpose_a ins(%a, %b : tensor<8x4xf16>, tensor<8x16xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %r : tensor<4x16xf32>
}

// HF Linear weights [N,K], i8 x i8 -> i32.
// CHECK-LABEL: func.func @matmul_transpose_b
// CHECK: linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%a, %b : tensor<4x8xi8>, tensor<16x8xi8>) outs(%o : tensor<4x16xi32>) -> tensor<4x16xi32>
// GENERIC-LABEL: sym_name = "matmul_transpose_b"
// GENERIC: "arith.extsi"(%{{.*}}) : (i8) -> i32
func.func @matmul_transpose_b(%a: tensor<4x8xi8>, %b: tensor<16x8xi8>, %o: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %r = linalg.matmul_transpose_b ins(%a, %b : tensor<4x8xi8>, tensor<16x8xi8>) outs(%o : tensor<4x16xi32>) -> tensor<4x16xi32>
  func.return %r : tensor<4x16xi32>
}

// CHECK-LABEL: func.func @batch_matmul_transpose_a
// CHECK: linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%a, %b : tensor<2x8x4xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// UPSTREAM-LABEL: func.func @batch_matmul_transpose_a
// UPSTREAM: linalg.batch_matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins
func.func @batch_matmul_transpose_a(%a: tensor<2x8x4xf16>, %b: tensor<2x8x16xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %r = linalg.batch_matmul_transpose_a ins(%a, %b : tensor<2x8x4xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  func.return %r : tensor<2x4x16xf32>
}

// CHECK-LABEL: func.func @batch_matmul_transpose_b
// CHECK: linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%a, %b : tensor<2x4x8xi8>, tensor<2x16x8xi8>) outs(%o : tensor<2x4x16xi32>) -> tensor<2x4x16xi32>
func.func @batch_matmul_transpose_b(%a: tensor<2x4x8xi8>, %b: tensor<2x16x8xi8>, %o: tensor<2x4x16xi32>) -> tensor<2x4x16xi32> {
  %r = linalg.batch_matmul_transpose_b ins(%a, %b : tensor<2x4x8xi8>, tensor<2x16x8xi8>) outs(%o : tensor<2x4x16xi32>) -> tensor<2x4x16xi32>
  func.return %r : tensor<2x4x16xi32>
}

// ERR: error: inferred input/output operand #1 has shape's dimension #1 to be 8, but found 16
// BAD: func.func @not_transposed(%a: tensor<4x8xf16>, %b: tensor<8x16xf16>, %o: tensor<4x16xf32>) -> tensor<4x16xf32> {
// BAD:   %r = linalg.matmul_transpose_b ins(%a, %b : tensor<4x8xf16>, tensor<8x16xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
// BAD:   func.return %r : tensor<4x16xf32>
// BAD: }
// BAD: // -----
// ERR: error: expected operand #0 of rank 2 to match the result count of indexing_map #0, 3
// BAD: func.func @rank(%a: tensor<8x4xf16>, %b: tensor<2x8x16xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
// BAD:   %r = linalg.batch_matmul_transpose_a ins(%a, %b : tensor<8x4xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// BAD:   func.return %r : tensor<2x4x16xf32>
// BAD: }
