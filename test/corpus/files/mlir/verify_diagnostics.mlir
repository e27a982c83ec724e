// --verify-diagnostics keeps xDSL's semantics: each chunk's diagnostic is printed and the
// run exits 0, whether the chunk fails to parse or to verify.
func.func @f(%x: tensor<4xf32>, {
  func.return
}

// -----

func.func @g(%x: tensor<8x128xi8>, %w: tensor<128x32xi8>, %s: tensor<4x32xf32>) -> tensor<8x32xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 48 bits 4 signed format int layout kn zp symmetric acc i32 : (tensor<8x128xi8>, tensor<128x32xi8>, tensor<4x32xf32>) -> tensor<8x32xf32>
  func.return %y : tensor<8x32xf32>
}
