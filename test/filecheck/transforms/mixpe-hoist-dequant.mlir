// RUN: mixpe-opt %s --split-input-file -p mixpe-hoist-dequant | filecheck %s

// Asymmetric uint4 GPTQ style, weights [N,K]: P, A and an `original` epilogue.
// CHECK-LABEL: func.func @original_nk
// CHECK-NEXT:    %[[P:.*]] = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
// CHECK-NEXT:    %[[A:.*]] = mixpe.act_group_sum %x group 128 : (tensor<4x256xf16>) -> tensor<4x2xf32>
// CHECK-NEXT:    %[[Y:.*]] = mixpe.dequant_epilogue %[[P]] : tensor<4x2x64xf32> sums(%[[A]] : tensor<4x2xf32>) scales(%s : tensor<64x2xf16>) zeros(%z : tensor<64x2xi8>) layout nk zp original zeros_read unsigned -> tensor<4x64xf16>
// CHECK-NEXT:    func.return %[[Y]]
func.func @original_nk(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) -> tensor<4x64xf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return %y : tensor<4x64xf16>
}

// -----

// Symmetric: the zero-point term, and with it the activation sums, disappear.
// CHECK-LABEL: func.func @symmetric_w4a8
// CHECK-NEXT:    %[[P:.*]] = mixpe.group_psum %x, %w group 32 bits 4 signed format int layout kn : (tensor<8x128xi8>, tensor<128x32xi8>) -> tensor<8x4x32xi32>
// CHECK-NOT:     mixpe.act_group_sum
// CHECK-NEXT:    mixpe.dequant_epilogue %[[P]] : tensor<8x4x32xi32> scales(%s : tensor<4x32xf32>) layout kn zp symmetric -> tensor<8x32xf32>
func.func @symmetric_w4a8(%x: tensor<8x128xi8>, %w: tensor<128x32xi8>, %s: tensor<4x32xf32>) -> tensor<8x32xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 32 bits 4 signed format int layout kn zp symmetric acc i32 : (tensor<8x128xi8>, tensor<128x32xi8>, tensor<4x32xf32>) -> tensor<8x32xf32>
  func.return %y : tensor<8x32xf32>
}

// -----

// AWQ `rescale` (W = Q*S - Z'): the float zero term still needs activation sums.
// CHECK-LABEL: func.func @rescale_awq
// CHECK:         mixpe.act_group_sum %x group 64
// CHECK:         mixpe.dequant_epilogue {{.*}} zeros(%z : tensor<4x48xbf16>) layout kn zp rescale -> tensor<2x48xbf16>
func.func @rescale_awq(%x: tensor<2x256xbf16>, %w: tensor<256x48xi8>, %s: tensor<4x48xbf16>, %z: tensor<4x48xbf16>) -> tensor<2x48xbf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 64 bits 4 unsigned format int layout kn zp rescale acc f32 : (tensor<2x256xbf16>, tensor<256x48xi8>, tensor<4x48xbf16>, tensor<4x48xbf16>) -> tensor<2x48xbf16>
  func.return %y : tensor<2x48xbf16>
}

// -----

// Edge: per-channel (g = K) gives a single group; dynamic M is kept.
// CHECK-LABEL: func.func @per_channel_dynamic_m
// CHECK-NEXT:    mixpe.group_psum %x, %w group 256 bits 8 signed format int layout nk : (tensor<?x256xf32>, tensor<16x256xi8>) -> tensor<?x1x16xf32>
// CHECK-NEXT:    mixpe.dequant_epilogue {{.*}} : tensor<?x1x16xf32> scales(%s : tensor<16x1xf32>) layout nk zp symmetric -> tensor<?x16xf32>
func.func @per_channel_dynamic_m(%x: tensor<?x256xf32>, %w: tensor<16x256xi8>, %s: tensor<16x1xf32>) -> tensor<?x16xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 256 bits 8 signed format int layout nk zp symmetric acc f32 : (tensor<?x256xf32>, tensor<16x256xi8>, tensor<16x1xf32>) -> tensor<?x16xf32>
  func.return %y : tensor<?x16xf32>
}

// -----

// Edge: DenseShift pow2 weights keep their format on the partial sums.
// CHECK-LABEL: func.func @pow2
// CHECK-NEXT:    mixpe.group_psum %x, %w group 64 bits 3 signed format pow2 layout nk
func.func @pow2(%x: tensor<2x64xi8>, %w: tensor<16x64xi8>, %s: tensor<16x1xf32>) -> tensor<2x16xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 64 bits 3 signed format pow2 layout nk zp symmetric acc i32 : (tensor<2x64xi8>, tensor<16x64xi8>, tensor<16x1xf32>) -> tensor<2x16xf32>
  func.return %y : tensor<2x16xf32>
}

