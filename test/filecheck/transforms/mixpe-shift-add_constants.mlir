// Constant weights are analysed at compile time: all-zero bit-planes are dropped (the
// remaining planes become an i1 constant), and with detect-pow2 weights that are all ±2^p
// take the DenseShift form. dense_resource weights (what torch-mlir emits) give
// dense_resource results.
// RUN: mixpe-opt %s --split-input-file -p mixpe-shift-add | filecheck %s
// RUN: mixpe-opt %s --split-input-file -p 'mixpe-shift-add{detect-pow2=true}' 2>/dev/null | filecheck %s --check-prefix=POW2

// Unsigned 4-bit values {0, 1, 4, 5}: planes 1 and 3 are all zero, so two planes remain
// with coefficients [1, 4]; the weights constant is no longer used and goes away.
// CHECK-LABEL: func.func @zero_planes
// CHECK-NEXT:    %[[PL:.*]] = arith.constant dense<{{\[\[\[}}true, false], [false, true], [true, true], [false, false]], {{\[\[}}false, true], [true, false], [true, true], [false, false]]]> : tensor<2x4x2xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %[[PL]] group 2 coefficients [1, 4] : (tensor<1x4xi8>, tensor<2x4x2xi1>) -> tensor<1x2x2xi32>
// CHECK-NEXT:    func.return
func.func @zero_planes(%x: tensor<1x4xi8>) -> tensor<1x2x2xi32> {
  %w = arith.constant dense<[[1, 4], [4, 1], [5, 5], [0, 0]]> : tensor<4x2xi8>
  %p = mixpe.group_psum %x, %w group 2 bits 4 unsigned format int layout kn : (tensor<1x4xi8>, tensor<4x2xi8>) -> tensor<1x2x2xi32>
  func.return %p : tensor<1x2x2xi32>
}

// -----

// Signed weights that are never negative: the (negative) sign plane is dropped. [N,K]
// weights give kn planes.
// CHECK-LABEL: func.func @signed_nonnegative_nk
// CHECK-NEXT:    %[[PL:.*]] = arith.constant dense<{{.*}}> : tensor<3x4x2xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %[[PL]] group 4 coefficients [1, 2, 4] : (tensor<1x4xf32>, tensor<3x4x2xi1>) -> tensor<1x1x2xf32>
func.func @signed_nonnegative_nk(%x: tensor<1x4xf32>) -> tensor<1x1x2xf32> {
  %w = arith.constant dense<[[1, 2, 4, 7], [0, 3, 5, 6]]> : tensor<2x4xi8>
  %p = mixpe.group_psum %x, %w group 4 bits 4 signed format int layout nk : (tensor<1x4xf32>, tensor<2x4xi8>) -> tensor<1x1x2xf32>
  func.return %p : tensor<1x1x2xf32>
}

// -----

// Every plane is used: `mixpe.bitplanes` of the constant stays (smaller IR than its planes).
// CHECK-LABEL: func.func @no_zero_plane
// CHECK-NEXT:    %w = arith.constant dense<{{\[\[}}1, -2], [-1, 0]]> : tensor<2x2xi8>
// CHECK-NEXT:    %[[PL:.*]] = mixpe.bitplanes %w bits 2 signed layout kn
// CHECK-NEXT:    mixpe.bitplane_psum %x, %[[PL]] group 2 coefficients [1, -2]
func.func @no_zero_plane(%x: tensor<1x2xi8>) -> tensor<1x1x2xi32> {
  %w = arith.constant dense<[[1, -2], [-1, 0]]> : tensor<2x2xi8>
  %p = mixpe.group_psum %x, %w group 2 bits 2 signed format int layout kn : (tensor<1x2xi8>, tensor<2x2xi8>) -> tensor<1x1x2xi32>
  func.return %p : tensor<1x1x2xi32>
}

// -----

// Edge: all-zero weights keep one (zero) plane, so P is still an op of the right shape.
// CHECK-LABEL: func.func @all_zero
// CHECK-NEXT:    %[[PL:.*]] = arith.constant dense<false> : tensor<1x4x2xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %[[PL]] group 4 coefficients [1]
func.func @all_zero(%x: tensor<3x4xbf16>) -> tensor<3x1x2xf32> {
  %w = arith.constant dense<0> : tensor<4x2xi8>
  %p = mixpe.group_psum %x, %w group 4 bits 4 signed format int layout kn : (tensor<3x4xbf16>, tensor<4x2xi8>) -> tensor<3x1x2xf32>
  func.return %p : tensor<3x1x2xf32>
}

// -----

