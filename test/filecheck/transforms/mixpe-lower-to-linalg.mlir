// RUN: mixpe-opt %s --split-input-file -p mixpe-lower-to-linalg | filecheck %s

// group_psum, nk uint4 in i8, f16 activations: K split into (G, g) on both sides, the
// [N,G,g] weights read through a transposing map, one reduction over kk into zeros;
// unsigned weights convert with uitofp. The schedule hint is dropped.
// CHECK-LABEL: func.func @group_psum_nk
// CHECK-DAG:     %[[W3:.*]] = tensor.expand_shape %w {{\[}}[0 : i64], [1 : i64, 2 : i64]] output_shape [64, 2, 128] : tensor<64x256xi8> into tensor<64x2x128xi8>
// CHECK-DAG:     %[[X3:.*]] = tensor.expand_shape %x {{\[}}[0 : i64], [1 : i64, 2 : i64]] output_shape [4, 2, 128] : tensor<4x256xf16> into tensor<4x2x128xf16>
// CHECK:         %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4x2x64xf32>)
// CHECK:         linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X3]], %[[W3]] : {{.*}}) outs(%[[Z]] : tensor<4x2x64xf32>)
// CHECK-NEXT:    ^bb0(%[[XE:.*]]: f16, %[[WE:.*]]: i8, %[[ACC:.*]]: f32):
// CHECK-NEXT:      %[[XF:.*]] = arith.extf %[[XE]] : f16 to f32
// CHECK-NEXT:      %[[WF:.*]] = arith.uitofp %[[WE]] : i8 to f32
// CHECK-NEXT:      %[[PR:.*]] = arith.mulf %[[XF]], %[[WF]] : f32
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[ACC]], %[[PR]] : f32
// CHECK-NEXT:      linalg.yield %[[S]] : f32
// CHECK-NOT:     mixpe
func.func @group_psum_nk(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>) -> tensor<4x2x64xf32> {
  %p = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk schedule #mixpe.schedule<os, array = [32, 32], tile = [4, 64, 256], order = "mnk"> : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  func.return %p : tensor<4x2x64xf32>
}

// -----

// W4A8 group_psum, kn signed weights: exact i32 sums with extsi on both operands;
// dynamic M comes from tensor.dim.
// CHECK-LABEL: func.func @group_psum_kn_i8
// CHECK:         tensor.expand_shape %w {{\[}}[0 : i64, 1 : i64], [2 : i64]] output_shape [4, 32, 32] : tensor<128x32xi8> into tensor<4x32x32xi8>
// CHECK:         %[[M:.*]] = tensor.dim %x, %{{.*}} : tensor<?x128xi8>
// CHECK:         tensor.expand_shape %x {{.*}} output_shape [%[[M]], 4, 32] : tensor<?x128xi8> into tensor<?x4x32xi8>
// CHECK:         tensor.empty(%{{.*}}) : tensor<?x4x32xi32>
// CHECK:         affine_map<(d0, d1, d2, d3) -> (d1, d3, d2)>
// CHECK:           arith.extsi %{{.*}} : i8 to i32
// CHECK-NEXT:      arith.extsi %{{.*}} : i8 to i32
// CHECK-NEXT:      arith.muli
// CHECK-NEXT:      arith.addi
func.func @group_psum_kn_i8(%x: tensor<?x128xi8>, %w: tensor<128x32xi8>) -> tensor<?x4x32xi32> {
  %p = mixpe.group_psum %x, %w group 32 bits 4 signed format int layout kn : (tensor<?x128xi8>, tensor<128x32xi8>) -> tensor<?x4x32xi32>
  func.return %p : tensor<?x4x32xi32>
}

// -----

// act_group_sum: a reduction over the (M, G, g) view.
// CHECK-LABEL: func.func @act_group_sum
// CHECK:         linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK:           arith.extf %{{.*}} : bf16 to f32
// CHECK-NEXT:      arith.addf
func.func @act_group_sum(%x: tensor<2x256xbf16>) -> tensor<2x4xf32> {
  %a = mixpe.act_group_sum %x group 64 : (tensor<2x256xbf16>) -> tensor<2x4xf32>
  func.return %a : tensor<2x4xf32>
}

// -----

