// Bad: a dense literal with 3 elements for a tensor of 2.
func.func @f() -> tensor<2xi32> {
  %c = arith.constant dense<[1, 2, 3]> : tensor<2xi32>
  func.return %c : tensor<2xi32>
}
