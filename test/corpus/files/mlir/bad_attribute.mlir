// Bad: an attribute dictionary with an unclosed array.
func.func @f() {
  %c = arith.constant {tag = [1, 2} 0 : i32
  func.return
}
