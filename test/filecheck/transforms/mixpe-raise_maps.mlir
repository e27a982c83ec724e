// mixpe-raise on hand-written layouts and map styles: IREE-style fused generics with
// 3-D [N,G,g] weights, generic matmuls, transposed linalg.matmul maps, int8 activations.
// RUN: mixpe-opt %s --split-input-file -p 'mixpe-raise{weight-bits=4}' | filecheck %s

#x3 = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
#w3 = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
#s3 = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
#o3 = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// IREE style: one fused generic, dequantization inside the contraction body, weights [N,G,g].
// The 3-D operands are collapsed to the 2-D shapes mixpe.mpgemm takes.
// CHECK-LABEL: func.func @iree_fused_3d
// CHECK-DAG:     %[[X:.*]] = tensor.collapse_shape %x {{.*}}: tensor<4x2x128xf16> into tensor<4x256xf16>
// CHECK-DAG:     %[[Q:.*]] = tensor.collapse_shape %q {{.*}}: tensor<64x2x128xi8> into tensor<64x256xi8>
// CHECK:         %[[Y:.*]] = mixpe.mpgemm %[[X]], %[[Q]] scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32
// CHECK-NOT:     linalg.generic
// CHECK:         func.return %[[Y]]
func.func @iree_fused_3d(%x: tensor<4x2x128xf16>, %q: tensor<64x2x128xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xf16>) -> tensor<4x64xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x64xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<4x64xf32>) -> tensor<4x64xf32>
  %r = linalg.generic {indexing_maps = [#x3, #w3, #s3, #s3, #o3], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%x, %q, %s, %z : tensor<4x2x128xf16>, tensor<64x2x128xi8>, tensor<64x2xf16>, tensor<64x2xf16>) outs(%f : tensor<4x64xf32>) {
  ^bb0(%a: f16, %qq: i8, %ss: f16, %zz: f16, %acc: f32):
    %qf = arith.uitofp %qq : i8 to f16
    %d = arith.subf %qf, %zz : f16
    %w = arith.mulf %d, %ss : f16
    %af = arith.extf %a : f16 to f32
    %wf = arith.extf %w : f16 to f32
    %m = arith.mulf %af, %wf : f32
    %o = arith.addf %acc, %m : f32
    linalg.yield %o : f32
  } -> tensor<4x64xf32>
  func.return %r : tensor<4x64xf32>
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#bc = affine_map<(d0, d1) -> (d0, d1 floordiv 64)>
// A generic matmul reading [N,K] weights directly, with the scale broadcast written as
// `d1 floordiv 64` instead of a reshape.
// CHECK-LABEL: func.func @generic_matmul_floordiv_map
// CHECK:         mixpe.mpgemm %x, %q scales(%s) group 64 bits 4 signed format int layout nk zp symmetric acc f32
func.func @generic_matmul_floordiv_map(%x: tensor<2x128xf32>, %q: tensor<32x128xi8>, %s: tensor<32x2xf32>) -> tensor<2x32xf32> {
  %e0 = tensor.empty() : tensor<32x128xf32>
  %w = linalg.generic {indexing_maps = [#id, #bc, #id], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<32x128xi8>, tensor<32x2xf32>) outs(%e0 : tensor<32x128xf32>) {
  ^bb0(%qq: i8, %ss: f32, %o: f32):
    %qf = arith.sitofp %qq : i8 to f32
    %v = arith.mulf %qf, %ss : f32
    linalg.yield %v : f32
  } -> tensor<32x128xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x32xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x32xf32>) -> tensor<2x32xf32>
  %r = linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<2x128xf32>, tensor<32x128xf32>) outs(%f : tensor<2x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %b, %a : f32
    %o = arith.addf %m, %acc : f32
    linalg.yield %o : f32
  } -> tensor<2x32xf32>
  func.return %r : tensor<2x32xf32>
}

// -----

