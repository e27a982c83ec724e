// What mixpe-lower-to-linalg must decline, each with the remark it prints; the op is kept.
// RUN: mixpe-opt %s --disable-verify -p mixpe-lower-to-linalg 2>&1 >/dev/null | filecheck %s --check-prefix=REMARK
// RUN: mixpe-opt %s --disable-verify -p mixpe-lower-to-linalg 2>/dev/null | filecheck %s

// Negative: 6 bit-planes of i4 storage: shifting an i4 by 4 or more is poison in MLIR,
// and what the planes above the storage width should hold is not defined by the op.
// REMARK-DAG: mixpe-lower-to-linalg_negative.mlir:[[# @LINE + 4]]:3: remark: [mixpe-lower-to-linalg] not lowered: 6 bit-planes of i4 storage would shift past its width
// CHECK-LABEL: func.func @planes_past_storage
// CHECK-NEXT:    mixpe.bitplanes
func.func @planes_past_storage(%w: tensor<16x64xi4>) -> tensor<6x64x16xi1> {
  %p = mixpe.bitplanes %w bits 6 signed layout nk : (tensor<16x64xi4>) -> tensor<6x64x16xi1>
  func.return %p : tensor<6x64x16xi1>
}

// Negative: a dynamic K cannot be split into static groups of g (the verifier rejects it;
// with verification off the pass still refuses).
// REMARK-DAG: mixpe-lower-to-linalg_negative.mlir:[[# @LINE + 4]]:3: remark: [mixpe-lower-to-linalg] not lowered: the reduction dimension K is dynamic; groups need a static K
// CHECK-LABEL: func.func @dynamic_k
// CHECK-NEXT:    mixpe.group_psum
func.func @dynamic_k(%x: tensor<4x?xi8>, %w: tensor<?x32xi8>) -> tensor<4x4x32xi32> {
  %p = mixpe.group_psum %x, %w group 32 bits 4 signed format int layout kn : (tensor<4x?xi8>, tensor<?x32xi8>) -> tensor<4x4x32xi32>
  func.return %p : tensor<4x4x32xi32>
}

// Negative: an i16 accumulator cannot hold 128 products of i8 x uint4; lowering the
// mpgemm through its hoisted form would wrap, so it is declined with the hoist's reason.
// REMARK-DAG: mixpe-lower-to-linalg_negative.mlir:[[# @LINE + 4]]:3: remark: [mixpe-lower-to-linalg] not lowered: partial sums can reach 245760, which overflows i16 (limit 32767)
// CHECK-LABEL: func.func @overflow
// CHECK-NEXT:    mixpe.mpgemm
func.func @overflow(%x: tensor<4x256xi8>, %w: tensor<64x256xi8>, %s: tensor<64x2xf32>) -> tensor<4x64xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 unsigned format int layout nk zp symmetric acc i16 : (tensor<4x256xi8>, tensor<64x256xi8>, tensor<64x2xf32>) -> tensor<4x64xf32>
  func.return %y : tensor<4x64xf32>
}
