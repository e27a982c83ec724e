// Bad: 9-bit weights (mixpe handles 1..8).
func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi16>, %s: tensor<64x2xf16>) -> tensor<4x64xf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 9 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi16>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return %y : tensor<4x64xf16>
}
