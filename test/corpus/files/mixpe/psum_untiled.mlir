func.func @f(%x: tensor<4x256xi8>, %w: tensor<256x64xi8>) -> tensor<4x2x64xi32> {
  %p = mixpe.group_psum %x, %w group 128 bits 4 signed format int layout kn : (tensor<4x256xi8>, tensor<256x64xi8>) -> tensor<4x2x64xi32>
  func.return %p : tensor<4x2x64xi32>
}
