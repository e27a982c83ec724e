// Bad: a group size above the i64 range the op stores it in.
func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>) -> tensor<4x64xf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 99999999999999999999 bits 4 signed format int layout nk zp symmetric acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>) -> tensor<4x64xf16>
  func.return %y : tensor<4x64xf16>
}