// linalg.matmul with a transposed-B indexing map: no linalg.transpose, weights [N,K].
// CHECK-LABEL: func.func @matmul_transposed_maps
// CHECK:         mixpe.mpgemm %x, %q scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc f32
func.func @matmul_transposed_maps(%x: tensor<4x256xbf16>, %q: tensor<16x256xi8>, %s: tensor<16x2xbf16>) -> tensor<4x16xf32> {
  %qe = tensor.expand_shape %q [[0], [1, 2]] output_shape [16, 2, 128] : tensor<16x256xi8> into tensor<16x2x128xi8>
  %se = tensor.expand_shape %s [[0], [1, 2]] output_shape [16, 2, 1] : tensor<16x2xbf16> into tensor<16x2x1xbf16>
  %e3 = tensor.empty() : tensor<16x2x128xbf16>
  %w3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%qe, %se : tensor<16x2x128xi8>, tensor<16x2x1xbf16>) outs(%e3 : tensor<16x2x128xbf16>) {
  ^bb0(%qq: i8, %ss: bf16, %o: bf16):
    %qf = arith.sitofp %qq : i8 to bf16
    %v = arith.mulf %ss, %qf : bf16
    linalg.yield %v : bf16
  } -> tensor<16x2x128xbf16>
  %w = tensor.collapse_shape %w3 [[0], [1, 2]] : tensor<16x2x128xbf16> into tensor<16x256xbf16>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%x, %w : tensor<4x256xbf16>, tensor<16x256xbf16>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %r : tensor<4x16xf32>
}

// -----

// int8 activations converted inside the body: the mpgemm keeps them as i8 with an exact
// i32 accumulator (|P| <= 32 * 128 * 15 needs 17 bits).
// CHECK-LABEL: func.func @int8_activations
// CHECK:         mixpe.mpgemm %x, %q scales(%s) zeros(%z) group 32 bits 4 unsigned format int layout kn zp original acc i32 : (tensor<3x64xi8>, tensor<64x8xi8>, tensor<2x8xf32>, tensor<2x8xi8>) -> tensor<3x8xf32>
func.func @int8_activations(%x: tensor<3x64xi8>, %q: tensor<64x8xi8>, %s: tensor<2x8xf32>, %z: tensor<2x8xi8>) -> tensor<3x8xf32> {
  %e0 = tensor.empty() : tensor<64x8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0 floordiv 32, d1)>, affine_map<(d0, d1) -> (d0 floordiv 32, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s, %z : tensor<64x8xi8>, tensor<2x8xf32>, tensor<2x8xi8>) outs(%e0 : tensor<64x8xf32>) {
  ^bb0(%qq: i8, %ss: f32, %zz: i8, %o: f32):
    %qi = arith.extui %qq : i8 to i32
    %zi = arith.extui %zz : i8 to i32
    %d = arith.subi %qi, %zi : i32
    %df = arith.sitofp %d : i32 to f32
    %v = arith.mulf %df, %ss : f32
    linalg.yield %v : f32
  } -> tensor<64x8xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x8xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<3x8xf32>) -> tensor<3x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<3x64xi8>, tensor<64x8xf32>) outs(%f : tensor<3x8xf32>) {
  ^bb0(%a: i8, %b: f32, %acc: f32):
    %af = arith.sitofp %a : i8 to f32
    %m = arith.mulf %af, %b : f32
    %o = arith.addf %acc, %m : f32
    linalg.yield %o : f32
  } -> tensor<3x8xf32>
  func.return %r : tensor<3x8xf32>
}

// -----

// W8A8 linalg.quantized_matmul with a weight zero point: a per-channel (g = K) mpgemm with
// unit f64 scales (exact), converted back to the i32 result.
// CHECK-LABEL: func.func @w8a8_quantized_matmul
// CHECK:         %[[S:.*]] = arith.constant dense<1.000000e+00> : tensor<1x8xf64>
// CHECK:         %[[Z:.*]] = linalg.fill ins(%zw : i32)
// CHECK:         %[[Y:.*]] = mixpe.mpgemm %x, %w scales(%[[S]]) zeros(%[[Z]]) group 64 bits 8 signed format int layout kn zp original acc i32 : {{.*}} -> tensor<4x8xf64>
// CHECK:         arith.fptosi %{{.*}} : f64 to i32
// CHECK-NOT:     linalg.quantized_matmul
func.func @w8a8_quantized_matmul(%x: tensor<4x64xi8>, %w: tensor<64x8xi8>, %zw: i32) -> tensor<4x8xi32> {
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x8xi32>
  %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<4x8xi32>) -> tensor<4x8xi32>
  %y = linalg.quantized_matmul ins(%x, %w, %c0, %zw : tensor<4x64xi8>, tensor<64x8xi8>, i32, i32) outs(%f : tensor<4x8xi32>) -> tensor<4x8xi32>
  func.return %y : tensor<4x8xi32>
}

