// A real torch-mlir export (torch 2.13.0, torch-mlir 20261001, fx.export_and_import with
// OutputType.LINALG_ON_TENSORS) of attention plus torch.max(dim), torch.mv and torch.dot:
//   s = bmm(q, k^T); p = softmax(s); o = bmm(p, v); m, i = max(o, -1); mv(w, v[0,0]); dot(...)
// It has f16 x f16 -> f32 linalg.batch_matmul and two-result max/argmax linalg.generic, which
// xDSL 0.74 alone rejects ("unknown operation", "Expected '->'").
// RUN: mixpe-opt %s | filecheck %s
// RUN: xdsl-opt %s | filecheck %s
// RUN: mixpe-opt %s > %t.1.mlir && mixpe-opt %t.1.mlir > %t.2.mlir && diff %t.1.mlir %t.2.mlir
// REQUIRES: mlir-opt
// RUN: %mlir-opt %s --mlir-print-op-generic --mlir-print-local-scope > %t.upstream
// RUN: mixpe-opt %s --print-op-generic | %mlir-opt --mlir-print-op-generic --mlir-print-local-scope | diff %t.upstream -

// CHECK: linalg.batch_matmul ins(%arg0, %transposed : tensor<2x4x8xf16>, tensor<2x8x4xf16>) outs(%{{.*}} : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
// CHECK: %{{.*}}, %{{.*}} = linalg.generic
// CHECK: } -> (tensor<2x4xf32>, tensor<2x4xi64>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %arg2 : tensor<2x4x4xf16>, tensor<2x4x8xf16>) outs(%{{.*}} : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
// CHECK: } -> (tensor<2x4xf16>, tensor<2x4xi64>)

