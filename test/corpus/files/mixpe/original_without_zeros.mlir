// Bad: zero-point mode 'original' (y = s * (q - z) x) without the zeros operand.
func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) -> tensor<4x64xf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return %y : tensor<4x64xf16>
}
