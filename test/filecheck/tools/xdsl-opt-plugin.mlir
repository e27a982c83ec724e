// Stock xdsl-opt finds mixpe's dialect and passes through the `xdsl.universe` entry point.
// RUN: xdsl-opt %s -p mixpe-hoist-dequant | filecheck %s
// RUN: python -c "from xdsl.universe import Universe as U; m = U.get_multiverse(); print(*sorted(m.all_passes), *sorted(m.all_dialects))" | filecheck %s --check-prefix=UNIVERSE
// UNIVERSE: mixpe-hoist-dequant
// UNIVERSE: mixpe

// CHECK-LABEL: func.func @f
// CHECK:         mixpe.group_psum
// CHECK:         mixpe.dequant_epilogue
func.func @f(%x: tensor<8x128xi8>, %w: tensor<128x32xi8>, %s: tensor<4x32xf32>) -> tensor<8x32xf32> {
  %y = mixpe.mpgemm %x, %w scales(%s) group 32 bits 4 signed format int layout kn zp symmetric acc i32 : (tensor<8x128xi8>, tensor<128x32xi8>, tensor<4x32xf32>) -> tensor<8x32xf32>
  func.return %y : tensor<8x32xf32>
}

// The whole compiler and the simulator backend from stock xdsl-opt, on real frontend IR.
// RUN: xdsl-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-pipeline{weight-bits=4}' -t mixpe-sim | filecheck %s --check-prefix=PROGRAM
// PROGRAM: "format": "mixpe-sim-program",
// PROGRAM: "op": "bitplane_psum",
