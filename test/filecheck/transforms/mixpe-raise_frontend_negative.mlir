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
// GPTQ act-order (desc_act=True): scales and zero points gathered through a constant g_idx
// (tensor.extract at (n, g_idx[k])), so the groups are not consecutive k. The remark names
// act-order and the workaround.
// RUN: mixpe-opt %inputs/torch/gptq_act_order.mlir -p 'mixpe-raise{weight-bits=4}' 2>&1 | filecheck %s --check-prefix=ACTORDER
// ACTORDER: gptq_act_order.mlir:54:5: remark: [mixpe-raise] not raised: weight-side data is gathered through a constant index tensor (GPTQ act-order g_idx, desc_act=True) ('tensor.extract' in a linalg.generic), so quantization groups are not proven to be consecutive k; re-export with desc_act=False (or GPTQ static_groups=True), or permute K offline (weight rows and activation columns alike)
// ACTORDER: linalg.matmul
// Groups of 128 with K = 320 (repeat_interleave + extract_slice): the slice is looked through,
// so the remark says the group does not divide K instead of raising per-element (g = 1).
// RUN: mixpe-opt %inputs/torch/ragged_group.mlir -p 'mixpe-raise{weight-bits=4}' 2>&1 | filecheck %s --check-prefix=RAGGED
// RAGGED: ragged_group.mlir:53:5: remark: [mixpe-raise] not raised: group size does not divide K (K=320, groups of 128): the last group would be partial, and mixpe groups are uniform
// RAGGED-NOT: mixpe.mpgemm
// RAGGED: linalg.matmul
// The same ragged groups read through index_select(arange(K) // 128): a computed gather.
// RUN: mixpe-opt %inputs/torch/ragged_group_index.mlir -p 'mixpe-raise{weight-bits=4}' 2>&1 | filecheck %s --check-prefix=RAGGEDIX
// RAGGEDIX: remark: [mixpe-raise] not raised: weight-side data is gathered through a computed index ('tensor.extract' in a linalg.generic)
// RAGGEDIX-NOT: mixpe.mpgemm
