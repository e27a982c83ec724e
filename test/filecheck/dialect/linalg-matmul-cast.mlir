// `cast = #linalg.type_fn<cast_unsigned>` on linalg.matmul (xDSL 0.74 knows neither the
// attribute nor its body): the operands are zero-extended (extui / uitofp), as upstream does.
// RUN: mixpe-opt %s | filecheck %s
// RUN: mixpe-opt %s | mixpe-opt | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | mixpe-opt | filecheck %s
// RUN: xdsl-opt %s | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC
// RUN: sed -n 's|^// BAD: \{0,1\}||p' %s | mixpe-opt --split-input-file --verify-diagnostics | filecheck %s --check-prefix=ERR
// REQUIRES: mlir-opt
// RUN: %mlir-opt %s --mlir-print-op-generic --mlir-print-local-scope > %t.upstream
// RUN: mixpe-opt %s --print-op-generic | %mlir-opt --mlir-print-op-generic --mlir-print-local-scope | diff %t.upstream -

// CHECK-LABEL: func.func @u8
// CHECK: linalg.matmul {cast = #linalg.type_fn<cast_unsigned>} ins(%a, %b : tensor<4x8xi8>, tensor<8x16xi8>) outs(%o : tensor<4x16xi32>) -> tensor<4x16xi32>
// GENERIC-LABEL: sym_name = "u8"
// GENERIC: "arith.extui"(%{{.*}}) : (i8) -> i32
// GENERIC-NEXT: "arith.extui"(%{{.*}}) : (i8) -> i32
func.func @u8(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %o: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %r = linalg.matmul {cast = #linalg.type_fn<cast_unsigned>} ins(%a, %b : tensor<4x8xi8>, tensor<8x16xi8>) outs(%o : tensor<4x16xi32>) -> tensor<4x16xi32>
  func.return %r : tensor<4x16xi32>
}

// CHECK-LABEL: func.func @u8_f32_transposed
// CHECK: linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {cast = #linalg.type_fn<cast_unsigned>} ins(%a, %b : tensor<4x8xi8>, tensor<16x8xf16>)
// GENERIC-LABEL: sym_name = "u8_f32_transposed"
// GENERIC: "arith.uitofp"(%{{.*}}) : (i8) -> f32
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
func.func @u8_f32_transposed(%a: tensor<4x8xi8>, %b: tensor<16x8xf16>, %o: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {cast = #linalg.type_fn<cast_unsigned>} ins(%a, %b : tensor<4x8xi8>, tensor<16x8xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %r : tensor<4x16xf32>
}

// ERR: error: expected cast to be a #linalg.type_fn<...>
// BAD: func.func @bad_cast(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %o: tensor<4x16xi32>) -> tensor<4x16xi32> {
// BAD:   %r = linalg.matmul {cast = "unsigned"} ins(%a, %b : tensor<4x8xi8>, tensor<8x16xi8>) outs(%o : tensor<4x16xi32>) -> tensor<4x16xi32>
// BAD:   func.return %r : tensor<4x16xi32>
// BAD: }
