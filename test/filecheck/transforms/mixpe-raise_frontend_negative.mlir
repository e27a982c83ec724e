// torch-mlir outputs mixpe-raise must leave alone, and the remark each one gets.
// RUN: mixpe-opt %inputs/torch/neg_fp_weights.mlir -p mixpe-raise 2>&1 | filecheck %s --check-prefix=FP
// FP: neg_fp_weights.mlir:16:5: remark: [mixpe-raise] not raised: the weights are not dequantized integers (tensor<f16>)
// FP: linalg.matmul
// Scales grouped along N (the output dimension), not along the contracted K.
// RUN: mixpe-opt %inputs/torch/neg_group_along_n.mlir -p mixpe-raise 2>&1 | filecheck %s --check-prefix=ALONGN
// ALONGN: remark: [mixpe-raise] not raised: the scales are not constant over groups of consecutive k
// ALONGN: linalg.matmul
// Non-uniform (NF4 lookup table) quantization.
// RUN: mixpe-opt %inputs/torch/neg_nf4_lut.mlir -p mixpe-raise 2>&1 | filecheck %s --check-prefix=NF4
// NF4: remark: [mixpe-raise] not raised: 'arith.cmpi' in the weight computation
// Weights on the left: the contraction runs over the weights' output dimension N.
// RUN: mixpe-opt %inputs/torch/neg_reduce_over_n.mlir -p mixpe-raise 2>&1 | filecheck %s --check-prefix=LEFT
// LEFT: remark: [mixpe-raise] not raised: the dequantized weights are the left operand
// An integer matmul with scales applied afterwards (torch._int_mm): nothing is dequantized first.
// RUN: mixpe-opt %inputs/torch/w4a8_intmm_perchannel.mlir -p mixpe-raise 2>&1 | filecheck %s --check-prefix=INTMM
// INTMM: remark: [mixpe-raise] not raised: the weights are not dequantized integers (extsi(tensor<i8>))