// -----

// W8A8 with a runtime activation zero point az: sum_k (x - az)(w - zw) = P - zw·A - az·colsum_k(w - zw).
// The mpgemm gives P - zw·A; the column sums of the argument weights are one reduction
// generic, and az·(colsum - K·zw) is subtracted per column in i32.
// CHECK-LABEL: func.func @quantized_matmul_activation_zero_point
// CHECK:         %[[Y:.*]] = mixpe.mpgemm %x, %w scales(%{{.*}}) zeros(%{{.*}}) group 64 bits 8 signed format int layout kn zp original acc i32
// CHECK:         %[[YI:.*]] = linalg.generic {{.*}} ins(%[[Y]] : tensor<4x8xf64>)
// CHECK:         %[[CS:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%w : tensor<64x8xi8>) outs(%{{.*}} : tensor<8xi32>)
// CHECK:         linalg.fill ins(%zx : i32)
// CHECK:         linalg.fill ins(%zw : i32)
// CHECK:         %[[T:.*]] = linalg.generic {{.*}} ins(%[[CS]], %{{.*}}, %{{.*}} : tensor<8xi32>, tensor<8xi32>, tensor<8xi32>)
// CHECK:           arith.constant 64 : i32
// CHECK:         %{{.*}} = linalg.generic {{.*}} ins(%[[YI]], %[[T]] : tensor<4x8xi32>, tensor<8xi32>)
// CHECK-NEXT:    ^{{.*}}:
// CHECK-NEXT:      arith.subi
// CHECK-NOT:     linalg.quantized_matmul
func.func @quantized_matmul_activation_zero_point(%x: tensor<4x64xi8>, %w: tensor<64x8xi8>, %zx: i32, %zw: i32) -> tensor<4x8xi32> {
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x8xi32>
  %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<4x8xi32>) -> tensor<4x8xi32>
  %y = linalg.quantized_matmul ins(%x, %w, %zx, %zw : tensor<4x64xi8>, tensor<64x8xi8>, i32, i32) outs(%f : tensor<4x8xi32>) -> tensor<4x8xi32>
  func.return %y : tensor<4x8xi32>
}

// -----

// Constant weights and a constant non-zero az: the column sums are folded at compile time
// (column 0: 1+3 = 4, column 1: -2+5 = 3 ... over K = 2 rows).
// CHECK-LABEL: func.func @quantized_matmul_constant_weights
// CHECK:         mixpe.mpgemm %x, %{{.*}} scales(%{{.*}}) zeros(%{{.*}}) group 2 bits 8 signed format int layout kn zp original acc i32
// CHECK:         arith.constant dense<[4, 3, -128]> : tensor<3xi32>
// CHECK-NOT:     iterator_types = ["reduction", "parallel"]
// CHECK-NOT:     linalg.quantized_matmul
func.func @quantized_matmul_constant_weights(%x: tensor<4x2xi8>) -> tensor<4x3xi32> {
  %w = arith.constant dense<[[1, -2, -128], [3, 5, 0]]> : tensor<2x3xi8>
  %zx = arith.constant 5 : i32
  %zw = arith.constant -3 : i32
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x3xi32>
  %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<4x3xi32>) -> tensor<4x3xi32>
  %y = linalg.quantized_matmul ins(%x, %w, %zx, %zw : tensor<4x2xi8>, tensor<2x3xi8>, i32, i32) outs(%f : tensor<4x3xi32>) -> tensor<4x3xi32>
  func.return %y : tensor<4x3xi32>
}

// -----

