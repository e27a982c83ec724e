// Bad: arith.addf on f32 and f16 tensors.
func.func @f(%x: tensor<4xf32>, %y: tensor<4xf16>) -> tensor<4xf32> {
  %z = "arith.addf"(%x, %y) : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  func.return %z : tensor<4xf32>
}
