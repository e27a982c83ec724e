// Bad: no dialect "torchy" is registered.
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = torchy.relu %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
