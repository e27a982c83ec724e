// linalg.vecmat (y[n] += x[k] * A[k,n]), which xDSL 0.74 lacks: custom and generic forms,
// mixed precision, and errors. Its maps are fixed upstream (no indexing_maps).
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
// CHECK: linalg.vecmat ins(%x, %a : tensor<8xf16>, tensor<8x16xf16>) outs(%o : tensor<16xf32>) -> tensor<16xf32>
// GENERIC-LABEL: sym_name = "f16_f32"
// GENERIC: "linalg.vecmat"(%x, %a, %o) <{operandSegmentSizes = array<i32: 2, 1>}>
// GENERIC-NEXT: ^bb0(%{{.*}}: f16, %{{.*}}: f16, %{{.*}}: f32):
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.mulf"
// GENERIC-NEXT: "arith.addf"
// UPSTREAM-LABEL: func.func @f16_f32
// UPSTREAM: linalg.vecmat ins(%{{.*}}, %{{.*}} : tensor<8xf16>, tensor<8x16xf16>) outs(%{{.*}} : tensor<16xf32>) -> tensor<16xf32>
func.func @f16_f32(%x: tensor<8xf16>, %a: tensor<8x16xf16>, %o: tensor<16xf32>) -> tensor<16xf32> {
  %r = linalg.vecmat ins(%x, %a : tensor<8xf16>, tensor<8x16xf16>) outs(%o : tensor<16xf32>) -> tensor<16xf32>
  func.return %r : tensor<16xf32>
}

// CHECK-LABEL: func.func @i8_i32
// CHECK: linalg.vecmat ins(%x, %a : tensor<8xi8>, tensor<8x16xi8>) outs(%o : tensor<16xi32>) -> tensor<16xi32>
// GENERIC-LABEL: sym_name = "i8_i32"
// GENERIC: ^bb0(%{{.*}}: i8, %{{.*}}: i8, %{{.*}}: i32):
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.muli"
// GENERIC-NEXT: "arith.addi"
func.func @i8_i32(%x: tensor<8xi8>, %a: tensor<8x16xi8>, %o: tensor<16xi32>) -> tensor<16xi32> {
  %r = linalg.vecmat ins(%x, %a : tensor<8xi8>, tensor<8x16xi8>) outs(%o : tensor<16xi32>) -> tensor<16xi32>
  func.return %r : tensor<16xi32>
}

// i8 activations into an f32 accumulator: sitofp, as upstream's cast_signed.
// GENERIC-LABEL: sym_name = "i8_f32"
// GENERIC: ^bb0(%{{.*}}: i8, %{{.*}}: f16, %{{.*}}: f32):
// GENERIC-NEXT: "arith.sitofp"(%{{.*}}) : (i8) -> f32
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
func.func @i8_f32(%x: tensor<8xi8>, %a: tensor<8x16xf16>, %o: tensor<16xf32>) -> tensor<16xf32> {
  %r = linalg.vecmat ins(%x, %a : tensor<8xi8>, tensor<8x16xf16>) outs(%o : tensor<16xf32>) -> tensor<16xf32>
  func.return %r : tensor<16xf32>
}

// ERR: error: inferred input/output operand #2 has shape's dimension #0 to be 16, but found 8
// BAD: func.func @n_mismatch(%x: tensor<8xf16>, %a: tensor<8x16xf16>, %o: tensor<8xf32>) -> tensor<8xf32> {
// BAD:   %r = linalg.vecmat ins(%x, %a : tensor<8xf16>, tensor<8x16xf16>) outs(%o : tensor<8xf32>) -> tensor<8xf32>
// BAD:   func.return %r : tensor<8xf32>
// BAD: }
// BAD: // -----
// ERR: error: expected operand #0 of rank 2 to match the result count of indexing_map #0, 1
// BAD: func.func @matrix_lhs(%x: tensor<1x8xf16>, %a: tensor<8x16xf16>, %o: tensor<16xf32>) -> tensor<16xf32> {
// BAD:   %r = linalg.vecmat ins(%x, %a : tensor<1x8xf16>, tensor<8x16xf16>) outs(%o : tensor<16xf32>) -> tensor<16xf32>
// BAD:   func.return %r : tensor<16xf32>
// BAD: }
