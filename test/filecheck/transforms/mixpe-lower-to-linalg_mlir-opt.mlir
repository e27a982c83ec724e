// Upstream mlir-opt 22 parses and verifies the lowered IR (generic form, the exchange format)
// without --allow-unregistered-dialect, and no mixpe op is left.
// REQUIRES: mlir-opt
// RUN: mixpe-opt %s --split-input-file -p mixpe-lower-to-linalg --print-op-generic | %mlir-opt --split-input-file | filecheck %s

// Acceptance: every torch-mlir input that mixpe-raise handles, raised, hoisted and lowered.
// RUN: mixpe-opt %inputs/torch/act3d_uint4_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/awq_rescale_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/constant_weights_w4.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/g256_uint4.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/gated_mlp_w4_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/gptq_int8storage_w4_g64.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/linear_bias_uint4_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/llama2_7b_mlp_w4_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/packed_uint4x2_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/perchannel_int8_bf16.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/symmetric_kn_f32_g32.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/w2_g64.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/w3_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// RUN: mixpe-opt %inputs/torch/w4a8_int8act.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant,mixpe-lower-to-linalg' --print-op-generic | %mlir-opt | filecheck %s --check-prefix=TORCH
// TORCH-NOT:   mixpe
// TORCH:       func.func @main
// TORCH:       tensor.expand_shape
// TORCH:       iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// TORCH-NOT:   mixpe

// CHECK-NOT:   mixpe
// CHECK-LABEL: func.func @w4a16_original
// CHECK:         linalg.generic {indexing_maps = [#map, #map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK:           arith.uitofp %{{.*}} : i8 to f32
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:           arith.truncf %{{.*}} : f64 to f16
func.func @w4a16_original(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) -> tensor<4x64xf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return %y : tensor<4x64xf16>
}

// -----

// CHECK-NOT:   mixpe
// CHECK-LABEL: func.func @w4a8_dynamic_m
// CHECK:         tensor.dim
// CHECK:           arith.muli %{{.*}}, %{{.*}} : i32
// CHECK:           arith.sitofp %{{.*}} : i32 to f64
func.func @w4a8_dynamic_m(%x: tensor<?x128xi8>, %w: tensor<128x32xi8>, %s: tensor<4x32xf32>) -> tensor<?x32xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 32 bits 4 signed format int layout kn zp symmetric acc i32 : (tensor<?x128xi8>, tensor<128x32xi8>, tensor<4x32xf32>) -> tensor<?x32xf32>
  func.return %y : tensor<?x32xf32>
}

// -----

// Dynamic M and N: extents come from tensor.dim of the operands.
// CHECK-NOT:   mixpe
// CHECK-LABEL: func.func @dynamic_mn
// CHECK-DAG:     tensor.dim %arg0, %{{.*}} : tensor<?x64xf32>
// CHECK-DAG:     tensor.dim %arg1, %{{.*}} : tensor<?x64xi8>
// CHECK:         tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x2x?xf32>
func.func @dynamic_mn(%x: tensor<?x64xf32>, %w: tensor<?x64xi8>, %s: tensor<?x2xf32>) -> tensor<?x?xf32> {
  %p = mixpe.group_psum %x, %w group 32 bits 8 signed format int layout nk : (tensor<?x64xf32>, tensor<?x64xi8>) -> tensor<?x2x?xf32>
  %y = mixpe.dequant_epilogue %p : tensor<?x2x?xf32> scales(%s : tensor<?x2xf32>) layout nk zp symmetric -> tensor<?x?xf32>
  func.return %y : tensor<?x?xf32>
}

// -----

// CHECK-NOT:   mixpe
// CHECK-LABEL: func.func @awq_rescale
// CHECK:         arith.truncf %{{.*}} : f64 to bf16
func.func @awq_rescale(%x: tensor<2x256xbf16>, %w: tensor<256x48xi8>, %s: tensor<4x48xbf16>, %z: tensor<4x48xbf16>) -> tensor<2x48xbf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 64 bits 4 unsigned format int layout kn zp rescale acc f32 : (tensor<2x256xbf16>, tensor<256x48xi8>, tensor<4x48xbf16>, tensor<4x48xbf16>) -> tensor<2x48xbf16>
  func.return %y : tensor<2x48xbf16>
}

// -----

// The shift&add forms: DenseShift split + psum, MixPE bit-planes + psum, with schedules.
// CHECK-NOT:   mixpe
// CHECK-LABEL: func.func @shift_add
// CHECK:         arith.bitcast %{{.*}} : f32 to i32
// CHECK:         linalg.index 0
// CHECK:         arith.shli
// CHECK-NOT:   mixpe
func.func @shift_add(%x: tensor<2x64xi8>, %w: tensor<16x64xi8>, %q: tensor<16x64xi8>) -> (tensor<2x2x16xi32>, tensor<2x2x16xi32>) {
  %s, %e = mixpe.pow2_split %w bits 3 layout nk : (tensor<16x64xi8>) -> (tensor<64x16xi1>, tensor<64x16xi8>)
  %p = mixpe.shift_psum %x, %s, %e group 32 schedule #mixpe.schedule<os, array = [32, 32], tile = [2, 16, 64], order = "mnk"> : (tensor<2x64xi8>, tensor<64x16xi1>, tensor<64x16xi8>) -> tensor<2x2x16xi32>
  %b = mixpe.bitplanes %q bits 4 signed layout nk : (tensor<16x64xi8>) -> tensor<4x64x16xi1>
  %r = mixpe.bitplane_psum %x, %b group 32 coefficients [1, 2, 4, -8] schedule #mixpe.schedule<ws, array = [32, 32], tile = [2, 16, 64], order = "nmk"> : (tensor<2x64xi8>, tensor<4x64x16xi1>) -> tensor<2x2x16xi32>
  func.return %p, %r : tensor<2x2x16xi32>, tensor<2x2x16xi32>
}
