// linalg.matvec (y[m] += A[m,k] * x[k]), which xDSL 0.74 lacks: custom and generic forms,
// mixed precision, upstream's memoized-maps attribute, and errors. Its maps are fixed upstream
// (no indexing_maps); a transposed matrix is a linalg.vecmat.
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
// CHECK: linalg.matvec ins(%a, %x : tensor<4x8xf16>, tensor<8xf16>) outs(%o : tensor<4xf32>) -> tensor<4xf32>
// GENERIC-LABEL: sym_name = "f16_f32"
// GENERIC: "linalg.matvec"(%a, %x, %o) <{operandSegmentSizes = array<i32: 2, 1>}>
// GENERIC-NEXT: ^bb0(%{{.*}}: f16, %{{.*}}: f16, %{{.*}}: f32):
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.mulf"
// GENERIC-NEXT: "arith.addf"
// UPSTREAM-LABEL: func.func @f16_f32
// UPSTREAM: linalg.matvec ins(%{{.*}}, %{{.*}} : tensor<4x8xf16>, tensor<8xf16>) outs(%{{.*}} : tensor<4xf32>) -> tensor<4xf32>
func.func @f16_f32(%a: tensor<4x8xf16>, %x: tensor<8xf16>, %o: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.matvec ins(%a, %x : tensor<4x8xf16>, tensor<8xf16>) outs(%o : tensor<4xf32>) -> tensor<4xf32>
  func.return %r : tensor<4xf32>
}

// CHECK-LABEL: func.func @i8_i32
// CHECK: linalg.matvec ins(%a, %x : tensor<4x8xi8>, tensor<8xi8>) outs(%o : tensor<4xi32>) -> tensor<4xi32>
// GENERIC-LABEL: sym_name = "i8_i32"
// GENERIC: ^bb0(%{{.*}}: i8, %{{.*}}: i8, %{{.*}}: i32):
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.extsi"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.muli"
// GENERIC-NEXT: "arith.addi"
func.func @i8_i32(%a: tensor<4x8xi8>, %x: tensor<8xi8>, %o: tensor<4xi32>) -> tensor<4xi32> {
  %r = linalg.matvec ins(%a, %x : tensor<4x8xi8>, tensor<8xi8>) outs(%o : tensor<4xi32>) -> tensor<4xi32>
  func.return %r : tensor<4xi32>
}

// Upstream's generic form memoizes the maps in a discardable attribute: accepted, kept in
// generic form, not printed in the custom form (as upstream).
// CHECK-LABEL: func.func @memoized
// CHECK: linalg.matvec ins(%a, %x : tensor<4x8xf32>, tensor<8xf32>) outs(%o : tensor<4xf32>) -> tensor<4xf32>
// GENERIC-LABEL: sym_name = "memoized"
// GENERIC: linalg.memoized_indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>]
func.func @memoized(%a: tensor<4x8xf32>, %x: tensor<8xf32>, %o: tensor<4xf32>) -> tensor<4xf32> {
  %r = "linalg.matvec"(%a, %x, %o) <{operandSegmentSizes = array<i32: 2, 1>}> ({
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }) {linalg.memoized_indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>]} : (tensor<4x8xf32>, tensor<8xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %r : tensor<4xf32>
}

// ERR: error: inferred input/output operand #1 has shape's dimension #0 to be 8, but found 4
// BAD: func.func @k_mismatch(%a: tensor<4x8xf16>, %x: tensor<4xf16>, %o: tensor<4xf32>) -> tensor<4xf32> {
// BAD:   %r = linalg.matvec ins(%a, %x : tensor<4x8xf16>, tensor<4xf16>) outs(%o : tensor<4xf32>) -> tensor<4xf32>
// BAD:   func.return %r : tensor<4xf32>
// BAD: }
// BAD: // -----
// ERR: error: expected operand #1 of rank 2 to match the result count of indexing_map #1, 1
// BAD: func.func @matrix_rhs(%a: tensor<4x8xf16>, %x: tensor<8x1xf16>, %o: tensor<4xf32>) -> tensor<4xf32> {
// BAD:   %r = linalg.matvec ins(%a, %x : tensor<4x8xf16>, tensor<8x1xf16>) outs(%o : tensor<4xf32>) -> tensor<4xf32>
// BAD:   func.return %r : tensor<4xf32>
// BAD: }
// BAD: // -----
// ERR: error: 'linalg.matvec' does not take indexing_maps
// BAD: func.func @maps(%a: tensor<8x4xf16>, %x: tensor<8xf16>, %o: tensor<4xf32>) -> tensor<4xf32> {
// BAD:   %r = linalg.matvec indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>] ins(%a, %x : tensor<8x4xf16>, tensor<8xf16>) outs(%o : tensor<4xf32>) -> tensor<4xf32>
// BAD:   func.return %r : tensor<4xf32>
// BAD: }
