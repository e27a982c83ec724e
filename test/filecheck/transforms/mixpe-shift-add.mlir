// RUN: mixpe-opt %s --split-input-file -p mixpe-shift-add | filecheck %s

// Signed 4-bit weights [N,K], f16 activations: planes are kn-oriented [B,K,N], the MSB
// coefficient is negative (two's complement), and the schedule moves to the new psum op.
// CHECK-LABEL: func.func @signed_w4_nk_f16
// CHECK-NEXT:    %[[PL:.*]] = mixpe.bitplanes %w bits 4 signed layout nk : (tensor<64x256xi8>) -> tensor<4x256x64xi1>
// CHECK-NEXT:    %[[P:.*]] = mixpe.bitplane_psum %x, %[[PL]] group 128 coefficients [1, 2, 4, -8] schedule #mixpe.schedule<os, array = [32, 32], tile = [64, 128, 256], order = "nmk"> : (tensor<4x256xf16>, tensor<4x256x64xi1>) -> tensor<4x2x64xf32>
// CHECK-NEXT:    func.return %[[P]]
func.func @signed_w4_nk_f16(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>) -> tensor<4x2x64xf32> {
  %p = mixpe.group_psum %x, %w group 128 bits 4 signed format int layout nk schedule #mixpe.schedule<os, array = [32, 32], tile = [64, 128, 256], order = "nmk"> : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  func.return %p : tensor<4x2x64xf32>
}

// -----

// Unsigned 4-bit (GPTQ uint4) with int8 activations: every coefficient is positive, i32 sums.
// CHECK-LABEL: func.func @unsigned_w4a8_kn
// CHECK-NEXT:    %[[PL:.*]] = mixpe.bitplanes %w bits 4 unsigned layout kn : (tensor<128x32xi8>) -> tensor<4x128x32xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %[[PL]] group 32 coefficients [1, 2, 4, 8] : (tensor<8x128xi8>, tensor<4x128x32xi1>) -> tensor<8x4x32xi32>
func.func @unsigned_w4a8_kn(%x: tensor<8x128xi8>, %w: tensor<128x32xi8>) -> tensor<8x4x32xi32> {
  %p = mixpe.group_psum %x, %w group 32 bits 4 unsigned format int layout kn : (tensor<8x128xi8>, tensor<128x32xi8>) -> tensor<8x4x32xi32>
  func.return %p : tensor<8x4x32xi32>
}

// -----

// 2-bit signed, bf16 activations: {-2..1} = b0 - 2*b1.
// CHECK-LABEL: func.func @signed_w2_bf16
// CHECK-NEXT:    mixpe.bitplanes %w bits 2 signed layout kn : (tensor<64x16xi8>) -> tensor<2x64x16xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %{{.*}} group 64 coefficients [1, -2] : (tensor<3x64xbf16>, tensor<2x64x16xi1>) -> tensor<3x1x16xf32>
func.func @signed_w2_bf16(%x: tensor<3x64xbf16>, %w: tensor<64x16xi8>) -> tensor<3x1x16xf32> {
  %p = mixpe.group_psum %x, %w group 64 bits 2 signed format int layout kn : (tensor<3x64xbf16>, tensor<64x16xi8>) -> tensor<3x1x16xf32>
  func.return %p : tensor<3x1x16xf32>
}

// -----

// 3-bit unsigned, f32 activations, [N,K] weights.
// CHECK-LABEL: func.func @unsigned_w3_nk_f32
// CHECK-NEXT:    mixpe.bitplanes %w bits 3 unsigned layout nk : (tensor<24x96xi8>) -> tensor<3x96x24xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %{{.*}} group 32 coefficients [1, 2, 4] : (tensor<2x96xf32>, tensor<3x96x24xi1>) -> tensor<2x3x24xf32>
func.func @unsigned_w3_nk_f32(%x: tensor<2x96xf32>, %w: tensor<24x96xi8>) -> tensor<2x3x24xf32> {
  %p = mixpe.group_psum %x, %w group 32 bits 3 unsigned format int layout nk : (tensor<2x96xf32>, tensor<24x96xi8>) -> tensor<2x3x24xf32>
  func.return %p : tensor<2x3x24xf32>
}

// -----

