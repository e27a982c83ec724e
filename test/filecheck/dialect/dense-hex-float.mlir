// Hexadecimal elements of a float `dense<...>` are bit patterns, as in MLIR: torch-mlir writes
// the causal mask's -inf as `dense<0xFF800000> : tensor<f32>`. xDSL 0.74 read it as the integer
// 4286578688 converted to float (a silent wrong answer in every causal attention).
// RUN: mixpe-opt %s | filecheck %s
// RUN: mixpe-opt %s | mixpe-opt | filecheck %s
// RUN: xdsl-opt %s | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | %mlir-opt 2>&1 | filecheck %s --check-prefix=UPSTREAM
// REQUIRES: mlir-opt

// CHECK: arith.constant dense<0xff800000> : tensor<4xf32>
// CHECK: arith.constant dense<[0x7c00, 1.000000e+00]> : tensor<2xf16>
// CHECK: arith.constant dense<[0xff80, 1.000000e+00]> : tensor<2xbf16>
// CHECK: arith.constant dense<0xfff0000000000000> : tensor<f64>
// Integers keep their value whatever the radix.
// CHECK: arith.constant dense<16> : tensor<2xi32>
// UPSTREAM: arith.constant dense<0xFF800000> : tensor<4xf32>
// UPSTREAM: arith.constant dense<[0x7C00, 1.000000e+00]> : tensor<2xf16>
// UPSTREAM: arith.constant dense<[0xFF80, 1.000000e+00]> : tensor<2xbf16>
// UPSTREAM: arith.constant dense<0xFFF0000000000000> : tensor<f64>
func.func @f() -> (tensor<4xf32>, tensor<2xf16>, tensor<2xbf16>, tensor<f64>, tensor<2xi32>) {
  %a = arith.constant dense<0xFF800000> : tensor<4xf32>
  %b = arith.constant dense<[0x7C00, 0x3C00]> : tensor<2xf16>
  %c = arith.constant dense<[0xFF80, 0x3F80]> : tensor<2xbf16>
  %d = arith.constant dense<0xFFF0000000000000> : tensor<f64>
  %e = arith.constant dense<[0x10, 16]> : tensor<2xi32>
  return %a, %b, %c, %d, %e : tensor<4xf32>, tensor<2xf16>, tensor<2xbf16>, tensor<f64>, tensor<2xi32>
}
