// What mixpe-hoist-dequant must decline, each with the remark it prints.
// RUN: mixpe-opt %s --disable-verify -p mixpe-hoist-dequant 2>&1 | filecheck %s

// Negative: an i16 accumulator cannot hold 128 products of i8 x uint4 (|P| <= 128*128*15).
// The verifier rejects such an op; with verification off the pass still refuses it.
// CHECK: mixpe-hoist-dequant_negative.mlir:[[# @LINE + 4]]:3: remark: [mixpe-hoist-dequant] not hoisted: partial sums can reach 245760, which overflows i16 (limit 32767)
// CHECK-LABEL: func.func @overflow
// CHECK-NEXT:    mixpe.mpgemm
func.func @overflow(%x: tensor<4x256xi8>, %w: tensor<64x256xi8>, %s: tensor<64x2xf32>) -> tensor<4x64xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 unsigned format int layout nk zp symmetric acc i16 : (tensor<4x256xi8>, tensor<64x256xi8>, tensor<64x2xf32>) -> tensor<4x64xf32>
  func.return %y : tensor<4x64xf32>
}
