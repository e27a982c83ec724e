// mixpe-tile attaches the cost model's schedule to each partial-sum GEMM. The array shape
// and tile come from the hardware data; K tiles are whole groups (checked in pytest).
// RUN: mixpe-opt %s --split-input-file -p 'mixpe-tile{hw=mixpe-w4a8}' | filecheck %s
// RUN: mixpe-opt %s --split-input-file -p 'mixpe-tile{hw=mixpe-w4a8 dataflow=ws}' | filecheck %s --check-prefix=WS
// RUN: mixpe-opt %s --split-input-file -p mixpe-tile | filecheck %s --check-prefix=DEFAULT

// CHECK-LABEL: func.func @w4a8
// CHECK: mixpe.group_psum %x, %w group 128 bits 4 signed format int layout kn schedule #mixpe.schedule<os, array = [{{[0-9]+}}, {{[0-9]+}}], tile = [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}], order = "{{[mnk]+}}">
// WS: #mixpe.schedule<ws,
// Without hw the activations pick the preset: i8 -> mixpe-w4a8, f16 -> mixpe-w4a16.
// DEFAULT-LABEL: func.func @w4a8
// DEFAULT: schedule #mixpe.schedule<os
func.func @w4a8(%x: tensor<64x4096xi8>, %w: tensor<4096x512xi8>) -> tensor<64x32x512xi32> {
  %p = mixpe.group_psum %x, %w group 128 bits 4 signed format int layout kn : (tensor<64x4096xi8>, tensor<4096x512xi8>) -> tensor<64x32x512xi32>
  func.return %p : tensor<64x32x512xi32>
}

// -----

// An existing schedule is kept.
// CHECK-LABEL: func.func @keep
// CHECK: schedule #mixpe.schedule<ws, array = [4, 4], tile = [4, 8, 128], order = "nmk">
func.func @keep(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>) -> tensor<4x2x64xf32> {
  %p = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk schedule #mixpe.schedule<ws, array = [4, 4], tile = [4, 8, 128], order = "nmk"> : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  func.return %p : tensor<4x2x64xf32>
}

// -----

// Bit-plane and DenseShift partial sums are tiled too.
// CHECK-LABEL: func.func @shift_add_forms
// CHECK: mixpe.bitplane_psum {{.*}} schedule #mixpe.schedule<os
// CHECK: mixpe.shift_psum {{.*}} schedule #mixpe.schedule<os
func.func @shift_add_forms(%x: tensor<16x256xi8>, %b: tensor<4x256x64xi1>, %sg: tensor<256x64xi1>, %sh: tensor<256x64xi8>) -> (tensor<16x2x64xi32>, tensor<16x2x64xi32>) {
  %p = mixpe.bitplane_psum %x, %b group 128 coefficients [1, 2, 4, -8] : (tensor<16x256xi8>, tensor<4x256x64xi1>) -> tensor<16x2x64xi32>
  %q = mixpe.shift_psum %x, %sg, %sh group 128 : (tensor<16x256xi8>, tensor<256x64xi1>, tensor<256x64xi8>) -> tensor<16x2x64xi32>
  func.return %p, %q : tensor<16x2x64xi32>, tensor<16x2x64xi32>
}
