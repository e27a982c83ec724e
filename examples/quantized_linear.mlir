// A GPTQ-style W4A16 linear layer (uint4 weights stored [N,K] in i8, group 128),
// already in mixpe form. `mixpe-opt -p mixpe-hoist-dequant` moves its dequantization
// out of the inner loop.
func.func @linear(%x: tensor<16x4096xf16>, %w: tensor<4096x4096xi8>, %s: tensor<4096x32xf16>, %z: tensor<4096x32xi8>) -> tensor<16x4096xf16> {
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<16x4096xf16>, tensor<4096x4096xi8>, tensor<4096x32xf16>, tensor<4096x32xi8>) -> tensor<16x4096xf16>
  func.return %y : tensor<16x4096xf16>
}
