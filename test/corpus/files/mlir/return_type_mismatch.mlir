// Bad: returns i64 from a function declared to return i32.
func.func @f() -> i32 {
  %c = arith.constant 1 : i64
  func.return %c : i64
}
