// Bad: group size 48 does not divide K=128.
func.func @f(%x: tensor<8x128xi8>, %w: tensor<128x32xi8>, %s: tensor<4x32xf32>) -> tensor<8x32xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 48 bits 4 signed format int layout kn zp symmetric acc i32 : (tensor<8x128xi8>, tensor<128x32xi8>, tensor<4x32xf32>) -> tensor<8x32xf32>
  func.return %y : tensor<8x32xf32>
}
