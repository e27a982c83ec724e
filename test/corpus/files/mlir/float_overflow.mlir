// Bad: 1.0e+300 does not fit f16 (its largest finite value is 65504).
func.func @f() -> tensor<4xf16> {
  %c = arith.constant dense<1.0e+300> : tensor<4xf16>
  func.return %c : tensor<4xf16>
}
