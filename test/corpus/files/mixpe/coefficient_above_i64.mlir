// Bad: a bit-plane coefficient (2^64) does not fit the i64 the op stores its coefficients in.
func.func @f(%x: tensor<16x256xi8>, %b: tensor<4x256x64xi1>) -> tensor<16x2x64xi32> {
  %p = mixpe.bitplane_psum %x, %b group 128 coefficients [1, 2, 18446744073709551616, -8] : (tensor<16x256xi8>, tensor<4x256x64xi1>) -> tensor<16x2x64xi32>
  func.return %p : tensor<16x2x64xi32>
}