// original: Y = sum_j s*(P - z*A) over (m, n, j), in f64; zero points read unsigned.
// One truncf to the result type at the end.
// CHECK-LABEL: func.func @epilogue_original_nk
// CHECK:         linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2, d1)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} {{.*}} outs(%{{.*}} : tensor<4x64xf64>)
// CHECK:           %[[P:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK-NEXT:      %[[S:.*]] = arith.extf %{{.*}} : f16 to f64
// CHECK-NEXT:      %[[Z:.*]] = arith.uitofp %{{.*}} : i8 to f64
// CHECK-NEXT:      %[[A:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK-NEXT:      %[[ZA:.*]] = arith.mulf %[[Z]], %[[A]] : f64
// CHECK-NEXT:      %[[D:.*]] = arith.subf %[[P]], %[[ZA]] : f64
// CHECK-NEXT:      %[[T:.*]] = arith.mulf %[[S]], %[[D]] : f64
// CHECK-NEXT:      arith.addf %{{.*}}, %[[T]] : f64
// CHECK:           arith.truncf %{{.*}} : f64 to f16
func.func @epilogue_original_nk(%p: tensor<4x2x64xf32>, %a: tensor<4x2xf32>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) -> tensor<4x64xf16> {
  %y = mixpe.dequant_epilogue %p : tensor<4x2x64xf32> sums(%a : tensor<4x2xf32>) scales(%s : tensor<64x2xf16>) zeros(%z : tensor<64x2xi8>) layout nk zp original zeros_read unsigned -> tensor<4x64xf16>
  func.return %y : tensor<4x64xf16>
}

// -----

// rescale (AWQ): Y = sum_j s*P - z'*A; kn scales read at (j, n).
// CHECK-LABEL: func.func @epilogue_rescale_kn
// CHECK:         affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK:           %[[ZA:.*]] = arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK-NEXT:      %[[SP:.*]] = arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK-NEXT:      %[[T:.*]] = arith.subf %[[SP]], %[[ZA]] : f64
// CHECK-NEXT:      arith.addf %{{.*}}, %[[T]] : f64
// CHECK:         arith.truncf %{{.*}} : f64 to bf16
func.func @epilogue_rescale_kn(%p: tensor<2x4x48xf32>, %a: tensor<2x4xf32>, %s: tensor<4x48xbf16>, %z: tensor<4x48xbf16>) -> tensor<2x48xbf16> {
  %y = mixpe.dequant_epilogue %p : tensor<2x4x48xf32> sums(%a : tensor<2x4xf32>) scales(%s : tensor<4x48xbf16>) zeros(%z : tensor<4x48xbf16>) layout kn zp rescale -> tensor<2x48xbf16>
  func.return %y : tensor<2x48xbf16>
}

// -----

// symmetric W4A8: Y = sum_j s*P from exact i32 sums (sitofp).
// CHECK-LABEL: func.func @epilogue_symmetric
// CHECK:           arith.sitofp %{{.*}} : i32 to f64
// CHECK-NEXT:      arith.extf %{{.*}} : f32 to f64
// CHECK-NEXT:      arith.mulf
// CHECK-NEXT:      arith.addf
// CHECK:         arith.truncf %{{.*}} : f64 to f32
func.func @epilogue_symmetric(%p: tensor<8x4x32xi32>, %s: tensor<4x32xf32>) -> tensor<8x32xf32> {
  %y = mixpe.dequant_epilogue %p : tensor<8x4x32xi32> scales(%s : tensor<4x32xf32>) layout kn zp symmetric -> tensor<8x32xf32>
  func.return %y : tensor<8x32xf32>
}

// -----

// mpgemm lowers through its hoisted form: partial sums, activation sums, epilogue.
// CHECK-LABEL: func.func @mpgemm
// CHECK:         %psum = linalg.generic
// CHECK:         %asum = linalg.generic
// CHECK:         linalg.generic {{.*}} ins(%psum, %s, %asum, %z
// CHECK-NOT:     mixpe
func.func @mpgemm(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) -> tensor<4x64xf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return %y : tensor<4x64xf16>
}

// -----

// bitplanes: plane b of w is trunci(w >> b) to i1, with b = linalg.index 0.
// CHECK-LABEL: func.func @bitplanes
// CHECK:         linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK:           %[[B:.*]] = linalg.index 0 : index
// CHECK-NEXT:      %[[BI:.*]] = arith.index_cast %[[B]] : index to i8
// CHECK-NEXT:      %[[SH:.*]] = arith.shrui %{{.*}}, %[[BI]] : i8
// CHECK-NEXT:      arith.trunci %[[SH]] : i8 to i1
func.func @bitplanes(%w: tensor<16x64xi8>) -> tensor<4x64x16xi1> {
  %p = mixpe.bitplanes %w bits 4 signed layout nk : (tensor<16x64xi8>) -> tensor<4x64x16xi1>
  func.return %p : tensor<4x64x16xi1>
}

