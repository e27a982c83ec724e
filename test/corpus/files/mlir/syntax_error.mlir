// Bad: a function argument without a type.
func.func @f(%x: tensor<4xf32>, %y) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
