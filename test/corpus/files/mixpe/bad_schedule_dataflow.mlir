// Bad: an unknown dataflow keyword in the schedule attribute (a parse error).
func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>) -> tensor<4x2x64xf32> {
  %p = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk schedule #mixpe.schedule<rs, array = [32, 32], tile = [4, 64, 128], order = "mnk"> : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  func.return %p : tensor<4x2x64xf32>
}
