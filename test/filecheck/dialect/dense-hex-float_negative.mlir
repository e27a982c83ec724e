// A hexadecimal float element wider than its type is a located one-line error.
// RUN: not mixpe-opt %s 2>&1 | filecheck %s
// CHECK: dense-hex-float_negative.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: hexadecimal literal 0x1FFFF does not fit f16
func.func @f() -> tensor<2xf16> {
  %b = arith.constant dense<[0x1FFFF, 0x3C00]> : tensor<2xf16>
  return %b : tensor<2xf16>
}
