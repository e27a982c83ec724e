// mixpe-tile attaches the cost model's schedule to each partial-sum GEMM. The array shape
// and tile come from the hardware data; K tiles are whole groups (checked in pytest).
// RUN: mixpe-opt %s --split-input-file -p 'mixpe-tile{hw=mixpe-w4a8}' | filecheck %s
// RUN: mixpe-opt %s --split-input-file -p 'mixpe-tile{hw=mixpe-w4a8 dataflow=ws}' | filecheck %s --check-prefix=WS
// RUN: mixpe-opt %s --split-input-file -p mixpe-tile | filecheck %s --check-prefix=DEFAULT
// RUN: mixpe-opt %s --split-input-file -p 'mixpe-tile{hw=int8 objective=cycles}' | filecheck %s --check-prefix=CYC
// RUN: mixpe-opt %s --split-input-file -p 'mixpe-tile{hw=int8 objective=energy}' | filecheck %s --check-prefix=NRG
// RUN: mixpe-opt %s --split-input-file -p 'mixpe-tile{hw=mixpe-w4a8 dataflow=os}' | filecheck %s --check-prefix=OS

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

// Bit-plane and DenseShift partial sums are tiled too. 16 tokens fill half of the 32 rows, so the
// search regroups the rows as two stacks (nfold) when nothing else is asked for.
// CHECK-LABEL: func.func @shift_add_forms
// CHECK: mixpe.bitplane_psum {{.*}} schedule #mixpe.schedule<nfold
// CHECK: mixpe.shift_psum {{.*}} schedule #mixpe.schedule<nfold
// OS-LABEL: func.func @shift_add_forms
// OS: mixpe.bitplane_psum {{.*}} schedule #mixpe.schedule<os
// OS: mixpe.shift_psum {{.*}} schedule #mixpe.schedule<os
func.func @shift_add_forms(%x: tensor<16x256xi8>, %b: tensor<4x256x64xi1>, %sg: tensor<256x64xi1>, %sh: tensor<256x64xi8>) -> (tensor<16x2x64xi32>, tensor<16x2x64xi32>) {
  %p = mixpe.bitplane_psum %x, %b group 128 coefficients [1, 2, 4, -8] : (tensor<16x256xi8>, tensor<4x256x64xi1>) -> tensor<16x2x64xi32>
  %q = mixpe.shift_psum %x, %sg, %sh group 128 : (tensor<16x256xi8>, tensor<256x64xi1>, tensor<256x64xi8>) -> tensor<16x2x64xi32>
  func.return %p, %q : tensor<16x2x64xi32>, tensor<16x2x64xi32>
}

// -----

// Decode: one token. Tokens on rows would keep 1 of 32 rows busy; the search folds N over the
// rows (nfold). The objective changes the tile (int8: 8 stacks of 32 columns = 256 channels per
// fold): fewest cycles takes a deep K tile (fill/drain paid once per output tile), least energy
// a wide N tile; both read every weight once from DRAM.
// CHECK-LABEL: func.func @decode
// CHECK: schedule #mixpe.schedule<nfold, array = [32, 37]
// CYC-LABEL: func.func @decode
// CYC: schedule #mixpe.schedule<nfold, array = [32, 32], tile = [1, 96, 1024], order = "mnk">
// NRG-LABEL: func.func @decode
// NRG: schedule #mixpe.schedule<nfold, array = [32, 32], tile = [1, 512, 128], order = "mnk">
// OS-LABEL: func.func @decode
// OS: schedule #mixpe.schedule<os, array = [32, 37], tile = [1,
func.func @decode(%x: tensor<1x4096xi8>, %w: tensor<4096x4096xi8>) -> tensor<1x32x4096xi32> {
  %p = mixpe.group_psum %x, %w group 128 bits 4 signed format int layout kn : (tensor<1x4096xi8>, tensor<4096x4096xi8>) -> tensor<1x32x4096xi32>
  func.return %p : tensor<1x32x4096xi32>
}
