// Every mixpe op and attribute survives custom -> custom, custom -> generic -> custom.
// RUN: mixpe-opt %s | mixpe-opt | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | mixpe-opt | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// CHECK-LABEL: func.func @grouped
func.func @grouped(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) -> tensor<4x64xf16> {
  // CHECK: %{{.*}} = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  // GENERIC: "mixpe.mpgemm"(%x, %w, %s, %z) <{group_size = 128 : i64, weight_bits = 4 : i64, signedness = #mixpe<signedness unsigned>, weight_format = #mixpe<format int>, layout = #mixpe<layout nk>, zp_mode = #mixpe<zp original>, acc_type = f32}>
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return %y : tensor<4x64xf16>
}

// CHECK-LABEL: func.func @symmetric_kn_w4a8
func.func @symmetric_kn_w4a8(%x: tensor<8x128xi8>, %w: tensor<128x32xi8>, %s: tensor<4x32xf32>) -> tensor<8x32xf32> {
  // CHECK: mixpe.mpgemm %x, %w scales(%s) group 32 bits 4 signed format int layout kn zp symmetric acc i32
  %y = mixpe.mpgemm %x, %w scales(%s) group 32 bits 4 signed format int layout kn zp symmetric acc i32 : (tensor<8x128xi8>, tensor<128x32xi8>, tensor<4x32xf32>) -> tensor<8x32xf32>
  func.return %y : tensor<8x32xf32>
}

// CHECK-LABEL: func.func @hoisted
func.func @hoisted(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xf16>) -> (tensor<4x64xf16>, tensor<4x64xf16>) {
  // CHECK: mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk schedule #mixpe.schedule<os, array = [32, 32], tile = [4, 64, 128], order = "nmk"> : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  // GENERIC: schedule = #mixpe.schedule<os, array = [32, 32], tile = [4, 64, 128], order = "nmk">
  %p = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk schedule #mixpe.schedule<os, array = [32, 32], tile = [4, 64, 128], order = "nmk"> : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  // CHECK: mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  %p2 = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  // CHECK: mixpe.act_group_sum %x group 128 : (tensor<4x256xf16>) -> tensor<4x2xf32>
  %a = mixpe.act_group_sum %x group 128 : (tensor<4x256xf16>) -> tensor<4x2xf32>
  // CHECK: mixpe.dequant_epilogue %{{.*}} : tensor<4x2x64xf32> sums(%{{.*}} : tensor<4x2xf32>) scales(%s : tensor<64x2xf16>) zeros(%z : tensor<64x2xf16>) layout nk zp rescale -> tensor<4x64xf16>
  // GENERIC: "mixpe.dequant_epilogue"(%{{.*}}, %{{.*}}, %s, %z) <{layout = #mixpe<layout nk>, zp_mode = #mixpe<zp rescale>, operandSegmentSizes = array<i32: 1, 1, 1, 1>}>
  %e = mixpe.dequant_epilogue %p : tensor<4x2x64xf32> sums(%a : tensor<4x2xf32>) scales(%s : tensor<64x2xf16>) zeros(%z : tensor<64x2xf16>) layout nk zp rescale -> tensor<4x64xf16>
  // CHECK: mixpe.dequant_epilogue %{{.*}} : tensor<4x2x64xf32> scales(%s : tensor<64x2xf16>) layout nk zp symmetric -> tensor<4x64xf16>
  // GENERIC: operandSegmentSizes = array<i32: 1, 0, 1, 0>
  %e2 = mixpe.dequant_epilogue %p2 : tensor<4x2x64xf32> scales(%s : tensor<64x2xf16>) layout nk zp symmetric -> tensor<4x64xf16>
  func.return %e, %e2 : tensor<4x64xf16>, tensor<4x64xf16>
}

// CHECK-LABEL: func.func @shift_add
func.func @shift_add(%x: tensor<4x256xi8>, %w: tensor<256x64xi8>) -> (tensor<4x2x64xi32>, tensor<4x4x64xi32>) {
  // CHECK: mixpe.bitplanes %w bits 4 signed layout kn : (tensor<256x64xi8>) -> tensor<4x256x64xi1>
  %b = mixpe.bitplanes %w bits 4 signed layout kn : (tensor<256x64xi8>) -> tensor<4x256x64xi1>
  // CHECK: mixpe.bitplane_psum %x, %{{.*}} group 128 coefficients [1, 2, 4, -8] schedule #mixpe.schedule<ws, array = [64, 64], tile = [4, 64, 256], order = "mnk">
  // GENERIC: coefficients = array<i64: 1, 2, 4, -8>
  %bp = mixpe.bitplane_psum %x, %b group 128 coefficients [1, 2, 4, -8] schedule #mixpe.schedule<ws, array = [64, 64], tile = [4, 64, 256], order = "mnk"> : (tensor<4x256xi8>, tensor<4x256x64xi1>) -> tensor<4x2x64xi32>
  // CHECK: %{{.*}}, %{{.*}} = mixpe.pow2_split %w bits 3 layout kn : (tensor<256x64xi8>) -> (tensor<256x64xi1>, tensor<256x64xi8>)
  %sg, %sh = mixpe.pow2_split %w bits 3 layout kn : (tensor<256x64xi8>) -> (tensor<256x64xi1>, tensor<256x64xi8>)
  // CHECK: mixpe.shift_psum %x, %{{.*}}, %{{.*}} group 64 : (tensor<4x256xi8>, tensor<256x64xi1>, tensor<256x64xi8>) -> tensor<4x4x64xi32>
  %sp = mixpe.shift_psum %x, %sg, %sh group 64 : (tensor<4x256xi8>, tensor<256x64xi1>, tensor<256x64xi8>) -> tensor<4x4x64xi32>
  func.return %bp, %sp : tensor<4x2x64xi32>, tensor<4x4x64xi32>
}

// CHECK-LABEL: func.func @densehift_gemm
func.func @densehift_gemm(%x: tensor<2x64xbf16>, %w: tensor<16x64xi8>, %s: tensor<16x1xbf16>) -> tensor<2x16xbf16> {
  // CHECK: mixpe.mpgemm %x, %w scales(%s) group 64 bits 3 signed format pow2 layout nk zp symmetric acc f32
  %y = mixpe.mpgemm %x, %w scales(%s) group 64 bits 3 signed format pow2 layout nk zp symmetric acc f32 : (tensor<2x64xbf16>, tensor<16x64xi8>, tensor<16x1xbf16>) -> tensor<2x16xbf16>
  func.return %y : tensor<2x16xbf16>
}
