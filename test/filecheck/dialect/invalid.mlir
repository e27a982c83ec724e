// One case per mixpe verifier error; each must name the offending op's location.
// RUN: mixpe-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: group size 100 does not divide K=256
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 100 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x128xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) {
  // CHECK: error: reduction size mismatch: activations have K=128, weights (nk) have K=256
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x128xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x?xf16>, %w: tensor<64x?xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: the reduction dimension K must be static
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<4x?xf16>, tensor<64x?xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: activations must be a rank-2 tensor, got tensor<256xf16>
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xf16>, %s: tensor<64x2xf16>) {
  // CHECK: error: weights must have an integer element type, got f16
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xf16>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xindex>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: activations must have an integer or float element type, got index
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xindex>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: weight bits must be in 1..8, got 9
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 9 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi4>, %s: tensor<64x2xf16>) {
  // CHECK: error: 8-bit weights do not fit storage type i4
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 8 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi4>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: signed weights need at least 2 bits
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 1 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: pow2 weights need 2..5 code bits, got 6
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 6 signed format pow2 layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: 4-bit pow2 weights reach ±2^7, which does not fit i8
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format pow2 layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: pow2 weights are signed (±2^p)
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 3 unsigned format pow2 layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xi8>, %w: tensor<64x256xi8>, %s: tensor<64x2xf32>) {
  // CHECK: error: integer activations need an integer accumulator, got f32
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xi8>, tensor<64x256xi8>, tensor<64x2xf32>) -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xi8>, %w: tensor<64x256xi8>, %s: tensor<64x2xf32>) {
  // CHECK: error: accumulator i16 can overflow: |sum| can reach 131072 (g=128, i8 activations, 4-bit weights)
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc i16 : (tensor<4x256xi8>, tensor<64x256xi8>, tensor<64x2xf32>) -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: float activations need a float accumulator, got i32
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc i32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<2x64xf16>) {
  // CHECK: error: scales must have shape 64x2 for layout nk, got 2x64
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<2x64xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<256x64xi8>, %s: tensor<2x64xf16>, %z: tensor<64x2xi8>) {
  // CHECK: error: zero points must have shape 2x64 for layout kn, got 64x2
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout kn zp original acc f32 : (tensor<4x256xf16>, tensor<256x64xi8>, tensor<2x64xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xi8>) {
  // CHECK: error: scales must have a float element type
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) {
  // CHECK: error: symmetric quantization takes no zero points
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: zero-point mode 'original' needs zero points
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) {
  // CHECK: error: rescale zero points (W = Q*S - Z') must be float
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp rescale acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) {
  // CHECK: error: result must have shape 4x64, got tensor<4x32xf16>
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x32xf16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xi8>, %w: tensor<64x256xi8>, %s: tensor<64x2xf32>) {
  // CHECK: error: result must have a float element type, got i32
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc i32 : (tensor<4x256xi8>, tensor<64x256xi8>, tensor<64x2xf32>) -> tensor<4x64xi32>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>) {
  // CHECK: error: partial sums must have shape 4x2x64, got tensor<4x4x64xf32>
  %p = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x4x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xi8>, %w: tensor<64x256xi8>) {
  // CHECK: error: partial-sum type i16 can overflow
  %p = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk : (tensor<4x256xi8>, tensor<64x256xi8>) -> tensor<4x2x64xi16>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>) {
  // CHECK: error: group size 96 does not divide K=256
  %a = mixpe.act_group_sum %x group 96 : (tensor<4x256xf16>) -> tensor<4x2xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xi8>) {
  // CHECK: error: integer activations need integer group sums
  %a = mixpe.act_group_sum %x group 128 : (tensor<4x256xi8>) -> tensor<4x2xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xi8>) {
  // CHECK: error: group sums of 128 i8 values can overflow i8
  %a = mixpe.act_group_sum %x group 128 : (tensor<4x256xi8>) -> tensor<4x2xi8>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>) {
  // CHECK: error: float activations need float group sums
  %a = mixpe.act_group_sum %x group 128 : (tensor<4x256xf16>) -> tensor<4x2xi32>
  func.return
}

// -----

func.func @f(%p: tensor<4x2x64xf32>, %a: tensor<4x2xf32>, %s: tensor<64x2xf16>) {
  // CHECK: error: activation group sums are needed exactly when there are zero points
  %y = mixpe.dequant_epilogue %p : tensor<4x2x64xf32> sums(%a : tensor<4x2xf32>) scales(%s : tensor<64x2xf16>) layout nk zp symmetric -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%p: tensor<4x2x64xf32>, %a: tensor<4x4xf32>, %s: tensor<64x2xf16>, %z: tensor<64x2xf16>) {
  // CHECK: error: activation group sums must have shape 4x2, got tensor<4x4xf32>
  %y = mixpe.dequant_epilogue %p : tensor<4x2x64xf32> sums(%a : tensor<4x4xf32>) scales(%s : tensor<64x2xf16>) zeros(%z : tensor<64x2xf16>) layout nk zp original -> tensor<4x64xf16>
  func.return
}

// -----

func.func @f(%w: tensor<64x256xi8>) {
  // CHECK: error: bit-planes must be i1, got i8
  %b = mixpe.bitplanes %w bits 4 signed layout nk : (tensor<64x256xi8>) -> tensor<4x256x64xi8>
  func.return
}

// -----

func.func @f(%w: tensor<64x256xi8>) {
  // CHECK: error: bit-planes must have shape 4x256x64, got tensor<3x256x64xi1>
  %b = mixpe.bitplanes %w bits 4 signed layout nk : (tensor<64x256xi8>) -> tensor<3x256x64xi1>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xi8>, %b: tensor<4x256x64xi1>) {
  // CHECK: error: 3 coefficients for 4 bit-planes
  %p = mixpe.bitplane_psum %x, %b group 128 coefficients [1, 2, 4] : (tensor<4x256xi8>, tensor<4x256x64xi1>) -> tensor<4x2x64xi32>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xi8>, %b: tensor<4x256x64xi1>) {
  // CHECK: error: coefficient 3 is not ±2^s
  %p = mixpe.bitplane_psum %x, %b group 128 coefficients [1, 2, 3, -8] : (tensor<4x256xi8>, tensor<4x256x64xi1>) -> tensor<4x2x64xi32>
  func.return
}

// -----

func.func @f(%w: tensor<64x256xi8>) {
  // CHECK: error: sign plane must be i1
  %sg, %sh = mixpe.pow2_split %w bits 3 layout nk : (tensor<64x256xi8>) -> (tensor<256x64xi8>, tensor<256x64xi8>)
  func.return
}

// -----

func.func @f(%x: tensor<4x256xi8>, %sg: tensor<256x64xi1>, %sh: tensor<256x32xi8>) {
  // CHECK: error: sign and shift planes must have the same shape
  %p = mixpe.shift_psum %x, %sg, %sh group 128 : (tensor<4x256xi8>, tensor<256x64xi1>, tensor<256x32xi8>) -> tensor<4x2x64xi32>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>) {
  // CHECK: error: schedule order "mmk" must be a permutation of "mnk"
  %p = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk schedule #mixpe.schedule<os, array = [32, 32], tile = [4, 64, 128], order = "mmk"> : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>) {
  // CHECK: error: schedule tile must be MxNxK with positive sizes
  %p = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk schedule #mixpe.schedule<os, array = [32, 32], tile = [4, 64], order = "mnk"> : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  func.return
}

// -----

func.func @f(%p: tensor<4x2x64xi32>, %a: tensor<4x2xi32>, %s: tensor<64x2xf32>, %z: tensor<64x2xi8>) {
  // CHECK: error: integer zero points need `zeros_read signed|unsigned`, and only they take it
  %y = mixpe.dequant_epilogue %p : tensor<4x2x64xi32> sums(%a : tensor<4x2xi32>) scales(%s : tensor<64x2xf32>) zeros(%z : tensor<64x2xi8>) layout nk zp original -> tensor<4x64xf32>
  func.return
}
