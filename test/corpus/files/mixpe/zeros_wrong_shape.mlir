// Bad: layout kn needs zero points of shape GxN = 2x64, these are NxG.
func.func @f(%x: tensor<4x256xf16>, %w: tensor<256x64xi8>, %s: tensor<2x64xf16>, %z: tensor<64x2xi8>) -> tensor<4x64xf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout kn zp original acc f32 : (tensor<4x256xf16>, tensor<256x64xi8>, tensor<2x64xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  func.return %y : tensor<4x64xf16>
}
