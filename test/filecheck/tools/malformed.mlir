// A malformed input gives one line with its location, a non-zero exit, no traceback,
// and `-o` leaves no file behind.
// RUN: rm -f %t.out
// RUN: not mixpe-opt %s -o %t.out 2>&1 | filecheck %s
// RUN: not test -e %t.out
// RUN: not mixpe-opt %S/does-not-exist.mlir 2>&1 | filecheck %s --check-prefix=MISSING
// RUN: not mixpe-opt %s -p no-such-pass 2>&1 | filecheck %s --check-prefix=PASS
// CHECK-NOT: Traceback
// CHECK: malformed.mlir:[[# @LINE + 5]]:38: error: Expected argument or type
// CHECK-NOT: Traceback
// MISSING: mixpe-opt: error: {{.*}}does-not-exist.mlir: No such file or directory
// PASS: mixpe-opt: error: Unrecognized passes: ['no-such-pass']

func.func @broken(%x: tensor<4xf32>, {
  func.return
}
