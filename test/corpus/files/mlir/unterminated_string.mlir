// Bad: a string attribute that never ends.
func.func @f() {
  %c = arith.constant {note = "unterminated} 0 : i32
  func.return
}