// 8-bit weights, signed and unsigned, int8 activations: eight planes, bit-serial on a 4-bit PE.
// CHECK-LABEL: func.func @w8a8
// CHECK-NEXT:    mixpe.bitplanes %w bits 8 signed layout kn : (tensor<64x8xi8>) -> tensor<8x64x8xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %{{.*}} group 64 coefficients [1, 2, 4, 8, 16, 32, 64, -128] : (tensor<2x64xi8>, tensor<8x64x8xi1>) -> tensor<2x1x8xi32>
// CHECK-NEXT:    mixpe.bitplanes %w bits 8 unsigned layout kn : (tensor<64x8xi8>) -> tensor<8x64x8xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %{{.*}} group 64 coefficients [1, 2, 4, 8, 16, 32, 64, 128] : (tensor<2x64xi8>, tensor<8x64x8xi1>) -> tensor<2x1x8xi32>
func.func @w8a8(%x: tensor<2x64xi8>, %w: tensor<64x8xi8>) -> (tensor<2x1x8xi32>, tensor<2x1x8xi32>) {
  %s = mixpe.group_psum %x, %w group 64 bits 8 signed format int layout kn : (tensor<2x64xi8>, tensor<64x8xi8>) -> tensor<2x1x8xi32>
  %u = mixpe.group_psum %x, %w group 64 bits 8 unsigned format int layout kn : (tensor<2x64xi8>, tensor<64x8xi8>) -> tensor<2x1x8xi32>
  func.return %s, %u : tensor<2x1x8xi32>, tensor<2x1x8xi32>
}

// -----

// DenseShift weights (format pow2, 3 code bits: {±1,±2,±4,±8}): a sign plane and shift
// amounts, then one shift and one add/sub per product; the schedule is carried.
// CHECK-LABEL: func.func @pow2_nk
// CHECK-NEXT:    %[[S:.*]], %[[E:.*]] = mixpe.pow2_split %w bits 3 layout nk : (tensor<16x64xi8>) -> (tensor<64x16xi1>, tensor<64x16xi8>)
// CHECK-NEXT:    mixpe.shift_psum %x, %[[S]], %[[E]] group 64 schedule #mixpe.schedule<ws, array = [16, 16], tile = [2, 16, 64], order = "mnk"> : (tensor<2x64xi8>, tensor<64x16xi1>, tensor<64x16xi8>) -> tensor<2x1x16xi32>
func.func @pow2_nk(%x: tensor<2x64xi8>, %w: tensor<16x64xi8>) -> tensor<2x1x16xi32> {
  %p = mixpe.group_psum %x, %w group 64 bits 3 signed format pow2 layout nk schedule #mixpe.schedule<ws, array = [16, 16], tile = [2, 16, 64], order = "mnk"> : (tensor<2x64xi8>, tensor<16x64xi8>) -> tensor<2x1x16xi32>
  func.return %p : tensor<2x1x16xi32>
}

// -----

// 4 code bits reach ±2^7 and need i16 storage; f16 activations (the shift is an exponent add).
// CHECK-LABEL: func.func @pow2_w4_f16
// CHECK-NEXT:    mixpe.pow2_split %w bits 4 layout kn : (tensor<32x8xi16>) -> (tensor<32x8xi1>, tensor<32x8xi8>)
// CHECK-NEXT:    mixpe.shift_psum %x, %{{.*}}, %{{.*}} group 16 : (tensor<1x32xf16>, tensor<32x8xi1>, tensor<32x8xi8>) -> tensor<1x2x8xf32>
func.func @pow2_w4_f16(%x: tensor<1x32xf16>, %w: tensor<32x8xi16>) -> tensor<1x2x8xf32> {
  %p = mixpe.group_psum %x, %w group 16 bits 4 signed format pow2 layout kn : (tensor<1x32xf16>, tensor<32x8xi16>) -> tensor<1x2x8xf32>
  func.return %p : tensor<1x2x8xf32>
}

// -----

// Dynamic M and N are kept: nothing in the rewrite depends on them (K is static by the verifier).
// CHECK-LABEL: func.func @dynamic_m_n
// CHECK-NEXT:    mixpe.bitplanes %w bits 4 unsigned layout nk : (tensor<?x128xi8>) -> tensor<4x128x?xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %{{.*}} group 64 coefficients [1, 2, 4, 8] : (tensor<?x128xf32>, tensor<4x128x?xi1>) -> tensor<?x2x?xf32>
func.func @dynamic_m_n(%x: tensor<?x128xf32>, %w: tensor<?x128xi8>) -> tensor<?x2x?xf32> {
  %p = mixpe.group_psum %x, %w group 64 bits 4 unsigned format int layout nk : (tensor<?x128xf32>, tensor<?x128xi8>) -> tensor<?x2x?xf32>
  func.return %p : tensor<?x2x?xf32>
}
