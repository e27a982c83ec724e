// Bad: Latin-1 text, not UTF-8.
func.func @f() {
  // résumé of the layer
  func.return
}
