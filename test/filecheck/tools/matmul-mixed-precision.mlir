// Frontend-style f16 x f16 -> f32 and i8 x i8 -> i32 matmuls, which xDSL 0.74 alone
// rejects, parse and print with upstream-compatible bodies in both tools.
// RUN: mixpe-opt %s | filecheck %s
// RUN: xdsl-opt %s | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC
// Non-default indexing maps must survive the custom printer (xDSL 0.74 drops them).
// RUN: mixpe-opt %s | mixpe-opt --print-op-generic | filecheck %s --check-prefix=MAPS

// CHECK-LABEL: func.func @f16_f32
// CHECK: linalg.matmul ins(%a, %b : tensor<4x8xf16>, tensor<8x16xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
// GENERIC-LABEL: sym_name = "f16_f32"
// GENERIC: ^bb0(%{{.*}}: f16, %{{.*}}: f16, %{{.*}}: f32):
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.extf"(%{{.*}}) : (f16) -> f32
// GENERIC-NEXT: "arith.mulf"
// GENERIC-NEXT: "arith.addf"
func.func @f16_f32(%a: tensor<4x8xf16>, %b: tensor<8x16xf16>, %o: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %m = linalg.matmul ins(%a, %b : tensor<4x8xf16>, tensor<8x16xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %m : tensor<4x16xf32>
}

// CHECK-LABEL: func.func @i8_i32
// GENERIC-LABEL: sym_name = "i8_i32"
// GENERIC: "arith.extsi"(%{{.*}}) : (i8) -> i32
func.func @i8_i32(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %o: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %m = linalg.matmul ins(%a, %b : tensor<4x8xi8>, tensor<8x16xi8>) outs(%o : tensor<4x16xi32>) -> tensor<4x16xi32>
  func.return %m : tensor<4x16xi32>
}

// CHECK-LABEL: func.func @transposed_b
// CHECK: linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins
// MAPS-LABEL: sym_name = "transposed_b"
// MAPS: indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
func.func @transposed_b(%a: tensor<4x8xf16>, %b: tensor<16x8xf16>, %o: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%a, %b : tensor<4x8xf16>, tensor<16x8xf16>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %m : tensor<4x16xf32>
}
