// Bad: an i16 accumulator overflows for g=128 groups of i8 x 4-bit products.
func.func @f(%x: tensor<4x256xi8>, %w: tensor<64x256xi8>, %s: tensor<64x2xf32>) -> tensor<4x64xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout nk zp symmetric acc i16 : (tensor<4x256xi8>, tensor<64x256xi8>, tensor<64x2xf32>) -> tensor<4x64xf32>
  func.return %y : tensor<4x64xf32>
}
