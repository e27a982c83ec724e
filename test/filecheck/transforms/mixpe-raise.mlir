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

// W4A8 written as fake-quant: x = sitofp(xq) * sx is recognised as int8 activations; the
// GEMM runs on xq with an i32 accumulator and sx [M,1] (per token) multiplies each row after
// it, in f32, before the frontend's truncf. Nothing of the activation dequantization is left.
// RUN: mixpe-opt %inputs/torch/w4a8_int8act.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=W4A8
// W4A8: %[[Y:.*]] = mixpe.mpgemm %arg0, %arg2 scales(%arg3) group 128 bits 4 signed format int layout nk zp symmetric acc i32 : (tensor<8x256xi8>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<8x64xf32>
// W4A8: %[[SX:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<8x1xf16>) outs(%{{.*}} : tensor<8xf32>)
// W4A8: arith.extf
// W4A8: linalg.generic {{.*}} ins(%[[Y]], %[[SX]] : tensor<8x64xf32>, tensor<8xf32>)
// W4A8: arith.mulf
// W4A8: arith.truncf {{.*}} f32 to f16
// W4A8-NOT: arith.sitofp
// W4A8-NOT: linalg.matmul

// Whole front half: nothing dequantized is left.
// RUN: mixpe-opt %inputs/torch/gated_mlp_w4_g128.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant' | filecheck %s --check-prefix=HOIST
// HOIST-COUNT-3: mixpe.group_psum
// HOIST-NOT: mixpe.mpgemm
// HOIST-NOT: arith.uitofp
// HOIST-NOT: linalg.matmul

// ---- integer activations (issue #11) ----------------------------------------------------
// Per-token sx [M] (unsqueezed to [M,1] by torch) with asymmetric uint4 weights: the GEMM
// takes the int8 xq itself (i32 partial sums), sx multiplies each row after the epilogue.
// RUN: mixpe-opt %inputs/torch/w4a8_sitofp_pertoken.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=PERTOKEN
// PERTOKEN-LABEL: func.func @main
// PERTOKEN-NEXT:  %[[Y:.*]] = mixpe.mpgemm %arg0, %arg2 scales(%arg3) zeros(%arg4) group 64 bits 4 unsigned format int layout nk zp original acc i32 : (tensor<6x256xi8>, tensor<48x256xi8>, tensor<48x4xf16>, tensor<48x4xi8>) -> tensor<6x48xf32>
// PERTOKEN:       %[[SX:.*]] = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>]{{.*}} ins(%arg1 : tensor<6xf16>) outs(%{{.*}} : tensor<6xf32>)
// PERTOKEN:       linalg.generic {{.*}} ins(%[[Y]], %[[SX]] : tensor<6x48xf32>, tensor<6xf32>)
// PERTOKEN-NOT:   arith.sitofp
// PERTOKEN-NOT:   linalg.matmul
// Per-tensor sx (a 0-d tensor), f32, symmetric int4 [K,N]: sx is read through a () map.
// RUN: mixpe-opt %inputs/torch/w4a8_sitofp_pertensor.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=PERTENSOR
// PERTENSOR:      %[[Y:.*]] = mixpe.mpgemm %arg0, %arg2 scales(%arg3) group 32 bits 4 signed format int layout kn zp symmetric acc i32 : (tensor<5x128xi8>, tensor<128x24xi8>, tensor<4x24xf32>) -> tensor<5x24xf32>
// PERTENSOR:      %[[O:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>]{{.*}} ins(%[[Y]], %arg1 : tensor<5x24xf32>, tensor<f32>)
// PERTENSOR:      func.return %[[O]]
// ...and hoisted: partial sums in i32, no activation sums (symmetric), the row scale after.
// RUN: mixpe-opt %inputs/torch/w4a8_sitofp_pertensor.mlir -p 'mixpe-raise{weight-bits=4},mixpe-hoist-dequant' | filecheck %s --check-prefix=PERTENSOR-HOIST
// PERTENSOR-HOIST: mixpe.group_psum %arg0, %arg2 group 32 bits 4 signed format int layout kn : (tensor<5x128xi8>, tensor<128x24xi8>) -> tensor<5x4x24xi32>
// PERTENSOR-HOIST: mixpe.dequant_epilogue
// PERTENSOR-HOIST: ins(%{{.*}}, %arg1 : tensor<5x24xf32>, tensor<f32>)

// i8 x i8 -> i32 matmuls (torch._int_mm) raise as integer GEMMs: unit f64 scales (so the
// epilogue is exactly P), converted back to the i32 the frontend's scale generics read.
// RUN: mixpe-opt %inputs/torch/w4a8_intmm_perchannel.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=INTMM
// INTMM:      %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<64x1xf64>
// INTMM:      %[[P:.*]] = mixpe.mpgemm %arg0, %arg2 scales(%[[ONE]]) group 256 bits 4 signed format int layout nk zp symmetric acc i32 : (tensor<32x256xi8>, tensor<64x256xi8>, tensor<64x1xf64>) -> tensor<32x64xf64>
// INTMM:      arith.fptosi %{{.*}} : f64 to i32
// INTMM:      arith.sitofp %{{.*}} : i32 to f32
// INTMM:      ins(%{{.*}}, %arg1 : tensor<32x64xf32>, tensor<32x1xf32>)
// INTMM:      ins(%{{.*}}, %arg3 : tensor<32x64xf32>, tensor<64xf32>)
// INTMM-NOT:  linalg.matmul
// INTMM-NOT:  linalg.transpose
// Constant 8-bit weights (dense_resource), default weight-bits: 8-bit signed.
// RUN: mixpe-opt %inputs/torch/w8a8_intmm_perchannel_scaled.mlir -p mixpe-raise | filecheck %s --check-prefix=W8A8
// W8A8:       %[[Q:.*]] = arith.constant dense_resource<torch_tensor_32_128_torch.int8> : tensor<32x128xi8>
// W8A8:       mixpe.mpgemm %arg0, %[[Q]] scales(%{{.*}}) group 128 bits 8 signed format int layout nk zp symmetric acc i32 : (tensor<24x128xi8>, tensor<32x128xi8>, tensor<32x1xf64>) -> tensor<24x32xf64>
// W8A8-NOT:   linalg.matmul
