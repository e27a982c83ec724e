// torch-mlir's tm_tensor.sort (what `torch.topk` lowers to) parses, verifies and round-trips in
// custom and generic form, in mixpe-opt and stock xdsl-opt.
// RUN: mixpe-opt %s | filecheck %s
// RUN: mixpe-opt %s | mixpe-opt | filecheck %s
// RUN: mixpe-opt %s --print-op-generic | mixpe-opt | filecheck %s
// RUN: xdsl-opt %s | filecheck %s
// RUN: sed -n 's|^// SRC: ||p' %s | mixpe-opt --split-input-file --verify-diagnostics | filecheck %s --check-prefix=BAD

// CHECK: %{{.*}}, %{{.*}} = tm_tensor.sort dimension(1) outs(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xi64>) {
// CHECK-NEXT: ^bb0(%{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64):
// CHECK-NEXT: arith.cmpf oge
// CHECK-NEXT: tm_tensor.yield %{{.*}} : i1
// CHECK-NEXT: } -> tensor<4x8xf32>, tensor<4x8xi64>
func.func @topk(%v: tensor<4x8xf32>, %i: tensor<4x8xi64>) -> (tensor<4x8xf32>, tensor<4x8xi64>) {
  %s:2 = tm_tensor.sort dimension(1) outs(%v, %i : tensor<4x8xf32>, tensor<4x8xi64>) {
  ^bb0(%a: f32, %b: f32, %ia: i64, %ib: i64):
    %c = arith.cmpf oge, %a, %b : f32
    tm_tensor.yield %c : i1
  } -> tensor<4x8xf32>, tensor<4x8xi64>
  return %s#0, %s#1 : tensor<4x8xf32>, tensor<4x8xi64>
}

// Negative cases (each must be refused with a one-line reason):
// SRC: func.func @dim(%v: tensor<4x8xf32>) -> tensor<4x8xf32> {
// SRC:   // expected-error @+1 {{dimension 2 is not a dimension of rank-2 operands}}
// SRC:   %s = tm_tensor.sort dimension(2) outs(%v : tensor<4x8xf32>) {
// SRC:   ^bb0(%a: f32, %b: f32):
// SRC:     %c = arith.cmpf oge, %a, %b : f32
// SRC:     tm_tensor.yield %c : i1
// SRC:   } -> tensor<4x8xf32>
// SRC:   return %s : tensor<4x8xf32>
// SRC: }
// SRC: // -----
// SRC: func.func @args(%v: tensor<4x8xf32>) -> tensor<4x8xf32> {
// SRC:   // expected-error @+1 {{the comparator takes (lhs, rhs) of each operand's element type}}
// SRC:   %s = tm_tensor.sort dimension(1) outs(%v : tensor<4x8xf32>) {
// SRC:   ^bb0(%a: f32):
// SRC:     %c = arith.cmpf oge, %a, %a : f32
// SRC:     tm_tensor.yield %c : i1
// SRC:   } -> tensor<4x8xf32>
// SRC:   return %s : tensor<4x8xf32>
// SRC: }
// BAD-DAG: dimension 2 is not a dimension of rank-2 operands
// BAD-DAG: the comparator takes (lhs, rhs) of each operand's element type