// -----

// bitplane_psum: loops (m, j, n, kk, b); shifts and signs of the coefficients are
// constant vectors; a set bit adds +-(x << s), the MSB plane subtracts.
// CHECK-LABEL: func.func @bitplane_psum
// CHECK-DAG:     arith.constant dense<[0, 1, 2, 3]> : tensor<4xi32>
// CHECK-DAG:     arith.constant dense<[false, false, false, true]> : tensor<4xi1>
// CHECK:         linalg.generic {{.*}}affine_map<(d0, d1, d2, d3, d4) -> (d4, d1, d3, d2)>{{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK:           %[[X:.*]] = arith.extsi %{{.*}} : i8 to i32
// CHECK-NEXT:      %[[SH:.*]] = arith.shli %[[X]], %{{.*}} : i32
// CHECK:           %[[NEG:.*]] = arith.subi %{{.*}}, %[[SH]] : i32
// CHECK-NEXT:      %[[T:.*]] = arith.select %{{.*}}, %[[NEG]], %[[SH]] : i32
// CHECK:           arith.select %{{.*}}, %[[T]], %{{.*}} : i32
// CHECK-NEXT:      arith.addi
func.func @bitplane_psum(%x: tensor<2x64xi8>, %p: tensor<4x64x16xi1>) -> tensor<2x2x16xi32> {
  %y = mixpe.bitplane_psum %x, %p group 32 coefficients [1, 2, 4, -8] : (tensor<2x64xi8>, tensor<4x64x16xi1>) -> tensor<2x2x16xi32>
  func.return %y : tensor<2x2x16xi32>
}

// -----

// pow2_split: sign = w < 0; shift = the f32 exponent field of |w| minus the bias.
// CHECK-LABEL: func.func @pow2_split
// CHECK:           %[[NEG:.*]] = arith.cmpi slt, %{{.*}}, %{{.*}} : i8
// CHECK:           %[[MAG:.*]] = arith.select %[[NEG]], %{{.*}}, %{{.*}} : i8
// CHECK-NEXT:      %[[F:.*]] = arith.uitofp %[[MAG]] : i8 to f32
// CHECK-NEXT:      %[[BITS:.*]] = arith.bitcast %[[F]] : f32 to i32
// CHECK:           arith.shrui %[[BITS]], %{{.*}} : i32
// CHECK:           arith.subi
// CHECK-NEXT:      %[[E:.*]] = arith.trunci %{{.*}} : i32 to i8
// CHECK-NEXT:      linalg.yield %[[NEG]], %[[E]] : i1, i8
func.func @pow2_split(%w: tensor<16x64xi8>) -> (tensor<64x16xi1>, tensor<64x16xi8>) {
  %s, %e = mixpe.pow2_split %w bits 3 layout nk : (tensor<16x64xi8>) -> (tensor<64x16xi1>, tensor<64x16xi8>)
  func.return %s, %e : tensor<64x16xi1>, tensor<64x16xi8>
}

// -----

// shift_psum with float activations: x * 2^shift (the power built as an integer), negated
// where the sign plane is set.
// CHECK-LABEL: func.func @shift_psum
// CHECK:           %[[X:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK-NEXT:      %[[S:.*]] = arith.extui %{{.*}} : i8 to i32
// CHECK-NEXT:      %[[ONE:.*]] = arith.constant 1 : i32
// CHECK-NEXT:      %[[POW:.*]] = arith.shli %[[ONE]], %[[S]] : i32
// CHECK-NEXT:      %[[PF:.*]] = arith.uitofp %[[POW]] : i32 to f32
// CHECK-NEXT:      %[[T:.*]] = arith.mulf %[[X]], %[[PF]] : f32
// CHECK-NEXT:      %[[N:.*]] = arith.negf %[[T]] : f32
// CHECK-NEXT:      %[[V:.*]] = arith.select %{{.*}}, %[[N]], %[[T]] : f32
// CHECK-NEXT:      arith.addf %{{.*}}, %[[V]] : f32
func.func @shift_psum(%x: tensor<2x64xbf16>, %s: tensor<64x16xi1>, %e: tensor<64x16xi8>) -> tensor<2x2x16xf32> {
  %y = mixpe.shift_psum %x, %s, %e group 32 : (tensor<2x64xbf16>, tensor<64x16xi1>, tensor<64x16xi8>) -> tensor<2x2x16xf32>
  func.return %y : tensor<2x2x16xf32>
}