// Integer activations [B,S,K] with a per-token scale [B,S,1], folded to [B*S,K] before the
// matmul: the scale is read at (m floordiv S, m mod S, 0) of the folded m.
// CHECK-LABEL: func.func @int_activations_3d_per_token
// CHECK:         %[[X:.*]] = tensor.collapse_shape %xq {{.*}} : tensor<2x3x64xi8> into tensor<6x64xi8>
// CHECK:         %[[Y:.*]] = mixpe.mpgemm %[[X]], %q scales(%s) group 32 bits 4 signed format int layout kn zp symmetric acc i32 : (tensor<6x64xi8>, tensor<64x8xi8>, tensor<2x8xf32>) -> tensor<6x8xf32>
// CHECK:         %[[SX:.*]] = linalg.generic {indexing_maps = [affine_map<(d0) -> ((d0 floordiv 3), (d0 mod 3), 0)>, affine_map<(d0) -> (d0)>]{{.*}} ins(%sx : tensor<2x3x1xf32>)
// CHECK:         ins(%[[Y]], %[[SX]] : tensor<6x8xf32>, tensor<6xf32>)
func.func @int_activations_3d_per_token(%xq: tensor<2x3x64xi8>, %sx: tensor<2x3x1xf32>, %q: tensor<64x8xi8>, %s: tensor<2x8xf32>) -> tensor<6x8xf32> {
  %ex = tensor.empty() : tensor<2x3x64xf32>
  %x3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xq, %sx : tensor<2x3x64xi8>, tensor<2x3x1xf32>) outs(%ex : tensor<2x3x64xf32>) {
  ^bb0(%a: i8, %b: f32, %o: f32):
    %af = arith.sitofp %a : i8 to f32
    %v = arith.mulf %b, %af : f32
    linalg.yield %v : f32
  } -> tensor<2x3x64xf32>
  %x = tensor.collapse_shape %x3 [[0, 1], [2]] : tensor<2x3x64xf32> into tensor<6x64xf32>
  %e0 = tensor.empty() : tensor<64x8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0 floordiv 32, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<64x8xi8>, tensor<2x8xf32>) outs(%e0 : tensor<64x8xf32>) {
  ^bb0(%qq: i8, %ss: f32, %o: f32):
    %qf = arith.sitofp %qq : i8 to f32
    %v = arith.mulf %qf, %ss : f32
    linalg.yield %v : f32
  } -> tensor<64x8xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x8xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<6x8xf32>) -> tensor<6x8xf32>
  %r = linalg.matmul ins(%x, %w : tensor<6x64xf32>, tensor<64x8xf32>) outs(%f : tensor<6x8xf32>) -> tensor<6x8xf32>
  func.return %r : tensor<6x8xf32>
}

// -----

// A per-tensor activation scale written as a constant in the body: a fill of the scale.
// CHECK-LABEL: func.func @int_activations_constant_scale
// CHECK:         %[[Y:.*]] = mixpe.mpgemm %xq, %q scales(%s) group 64 bits 4 signed format int layout kn zp symmetric acc i32
// CHECK:         %[[C:.*]] = arith.constant 2.500000e-01 : f16
// CHECK:         arith.extf %[[C]] : f16 to f32
// CHECK:         %[[SX:.*]] = linalg.fill
// CHECK:         ins(%[[Y]], %[[SX]] : tensor<2x8xf32>, tensor<2xf32>)
// CHECK:         arith.truncf
func.func @int_activations_constant_scale(%xq: tensor<2x64xi8>, %q: tensor<64x8xi8>, %s: tensor<1x8xf16>) -> tensor<2x8xf16> {
  %ex = tensor.empty() : tensor<2x64xf16>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%xq : tensor<2x64xi8>) outs(%ex : tensor<2x64xf16>) {
  ^bb0(%a: i8, %o: f16):
    %c = arith.constant 0.25 : f16
    %af = arith.sitofp %a : i8 to f16
    %v = arith.mulf %af, %c : f16
    linalg.yield %v : f16
  } -> tensor<2x64xf16>
  %e0 = tensor.empty() : tensor<64x8xf16>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q, %s : tensor<64x8xi8>, tensor<1x8xf16>) outs(%e0 : tensor<64x8xf16>) {
  ^bb0(%qq: i8, %ss: f16, %o: f16):
    %qf = arith.sitofp %qq : i8 to f16
    %v = arith.mulf %qf, %ss : f16
    linalg.yield %v : f16
  } -> tensor<64x8xf16>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x8xf32>) -> tensor<2x8xf32>
  %r = linalg.matmul ins(%x, %w : tensor<2x64xf16>, tensor<64x8xf16>) outs(%f : tensor<2x8xf32>) -> tensor<2x8xf32>
  %eo = tensor.empty() : tensor<2x8xf16>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%r : tensor<2x8xf32>) outs(%eo : tensor<2x8xf16>) {
  ^bb0(%a: f32, %b: f16):
    %t = arith.truncf %a : f32 to f16
    linalg.yield %t : f16
  } -> tensor<2x8xf16>
  func.return %o : tensor<2x8xf16>
}
