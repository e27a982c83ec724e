// Bad: %w is never defined.
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %w : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
