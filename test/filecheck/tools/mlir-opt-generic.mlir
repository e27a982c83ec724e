// Upstream mlir-opt 22 accepts our generic output (mixpe ops as unregistered ops).
// REQUIRES: mlir-opt
// RUN: mixpe-opt %s --print-op-generic | %mlir-opt --allow-unregistered-dialect | filecheck %s
// RUN: mixpe-opt %s -p mixpe-hoist-dequant --print-op-generic | %mlir-opt --allow-unregistered-dialect | filecheck %s --check-prefix=HOIST

// CHECK-LABEL: func.func @f
// CHECK:         "mixpe.mpgemm"(%{{.*}}) <{acc_type = f32, group_size = 128 : i64, layout = #mixpe<layout nk>
// HOIST:         "mixpe.group_psum"
// HOIST:         "mixpe.act_group_sum"
// HOIST:         "mixpe.dequant_epilogue"
// CHECK:         linalg.matmul
func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>, %b: tensor<64x16xf16>) -> (tensor<4x64xf16>, tensor<4x16xf32>) {
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %m = linalg.matmul ins(%y, %b : tensor<4x64xf16>, tensor<64x16xf16>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %y, %m : tensor<4x64xf16>, tensor<4x16xf32>
}
