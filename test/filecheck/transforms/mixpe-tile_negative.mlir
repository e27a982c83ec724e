// What mixpe-tile declines or refuses.
// RUN: mixpe-opt %s -p 'mixpe-tile{hw=mixpe-w4a8}' 2>&1 | filecheck %s
// RUN: not mixpe-opt %s -p 'mixpe-tile{hw=no-such-chip}' 2>&1 | filecheck %s --check-prefix=HW
// RUN: not mixpe-opt %s -p 'mixpe-tile{dataflow=diagonal}' 2>&1 | filecheck %s --check-prefix=FLOW
// RUN: not mixpe-opt %s -p 'mixpe-tile{objective=speed}' 2>&1 | filecheck %s --check-prefix=OBJ
// RUN: not mixpe-opt %s -p 'mixpe-pipeline{objective=speed}' 2>&1 | filecheck %s --check-prefix=OBJ
// RUN: not mixpe-opt %s -p 'mixpe-tile{hw="%S/does-not-exist.toml"}' 2>&1 | filecheck %s --check-prefix=FILE
// RUN: not mixpe-opt %s -p 'mixpe-tile{hw=%S/x.toml}' 2>&1 | filecheck %s --check-prefix=UNQUOTED
// UNQUOTED: mixpe-opt: error: invalid pass pipeline at column {{[0-9]+}}: Unknown token

// A dynamic token count has no single best schedule: left for a later, shape-specialised run.
// CHECK: mixpe-tile_negative.mlir:[[# @LINE + 3]]:3: remark: [mixpe-tile] not tiled: dynamic M or N
// CHECK: mixpe.group_psum %x, %w group 128 bits 4 signed format int layout kn :
func.func @dynamic_m(%x: tensor<?x256xi8>, %w: tensor<256x64xi8>) -> tensor<?x2x64xi32> {
  %p = mixpe.group_psum %x, %w group 128 bits 4 signed format int layout kn : (tensor<?x256xi8>, tensor<256x64xi8>) -> tensor<?x2x64xi32>
  func.return %p : tensor<?x2x64xi32>
}
// HW: mixpe-opt: error: mixpe-tile: no-such-chip: unknown hardware preset (known: {{.*}}mixpe-w4a8{{.*}})
// FLOW: mixpe-opt: error: mixpe-tile: dataflow must be one of os, ws, nfold, got 'diagonal'
// OBJ: mixpe-opt: error: mixpe-tile: objective must be one of cycles, energy, edp, got 'speed'
// FILE: mixpe-opt: error: mixpe-tile: {{.*}}does-not-exist.toml: no such hardware file