#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#map1 = affine_map<(d0, d1, d2) -> (d0, d1)>
#map2 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#map3 = affine_map<(d0, d1) -> (d0, d1)>
#map4 = affine_map<(d0) -> (d0)>
#map5 = affine_map<(d0, d1) -> (d1)>
#map6 = affine_map<(d0, d1) -> (d0)>
#map7 = affine_map<(d0) -> ()>
#map8 = affine_map<() -> ()>
module {
  func.func @f(%arg0: tensor<2x4x8xf16>, %arg1: tensor<2x4x8xf16>, %arg2: tensor<2x4x8xf16>, %arg3: tensor<3x8xf16>) -> (tensor<2x4x8xf16>, tensor<2x4xf16>, tensor<2x4xi64>, tensor<3xf16>, tensor<f16>) {
    %c0_i64 = arith.constant 0 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0xFF800000 : f32
    %cst_1 = arith.constant 0xFC00 : f16
    %0 = tensor.empty() : tensor<2x8x4xf16>
    %transposed = linalg.transpose ins(%arg1 : tensor<2x4x8xf16>) outs(%0 : tensor<2x8x4xf16>) permutation = [0, 2, 1] 
    %1 = tensor.empty() : tensor<2x4x4xf32>
    %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
    %3 = linalg.batch_matmul ins(%arg0, %transposed : tensor<2x4x8xf16>, tensor<2x8x4xf16>) outs(%2 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
    %4 = tensor.empty() : tensor<2x4x4xf16>
    %5 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%3 : tensor<2x4x4xf32>) outs(%4 : tensor<2x4x4xf16>) {
    ^bb0(%in: f32, %out: f16):
      %44 = arith.truncf %in : f32 to f16
      linalg.yield %44 : f16
    } -> tensor<2x4x4xf16>
    %6 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%5 : tensor<2x4x4xf16>) outs(%1 : tensor<2x4x4xf32>) {
    ^bb0(%in: f16, %out: f32):
      %44 = arith.extf %in : f16 to f32
      linalg.yield %44 : f32
    } -> tensor<2x4x4xf32>
    %7 = tensor.empty() : tensor<2x4xi64>
    %8 = linalg.fill ins(%c0_i64 : i64) outs(%7 : tensor<2x4xi64>) -> tensor<2x4xi64>
    %9 = tensor.empty() : tensor<2x4xf32>
    %10 = linalg.fill ins(%cst_0 : f32) outs(%9 : tensor<2x4xf32>) -> tensor<2x4xf32>
    %11:2 = linalg.generic {indexing_maps = [#map, #map1, #map1], iterator_types = ["parallel", "parallel", "reduction"]} ins(%6 : tensor<2x4x4xf32>) outs(%10, %8 : tensor<2x4xf32>, tensor<2x4xi64>) {
    ^bb0(%in: f32, %out: f32, %out_6: i64):
      %44 = linalg.index 2 : index
      %45 = arith.index_cast %44 : index to i64
      %46 = arith.maximumf %in, %out : f32
      %47 = arith.cmpf ogt, %in, %out : f32
      %48 = arith.select %47, %45, %out_6 : i64
      linalg.yield %46, %48 : f32, i64
    } -> (tensor<2x4xf32>, tensor<2x4xi64>)
    %expanded = tensor.expand_shape %11#0 [[0], [1, 2]] output_shape [2, 4, 1] : tensor<2x4xf32> into tensor<2x4x1xf32>
    %12 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%6, %expanded : tensor<2x4x4xf32>, tensor<2x4x1xf32>) outs(%1 : tensor<2x4x4xf32>) {
    ^bb0(%in: f32, %in_6: f32, %out: f32):
      %44 = arith.subf %in, %in_6 : f32
      linalg.yield %44 : f32
    } -> tensor<2x4x4xf32>
    %13 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%12 : tensor<2x4x4xf32>) outs(%1 : tensor<2x4x4xf32>) {
    ^bb0(%in: f32, %out: f32):
      %44 = math.exp %in : f32
      linalg.yield %44 : f32
    } -> tensor<2x4x4xf32>
    %14 = tensor.empty() : tensor<2x4x1xf32>
    %15 = linalg.fill ins(%cst : f32) outs(%14 : tensor<2x4x1xf32>) -> tensor<2x4x1xf32>
    %16 = linalg.generic {indexing_maps = [#map, #map2], iterator_types = ["parallel", "parallel", "reduction"]} ins(%13 : tensor<2x4x4xf32>) outs(%15 : tensor<2x4x1xf32>) {
    ^bb0(%in: f32, %out: f32):
      %44 = arith.addf %in, %out : f32
      linalg.yield %44 : f32
    } -> tensor<2x4x1xf32>
    %17 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%13, %16 : tensor<2x4x4xf32>, tensor<2x4x1xf32>) outs(%1 : tensor<2x4x4xf32>) {
    ^bb0(%in: f32, %in_6: f32, %out: f32):
      %44 = arith.divf %in, %in_6 : f32
      linalg.yield %44 : f32
    } -> tensor<2x4x4xf32>
    %18 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%17 : tensor<2x4x4xf32>) outs(%4 : tensor<2x4x4xf16>) {
    ^bb0(%in: f32, %out: f16):
      %44 = arith.truncf %in : f32 to f16
      linalg.yield %44 : f16
    } -> tensor<2x4x4xf16>
    %19 = tensor.empty() : tensor<2x4x8xf32>
    %20 = linalg.fill ins(%cst : f32) outs(%19 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
    %21 = linalg.batch_matmul ins(%18, %arg2 : tensor<2x4x4xf16>, tensor<2x4x8xf16>) outs(%20 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
    %22 = tensor.empty() : tensor<2x4x8xf16>
    %23 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%21 : tensor<2x4x8xf32>) outs(%22 : tensor<2x4x8xf16>) {
    ^bb0(%in: f32, %out: f16):
      %44 = arith.truncf %in : f32 to f16
      linalg.yield %44 : f16
    } -> tensor<2x4x8xf16>
    %24 = tensor.empty() : tensor<2x4xf16>
    %25 = linalg.fill ins(%cst_1 : f16) outs(%24 : tensor<2x4xf16>) -> tensor<2x4xf16>
    %26:2 = linalg.generic {indexing_maps = [#map, #map1, #map1], iterator_types = ["parallel", "parallel", "reduction"]} ins(%23 : tensor<2x4x8xf16>) outs(%25, %8 : tensor<2x4xf16>, tensor<2x4xi64>) {
    ^bb0(%in: f16, %out: f16, %out_6: i64):
      %44 = linalg.index 2 : index
      %45 = arith.index_cast %44 : index to i64
      %46 = arith.maximumf %in, %out : f16
      %47 = arith.cmpf ogt, %in, %out : f16
      %48 = arith.select %47, %45, %out_6 : i64
      linalg.yield %46, %48 : f16, i64
    } -> (tensor<2x4xf16>, tensor<2x4xi64>)
    %extracted_slice = tensor.extract_slice %arg2[0, 0, 0] [1, 4, 8] [1, 1, 1] : tensor<2x4x8xf16> to tensor<1x4x8xf16>
    %collapsed = tensor.collapse_shape %extracted_slice [[0, 1], [2]] : tensor<1x4x8xf16> into tensor<4x8xf16>
    %extracted_slice_2 = tensor.extract_slice %collapsed[0, 0] [1, 8] [1, 1] : tensor<4x8xf16> to tensor<1x8xf16>
    %collapsed_3 = tensor.collapse_shape %extracted_slice_2 [[0, 1]] : tensor<1x8xf16> into tensor<8xf16>
    %27 = tensor.empty() : tensor<3x8xf32>
    %28 = linalg.generic {indexing_maps = [#map3, #map3], iterator_types = ["parallel", "parallel"]} ins(%arg3 : tensor<3x8xf16>) outs(%27 : tensor<3x8xf32>) {
    ^bb0(%in: f16, %out: f32):
      %44 = arith.extf %in : f16 to f32
      linalg.yield %44 : f32
    } -> tensor<3x8xf32>
    %29 = tensor.empty() : tensor<8xf32>
    %30 = linalg.generic {indexing_maps = [#map4, #map4], iterator_types = ["parallel"]} ins(%collapsed_3 : tensor<8xf16>) outs(%29 : tensor<8xf32>) {
    ^bb0(%in: f16, %out: f32):
      %44 = arith.extf %in : f16 to f32
      linalg.yield %44 : f32
    } -> tensor<8xf32>
    %31 = linalg.generic {indexing_maps = [#map3, #map5, #map3], iterator_types = ["parallel", "parallel"]} ins(%28, %30 : tensor<3x8xf32>, tensor<8xf32>) outs(%27 : tensor<3x8xf32>) {
    ^bb0(%in: f32, %in_6: f32, %out: f32):
      %44 = arith.mulf %in, %in_6 : f32
      linalg.yield %44 : f32
    } -> tensor<3x8xf32>
    %32 = tensor.empty() : tensor<3xf32>
    %33 = linalg.fill ins(%cst : f32) outs(%32 : tensor<3xf32>) -> tensor<3xf32>
    %34 = linalg.generic {indexing_maps = [#map3, #map6], iterator_types = ["parallel", "reduction"]} ins(%31 : tensor<3x8xf32>) outs(%33 : tensor<3xf32>) {
    ^bb0(%in: f32, %out: f32):
      %44 = arith.addf %in, %out : f32
      linalg.yield %44 : f32
    } -> tensor<3xf32>
    %35 = tensor.empty() : tensor<3xf16>
    %36 = linalg.generic {indexing_maps = [#map4, #map4], iterator_types = ["parallel"]} ins(%34 : tensor<3xf32>) outs(%35 : tensor<3xf16>) {
    ^bb0(%in: f32, %out: f16):
      %44 = arith.truncf %in : f32 to f16
      linalg.yield %44 : f16
    } -> tensor<3xf16>
    %extracted_slice_4 = tensor.extract_slice %collapsed[1, 0] [1, 8] [1, 1] : tensor<4x8xf16> to tensor<1x8xf16>
    %collapsed_5 = tensor.collapse_shape %extracted_slice_4 [[0, 1]] : tensor<1x8xf16> into tensor<8xf16>
    %37 = linalg.generic {indexing_maps = [#map4, #map4], iterator_types = ["parallel"]} ins(%collapsed_5 : tensor<8xf16>) outs(%29 : tensor<8xf32>) {
    ^bb0(%in: f16, %out: f32):
      %44 = arith.extf %in : f16 to f32
      linalg.yield %44 : f32
    } -> tensor<8xf32>
    %38 = linalg.generic {indexing_maps = [#map4, #map4, #map4], iterator_types = ["parallel"]} ins(%30, %37 : tensor<8xf32>, tensor<8xf32>) outs(%29 : tensor<8xf32>) {
    ^bb0(%in: f32, %in_6: f32, %out: f32):
      %44 = arith.mulf %in, %in_6 : f32
      linalg.yield %44 : f32
    } -> tensor<8xf32>
    %39 = tensor.empty() : tensor<f32>
    %40 = linalg.fill ins(%cst : f32) outs(%39 : tensor<f32>) -> tensor<f32>
    %41 = linalg.generic {indexing_maps = [#map4, #map7], iterator_types = ["reduction"]} ins(%38 : tensor<8xf32>) outs(%40 : tensor<f32>) {
    ^bb0(%in: f32, %out: f32):
      %44 = arith.addf %in, %out : f32
      linalg.yield %44 : f32
    } -> tensor<f32>
    %42 = tensor.empty() : tensor<f16>
    %43 = linalg.generic {indexing_maps = [#map8, #map8], iterator_types = []} ins(%41 : tensor<f32>) outs(%42 : tensor<f16>) {
    ^bb0(%in: f32, %out: f16):
      %44 = arith.truncf %in : f32 to f16
      linalg.yield %44 : f16
    } -> tensor<f16>
    return %23, %26#0, %26#1, %36, %43 : tensor<2x4x8xf16>, tensor<2x4xf16>, tensor<2x4xi64>, tensor<3xf16>, tensor<f16>
  }
}
