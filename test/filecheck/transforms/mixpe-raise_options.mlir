// The `weight-bits` option of mixpe-raise on real torch-mlir output (int8 storage, 0..15).
// Without it the storage width (8) is used and extsi makes the values signed; with
// weight-bits=4 and zero points present they are unsigned 4-bit (docs/design.md §5).
// RUN: mixpe-opt %inputs/torch/gptq_int8storage_w4_g64.mlir -p mixpe-raise | filecheck %s --check-prefix=DEFAULT
// RUN: mixpe-opt %inputs/torch/gptq_int8storage_w4_g64.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=W4
// RUN: mixpe-opt %inputs/torch/symmetric_kn_f32_g32.mlir -p 'mixpe-raise{weight-bits=4}' | filecheck %s --check-prefix=SYM4
// DEFAULT: mixpe.mpgemm %arg0, %arg1 scales(%arg2) zeros(%arg3) group 64 bits 8 signed format int layout nk zp original
// W4: mixpe.mpgemm %arg0, %arg1 scales(%arg2) zeros(%arg3) group 64 bits 4 unsigned format int layout nk zp original
// Symmetric narrower values read by sitofp stay signed.
// SYM4: mixpe.mpgemm %arg0, %arg1 scales(%arg2) group 32 bits 4 signed format int layout kn zp symmetric

// Option values are range-checked when the pipeline is built: one line, exit status 1, on
// mixpe-raise and on mixpe-pipeline (which hands them to raise).
// RUN: not mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-raise{weight-bits=16}' 2>&1 | filecheck %s --check-prefix=TOOWIDE
// RUN: not mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-raise{weight-bits=99}' 2>&1 | filecheck %s --check-prefix=W99
// RUN: not mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-raise{weight-bits=0}' 2>&1 | filecheck %s --check-prefix=W0
// RUN: not mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-raise{weight-bits=-2}' 2>&1 | filecheck %s --check-prefix=WNEG
// RUN: not mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-pipeline{weight-bits=99}' 2>&1 | filecheck %s --check-prefix=PIPE99
// RUN: not mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-pipeline{act-quant=per-tensor}' 2>&1 | filecheck %s --check-prefix=PIPEAQ
// TOOWIDE: mixpe-opt: error: mixpe-raise: weight-bits must be at most 8 (the mixpe PEs take 1..8-bit weights), got 16
// TOOWIDE-NOT: linalg.matmul
// W99: mixpe-opt: error: mixpe-raise: weight-bits must be at most 8 (the mixpe PEs take 1..8-bit weights), got 99
// W0: mixpe-opt: error: mixpe-raise: weight-bits must be a positive number of bits, got 0
// WNEG: mixpe-opt: error: mixpe-raise: weight-bits must be a positive number of bits, got -2
// PIPE99: mixpe-opt: error: pass mixpe-pipeline: mixpe-raise: weight-bits must be at most 8 (the mixpe PEs take 1..8-bit weights), got 99
// PIPEAQ: mixpe-opt: error: pass mixpe-pipeline: mixpe-raise: act-quant must be none or per-token, got 'per-tensor'

// act-quant=per-token: float activations are quantized to i8 per token (scale max|x|/127,
// round to even, clamp), the mpgemm accumulates in i32, and the result is rescaled per token.
// RUN: mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-raise{weight-bits=4 act-quant=per-token}' | filecheck %s --check-prefix=AQ
// AQ: math.absf
// AQ: arith.maximumf
// AQ: arith.select
// AQ: math.roundeven
// AQ: arith.fptosi %{{.*}} : f32 to i8
// AQ: %[[Y:.*]] = mixpe.mpgemm %{{.*}}, %arg1 scales(%arg2) zeros(%arg3) group 128 bits 4 unsigned format int layout nk zp original acc i32 : (tensor<4x256xi8>
// AQ: ins(%[[Y]], %{{.*}} : tensor<4x128xf32>, tensor<4xf32>)
// AQ: arith.mulf
// RUN: not mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-raise{act-quant=per-channel}' 2>&1 | filecheck %s --check-prefix=AQBAD
// AQBAD: mixpe-opt: error: mixpe-raise: act-quant must be none or per-token, got 'per-channel'
