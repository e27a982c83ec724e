// linalg.dot (y[] += a[k] * b[k], into a rank-0 tensor), which xDSL 0.74 lacks: custom and
// generic forms, mixed precision, and errors. Its maps are fixed upstream (no indexing_maps).
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
// CHECK: linalg.dot ins(%a, %b : tensor<8xf16>, tensor<8xf16>) outs(%o : tensor<f32>) -> tensor<f32>
// GENERIC-LABEL: sym_name = "f16_f32"
// GENERIC: "linalg.dot"(%a, %b, %o) <{operandSegmentSizes = array<i32: 2, 1>}>
// GENERIC-NEXT: ^bb0(%{{.*}}: f16, %{{.*}}: f16, %{{.*}}: f32):
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.mulf"
// GENERIC-NEXT: "arith.addf"
// UPSTREAM-LABEL: func.func @f16_f32
// UPSTREAM: linalg.dot ins(%{{.*}}, %{{.*}} : tensor<8xf16>, tensor<8xf16>) outs(%{{.*}} : tensor<f32>) -> tensor<f32>
func.func @f16_f32(%a: tensor<8xf16>, %b: tensor<8xf16>, %o: tensor<f32>) -> tensor<f32> {
  %r = linalg.dot ins(%a, %b : tensor<8xf16>, tensor<8xf16>) outs(%o : tensor<f32>) -> tensor<f32>
  func.return %r : tensor<f32>
}

// CHECK-LABEL: func.func @i8_i32
// CHECK: linalg.dot ins(%a, %b : tensor<64xi8>, tensor<64xi8>) outs(%o : tensor<i32>) -> tensor<i32>
// GENERIC-LABEL: sym_name = "i8_i32"
// GENERIC: ^bb0(%{{.*}}: i8, %{{.*}}: i8, %{{.*}}: i32):
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.muli"
// GENERIC-NEXT: "arith.addi"
func.func @i8_i32(%a: tensor<64xi8>, %b: tensor<64xi8>, %o: tensor<i32>) -> tensor<i32> {
  %r = linalg.dot ins(%a, %b : tensor<64xi8>, tensor<64xi8>) outs(%o : tensor<i32>) -> tensor<i32>
  func.return %r : tensor<i32>
}

// ERR: error: expected operand #2 of rank 1 to match the result count of indexing_map #2, 0
// BAD: func.func @vector_out(%a: tensor<8xf16>, %b: tensor<8xf16>, %o: tensor<1xf32>) -> tensor<1xf32> {
// BAD:   %r = linalg.dot ins(%a, %b : tensor<8xf16>, tensor<8xf16>) outs(%o : tensor<1xf32>) -> tensor<1xf32>
// BAD:   func.return %r : tensor<1xf32>
// BAD: }
// BAD: // -----
// ERR: error: inferred input/output operand #1 has shape's dimension #0 to be 8, but found 7
// BAD: func.func @length_mismatch(%a: tensor<8xf16>, %b: tensor<7xf16>, %o: tensor<f32>) -> tensor<f32> {
// BAD:   %r = linalg.dot ins(%a, %b : tensor<8xf16>, tensor<7xf16>) outs(%o : tensor<f32>) -> tensor<f32>
// BAD:   func.return %r : tensor<f32>
// BAD: }
// BAD: // -----
// ERR: error: 'linalg.dot' lhs element type index is not an integer or float type
// BAD: func.func @index(%a: tensor<8xindex>, %b: tensor<8xindex>, %o: tensor<index>) -> tensor<index> {
// BAD:   %r = linalg.dot ins(%a, %b : tensor<8xindex>, tensor<8xindex>) outs(%o : tensor<index>) -> tensor<index>
// BAD:   func.return %r : tensor<index>
// BAD: }
