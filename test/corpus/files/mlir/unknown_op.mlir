// Bad: arith has no op "frobnicate".
func.func @f() {
  "arith.frobnicate"() : () -> ()
  func.return
}
