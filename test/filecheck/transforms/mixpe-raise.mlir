// mixpe-raise on torch-mlir FX importer output (test/inputs/torch, see its README):
// every group-quantized linear becomes one mixpe.mpgemm, the dequantization chain
// (casts, sub/mul generics, reshapes, transpose) disappears, and the truncf stays.
// RUN: mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=GPTQ
// GPTQ-LABEL: func.func @main
// GPTQ-NEXT:    %[[Y:.*]] = mixpe.mpgemm %arg0, %arg1 scales(%arg2) zeros(%arg3) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<128x256xi8>, tensor<128x2xf16>, tensor<128x2xi8>) -> tensor<4x128xf32>
// GPTQ-NEXT:    tensor.empty() : tensor<4x128xf16>
// GPTQ-NEXT:    linalg.generic {{.*}} ins(%[[Y]] : tensor<4x128xf32>)
// GPTQ-NEXT:    ^{{.*}}:
// GPTQ-NEXT:      arith.truncf
// GPTQ-NOT:     linalg.matmul
// GPTQ-NOT:     linalg.transpose
// GPTQ-NOT:     tensor.expand_shape

// RUN: mixpe-opt %inputs/torch/gptq_int8storage_w4_g64.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=INTSUB
// INTSUB: mixpe.mpgemm %arg0, %arg1 scales(%arg2) zeros(%arg3) group 64 bits 4 unsigned format int layout nk zp original acc f32
// INTSUB-NOT: arith.subi

// RUN: mixpe-opt %inputs/torch/awq_rescale_g128.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=AWQ
// AWQ: mixpe.mpgemm %arg0, %arg1 scales(%arg2) zeros(%arg3) group 128 bits 4 unsigned format int layout kn zp rescale acc f32 : (tensor<4x256xf16>, tensor<256x128xi8>, tensor<2x128xf16>, tensor<2x128xf16>) -> tensor<4x128xf32>

// RUN: mixpe-opt %inputs/torch/symmetric_kn_f32_g32.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=SYM
// SYM: %[[Y:.*]] = mixpe.mpgemm %arg0, %arg1 scales(%arg2) group 32 bits 4 signed format int layout kn zp symmetric acc f32 : (tensor<4x256xf32>, tensor<256x64xi8>, tensor<8x64xf32>) -> tensor<4x64xf32>
// SYM-NEXT: func.return %[[Y]]

// Per-channel: the 1-D scales [N] are given their group dimension, g = K.
// RUN: mixpe-opt %inputs/torch/perchannel_int8_bf16.mlir -p mixpe-raise | filecheck %s --check-prefix=PERCH
// PERCH: %[[S:.*]] = tensor.expand_shape %arg2 {{.*}} : tensor<64xbf16> into tensor<64x1xbf16>
// PERCH: mixpe.mpgemm %arg0, %arg1 scales(%[[S]]) group 256 bits 8 signed format int layout nk zp symmetric acc f32

// 3-D activations: the collapse_shape of x stays, it is the mpgemm's operand.
// RUN: mixpe-opt %inputs/torch/act3d_uint4_g128.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=ACT3D
// ACT3D: %[[X:.*]] = tensor.collapse_shape %arg0 {{.*}} : tensor<2x4x256xf16> into tensor<8x256xf16>
// ACT3D: mixpe.mpgemm %[[X]], %arg1 scales(%arg2) zeros(%arg3) group 128 bits 4 unsigned
// ACT3D: tensor.expand_shape {{.*}} into tensor<2x4x64xf16>

// The gated MLP gets three projections raised, SiLU and the gating product untouched; the
// linalg.fill shared by the gate and up matmuls is kept until both are raised.
// RUN: mixpe-opt %inputs/torch/gated_mlp_w4_g128.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=MLP
// MLP: mixpe.mpgemm %arg0, %arg1 scales(%arg2) zeros(%arg3) group 128 bits 4 unsigned {{.*}} -> tensor<4x384xf32>
// MLP: math.exp
// MLP: mixpe.mpgemm %arg0, %arg4 scales(%arg5) zeros(%arg6) group 128 bits 4 unsigned {{.*}} -> tensor<4x384xf32>
// MLP: mixpe.mpgemm %{{.*}}, %arg7 scales(%arg8) zeros(%arg9) group 128 bits 4 unsigned {{.*}} -> tensor<4x256xf32>
// MLP-NOT: linalg.matmul
// MLP-NOT: linalg.fill

// 2- and 3-bit weights, cast before the expand, g = 256.
// RUN: mixpe-opt %inputs/torch/w2_g64.mlir -p 'mixpe-raise{weight-bits=2}' | filecheck %s --check-prefix=W2
// W2: mixpe.mpgemm %arg0, %arg1 scales(%arg2) zeros(%arg3) group 64 bits 2 unsigned
// RUN: mixpe-opt %inputs/torch/w3_g128.mlir -p 'mixpe-raise{weight-bits=3}' | filecheck %s --check-prefix=W3
// W3: mixpe.mpgemm %arg0, %arg1 scales(%arg2) zeros(%arg3) group 128 bits 3 unsigned
// RUN: mixpe-opt %inputs/torch/g256_uint4.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=G256
// G256: mixpe.mpgemm %arg0, %arg1 scales(%arg2) zeros(%arg3) group 256 bits 4 unsigned {{.*}} : (tensor<4x512xf16>, tensor<64x512xi8>, tensor<64x2xf16>, tensor<64x2xi8>)

// Weights baked in as dense_resource constants.
// RUN: mixpe-opt %inputs/torch/constant_weights_w4.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=CONST
// CONST: mixpe.mpgemm %arg0, %{{.*}} scales(%{{.*}}) zeros(%{{.*}}) group 128 bits 4 unsigned format int layout nk zp original
// CONST-NOT: linalg.transpose

// A bias added after an f32 matmul of extf'd operands: raised through the extf; the bias stays.
// RUN: mixpe-opt %inputs/torch/linear_bias_uint4_g128.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=BIAS
// BIAS: %[[Y:.*]] = mixpe.mpgemm {{.*}} group 128 bits 4 unsigned format int layout nk zp original acc f32
// BIAS: linalg.generic {{.*}} ins(%[[Y]], %{{.*}} : tensor<4x64xf32>, tensor<64xf32>)
// BIAS-NEXT: ^{{.*}}:
// BIAS-NEXT: arith.addf

// Packed uint4x2: the unpacking (andi/shrui/concat) stays, the dequantization is raised.
// RUN: mixpe-opt %inputs/torch/packed_uint4x2_g128.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=PACKED
// PACKED: tensor.concat
// PACKED: mixpe.mpgemm %arg0, %{{.*}} scales(%arg2) zeros(%arg3) group 128 bits 4 unsigned

// W4A8 written as fake-quant: the activation dequantization (sitofp * sx) stays in f16.
// RUN: mixpe-opt %inputs/torch/w4a8_int8act.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=W4A8
// W4A8: mixpe.mpgemm %{{.*}}, %arg2 scales(%arg3) group 128 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<8x256xf16>

// Whole front half: nothing dequantized is left.
// RUN: mixpe-opt %inputs/torch/gated_mlp_w4_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant' | filecheck %s --check-prefix=HOIST
// HOIST-COUNT-3: mixpe.group_psum
// HOIST-NOT: mixpe.mpgemm
// HOIST-NOT: arith.uitofp
// HOIST-NOT: linalg.matmul