// torch-mlir style dense_resource uint8 weights {1, 128, 2, 4, 16, 32, 8, 0}: plane 6 is
// all zero; the seven remaining planes become a dense_resource i1 blob (one byte per bit).
// CHECK-LABEL: func.func @resource_planes
// CHECK-NEXT:    %[[PL:.*]] = arith.constant dense_resource<mixpe_bitplanes> : tensor<7x4x2xi1>
// CHECK-NEXT:    mixpe.bitplane_psum %x, %[[PL]] group 4 coefficients [1, 2, 4, 8, 16, 32, 128]
// CHECK:         mixpe_bitplanes: "0x010000000100000000000000000001000000000000000001000000000000000000000100000000000100000000000000000100000001000000000000"
func.func @resource_planes(%x: tensor<2x4xf16>) -> tensor<2x1x2xf32> {
  %w = arith.constant dense_resource<torch_tensor_4_2_torch.uint8> : tensor<4x2xi8>
  %p = mixpe.group_psum %x, %w group 4 bits 8 unsigned format int layout kn : (tensor<2x4xf16>, tensor<4x2xi8>) -> tensor<2x1x2xf32>
  func.return %p : tensor<2x1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      torch_tensor_4_2_torch.uint8: "0x010000000180020410200800"
    }
  }
#-}

// -----

// detect-pow2: signed 4-bit weights that are all ±2^p (p <= 3) need 3 code bits, which i8
// holds: the constant is split as it is.
// POW2-LABEL: func.func @pow2_dense
// POW2-NEXT:    %w = arith.constant
// POW2-NEXT:    %[[S:.*]], %[[E:.*]] = mixpe.pow2_split %w bits 3 layout nk : (tensor<2x4xi8>) -> (tensor<4x2xi1>, tensor<4x2xi8>)
// POW2-NEXT:    mixpe.shift_psum %x, %[[S]], %[[E]] group 2 : (tensor<1x4xi8>, tensor<4x2xi1>, tensor<4x2xi8>) -> tensor<1x2x2xi32>
// Without the option these are ordinary bit-planes.
// CHECK-LABEL: func.func @pow2_dense
// CHECK:         mixpe.bitplanes %w bits 4 signed layout nk
func.func @pow2_dense(%x: tensor<1x4xi8>) -> tensor<1x2x2xi32> {
  %w = arith.constant dense<[[1, -2, 4, -8], [-1, 2, -4, 1]]> : tensor<2x4xi8>
  %p = mixpe.group_psum %x, %w group 2 bits 4 signed format int layout nk : (tensor<1x4xi8>, tensor<2x4xi8>) -> tensor<1x2x2xi32>
  func.return %p : tensor<1x2x2xi32>
}

// -----

// detect-pow2 on dense_resource uint8 weights {1, 128, 2, 4, 16, 32, 8, 64}: 2^7 needs 4
// code bits, which the pow2 format holds in i16 (and 128 is negative in signless i8), so
// the values are re-stored as an i16 dense_resource.
// POW2-LABEL: func.func @pow2_resource
// POW2-NEXT:    %[[W:.*]] = arith.constant dense_resource<mixpe_pow2_weights> : tensor<4x2xi16>
// POW2-NEXT:    %[[S:.*]], %[[E:.*]] = mixpe.pow2_split %[[W]] bits 4 layout kn : (tensor<4x2xi16>) -> (tensor<4x2xi1>, tensor<4x2xi8>)
// POW2-NEXT:    mixpe.shift_psum %x, %[[S]], %[[E]] group 4 : (tensor<2x4xf32>, tensor<4x2xi1>, tensor<4x2xi8>) -> tensor<2x1x2xf32>
// POW2:         mixpe_pow2_weights: "0x0200000001008000020004001000200008004000"
func.func @pow2_resource(%x: tensor<2x4xf32>) -> tensor<2x1x2xf32> {
  %w = arith.constant dense_resource<torch_tensor_4_2_torch.uint8_pow2> : tensor<4x2xi8>
  %p = mixpe.group_psum %x, %w group 4 bits 8 unsigned format int layout kn : (tensor<2x4xf32>, tensor<4x2xi8>) -> tensor<2x1x2xf32>
  func.return %p : tensor<2x1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      torch_tensor_4_2_torch.uint8_pow2: "0x010000000180020410200840"
    }
  }
#-}

// -----

// Weights already in pow2 format: constant values are checked, then split.
// POW2-LABEL: func.func @declared_pow2
// POW2-NEXT:    arith.constant
// POW2-NEXT:    mixpe.pow2_split %w bits 2 layout kn
// POW2-NEXT:    mixpe.shift_psum
func.func @declared_pow2(%x: tensor<1x2xf32>) -> tensor<1x1x2xf32> {
  %w = arith.constant dense<[[1, -2], [-1, 2]]> : tensor<2x2xi8>
  %p = mixpe.group_psum %x, %w group 2 bits 2 signed format pow2 layout kn : (tensor<1x2xf32>, tensor<2x2xi8>) -> tensor<1x1x2xf32>
  func.return %p : tensor<1x1x2xf32>
}
