// What the mixpe-sim backend refuses: one located line, exit 1, no output file.
// RUN: mixpe-opt %s --split-input-file --verify-diagnostics -t mixpe-sim | filecheck %s
// RUN: rm -f %t.json
// RUN: not mixpe-opt %s --split-input-file -t mixpe-sim -o %t.json 2>&1 | filecheck %s --check-prefix=EXIT
// RUN: not test -e %t.json
// EXIT: error: mixpe-sim backend: 'func.call' cannot be expressed

// CHECK: mixpe-sim_negative.mlir:[[# @LINE + 3]]:3: error: mixpe-sim backend: 'func.call' cannot be expressed in a simulator program
func.func private @g(tensor<4xf32>) -> tensor<4xf32>
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = func.call @g(%x) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}

// -----

// Several functions and no `entry`: the user must choose.
// CHECK: error: mixpe-sim backend: choose a function with -t 'mixpe-sim{entry=NAME}' (@a, @b)
func.func @a(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
func.func @b(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}

// -----

// Dynamic shapes have no cycle count.
// CHECK: mixpe-sim_negative.mlir:[[# @LINE + 1]]:1: error: mixpe-sim backend: dynamic shapes cannot be simulated; give the function static shapes
func.func @dyn(%x: tensor<?xf32>) -> tensor<?xf32> {
  func.return %x : tensor<?xf32>
}
