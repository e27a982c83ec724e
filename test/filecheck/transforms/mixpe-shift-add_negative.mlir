// What mixpe-shift-add declines, each with the remark it prints. Remarks go to stderr
// before the module is printed, so they are checked in their own run.
// RUN: mixpe-opt %s --disable-verify -p 'mixpe-shift-add{detect-pow2=true}' 2>&1 >/dev/null | filecheck %s --check-prefix=REMARK
// RUN: mixpe-opt %s --disable-verify -p 'mixpe-shift-add{detect-pow2=true}' 2>/dev/null | filecheck %s

// detect-pow2 needs constant weights: runtime weights keep the bit-plane form.
// REMARK: mixpe-shift-add_negative.mlir:[[# @LINE + 4]]:3: remark: [mixpe-shift-add] detect-pow2 not applied: the weights are not a constant (a block argument); using bit-planes
// CHECK-LABEL: func.func @pow2_runtime_weights
// CHECK-NEXT:    mixpe.bitplanes %w bits 4 signed layout kn
func.func @pow2_runtime_weights(%x: tensor<1x4xi8>, %w: tensor<4x2xi8>) -> tensor<1x1x2xi32> {
  %p = mixpe.group_psum %x, %w group 4 bits 4 signed format int layout kn : (tensor<1x4xi8>, tensor<4x2xi8>) -> tensor<1x1x2xi32>
  func.return %p : tensor<1x1x2xi32>
}

// detect-pow2 with a value that is not ±2^p (3): named with its index, bit-planes kept.
// REMARK: mixpe-shift-add_negative.mlir:[[# @LINE + 5]]:3: remark: [mixpe-shift-add] detect-pow2 not applied: value 3 at index [1, 1] is not ±2^p; using bit-planes
// CHECK-LABEL: func.func @pow2_not_all_powers
// CHECK:         mixpe.bitplane_psum
func.func @pow2_not_all_powers(%x: tensor<1x2xi8>) -> tensor<1x1x2xi32> {
  %w = arith.constant dense<[[1, -2], [4, 3]]> : tensor<2x2xi8>
  %p = mixpe.group_psum %x, %w group 2 bits 4 signed format int layout kn : (tensor<1x2xi8>, tensor<2x2xi8>) -> tensor<1x1x2xi32>
  func.return %p : tensor<1x1x2xi32>
}

// DenseShift has no zero level: a 0 weight keeps bit-planes.
// REMARK: mixpe-shift-add_negative.mlir:[[# @LINE + 5]]:3: remark: [mixpe-shift-add] detect-pow2 not applied: value 0 at index [0, 1] is not ±2^p; using bit-planes
// CHECK-LABEL: func.func @pow2_zero_weight
// CHECK:         mixpe.bitplane_psum
func.func @pow2_zero_weight(%x: tensor<1x2xf32>) -> tensor<1x1x2xf32> {
  %w = arith.constant dense<[[1, 0], [4, 2]]> : tensor<2x2xi8>
  %p = mixpe.group_psum %x, %w group 2 bits 3 unsigned format int layout kn : (tensor<1x2xf32>, tensor<2x2xi8>) -> tensor<1x1x2xf32>
  func.return %p : tensor<1x1x2xf32>
}

// A constant weight outside the declared unsigned 3-bit range: the run would be an error,
// so the op is left for it to report rather than turned into planes that drop the bit.
// REMARK: mixpe-shift-add_negative.mlir:[[# @LINE + 5]]:3: remark: [mixpe-shift-add] not lowered: constant weights: value 9 at index [0, 1] is outside the unsigned 3-bit range [0, 7]
// CHECK-LABEL: func.func @constant_out_of_range
// CHECK:         mixpe.group_psum
func.func @constant_out_of_range(%x: tensor<1x2xi8>) -> tensor<1x1x2xi32> {
  %w = arith.constant dense<[[1, 9], [2, 3]]> : tensor<2x2xi8>
  %p = mixpe.group_psum %x, %w group 2 bits 3 unsigned format int layout kn : (tensor<1x2xi8>, tensor<2x2xi8>) -> tensor<1x1x2xi32>
  func.return %p : tensor<1x1x2xi32>
}

// Declared pow2 weights whose constant holds a non-power of two.
// REMARK: mixpe-shift-add_negative.mlir:[[# @LINE + 5]]:3: remark: [mixpe-shift-add] not lowered: constant weights: value 3 at index [1, 0] is not ±2^p with p in [0, 3] (3-bit DenseShift code)
// CHECK-LABEL: func.func @pow2_constant_invalid
// CHECK:         mixpe.group_psum
func.func @pow2_constant_invalid(%x: tensor<1x2xi8>) -> tensor<1x1x2xi32> {
  %w = arith.constant dense<[[1, -2], [3, 8]]> : tensor<2x2xi8>
  %p = mixpe.group_psum %x, %w group 2 bits 3 signed format pow2 layout kn : (tensor<1x2xi8>, tensor<2x2xi8>) -> tensor<1x1x2xi32>
  func.return %p : tensor<1x1x2xi32>
}

// Declared 2-bit pow2 codes reach only ±2^1: a constant 4 does not fit the code.
// REMARK: mixpe-shift-add_negative.mlir:[[# @LINE + 5]]:3: remark: [mixpe-shift-add] not lowered: constant weights: value 4 at index [1, 1] is not ±2^p with p in [0, 1] (2-bit DenseShift code)
// CHECK-LABEL: func.func @pow2_constant_too_wide
// CHECK:         mixpe.group_psum
func.func @pow2_constant_too_wide(%x: tensor<1x2xf32>) -> tensor<1x1x2xf32> {
  %w = arith.constant dense<[[1, -2], [2, 4]]> : tensor<2x2xi8>
  %p = mixpe.group_psum %x, %w group 2 bits 2 signed format pow2 layout kn : (tensor<1x2xf32>, tensor<2x2xi8>) -> tensor<1x1x2xf32>
  func.return %p : tensor<1x1x2xf32>
}

// int weights wider than 8 bits: the verifier rejects them; with verification off the
// pass still refuses (bit-planes are defined for 1..8 bits).
// REMARK: mixpe-shift-add_negative.mlir:[[# @LINE + 4]]:3: remark: [mixpe-shift-add] not lowered: 12-bit int weights: bit-planes are defined for 1..8 bits
// CHECK-LABEL: func.func @int_too_wide
// CHECK-NEXT:    mixpe.group_psum
func.func @int_too_wide(%x: tensor<1x4xf32>, %w: tensor<4x2xi16>) -> tensor<1x1x2xf32> {
  %p = mixpe.group_psum %x, %w group 4 bits 12 signed format int layout kn : (tensor<1x4xf32>, tensor<4x2xi16>) -> tensor<1x1x2xf32>
  func.return %p : tensor<1x1x2xf32>
}
