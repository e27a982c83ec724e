// `mixpe-opt --emit-irdl` lets upstream mlir-opt register mixpe from IRDL and check its ops
// natively (no --allow-unregistered-dialect). The payload goes through `-t irdl{payload=true}`:
// upstream's IRDL ops take no properties and spell enums `#mixpe.layout<"nk">`.
// REQUIRES: mlir-opt
// RUN: mixpe-opt %s --emit-irdl -o %t.irdl.mlir
// RUN: filecheck %s --input-file=%t.irdl.mlir --check-prefix=IRDL
// RUN: mixpe-opt %s -t 'irdl{payload=true}' -o %t.payload.mlir
// RUN: %mlir-opt --irdl-file=%t.irdl.mlir %t.payload.mlir | filecheck %s
// RUN: mixpe-opt %s -p mixpe-hoist-dequant -t 'irdl{payload=true}' | %mlir-opt --irdl-file=%t.irdl.mlir | filecheck %s --check-prefix=HOIST

// Plain --print-op-generic output spells enums `#mixpe<layout nk>` and carries properties;
// IRDL-defined (extensible-dialect) attributes and ops accept neither.
// RUN: mixpe-opt %s --print-op-generic | not %mlir-opt --irdl-file=%t.irdl.mlir 2>&1 | filecheck %s --check-prefix=GENERIC
// GENERIC: error: expected 1 type arguments, but had 0

// Structurally invalid ops are rejected upstream, thanks to the IRDL definition alone.
// Too few operands (mpgemm needs x, weights, scales):
// RUN: sed -e 's/"mixpe.mpgemm"(\([^,]*, [^,]*\), [^)]*)/"mixpe.mpgemm"(\1)/' -e 's/(tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>/(tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x64xf16>/' %t.payload.mlir | not %mlir-opt --irdl-file=%t.irdl.mlir 2>&1 | filecheck %s --check-prefix=OPERANDS
// OPERANDS: error: op expects at least 3 operands, but got 2
// A property of the wrong kind (group_size must be an integer attribute):
// RUN: sed -e 's/group_size = 128 : i64/group_size = "big"/' %t.payload.mlir | not %mlir-opt --irdl-file=%t.irdl.mlir 2>&1 | filecheck %s --check-prefix=PROPTYPE
// PROPTYPE: error: expected base attribute 'builtin.integer' but got 'builtin.string'
// An enum case that does not exist:
// RUN: sed -e 's/#mixpe.layout<"nk">/#mixpe.layout<"mn">/' %t.payload.mlir | not %mlir-opt --irdl-file=%t.irdl.mlir 2>&1 | filecheck %s --check-prefix=ENUM
// ENUM: error: '"mn"' does not satisfy the constraint
// A missing required property:
// RUN: sed -e 's/weight_bits = 4 : i64, //' %t.payload.mlir | not %mlir-opt --irdl-file=%t.irdl.mlir 2>&1 | filecheck %s --check-prefix=MISSING
// MISSING: error: 'mixpe.mpgemm' op attribute "weight_bits" is expected but not provided

// Limit: custom verifiers are not IRDL. A group size that does not divide K (96 vs 256)
// passes upstream, though mixpe-opt rejects it.
// RUN: sed -e 's/group_size = 128 : i64/group_size = 96 : i64/' %t.payload.mlir | %mlir-opt --irdl-file=%t.irdl.mlir | filecheck %s --check-prefix=LIMIT
// LIMIT: "mixpe.mpgemm"{{.*}}group_size = 96

// IRDL:       irdl.dialect @mixpe {
// IRDL:         irdl.attribute @layout {
// IRDL:           irdl.any_of
// IRDL:           irdl.parameters(value: %{{.*}})
// IRDL:         irdl.attribute @schedule {
// IRDL:         irdl.operation @mpgemm {
// IRDL:           irdl.operands(x: %{{.*}}, weights: %{{.*}}, scales: %{{.*}}, zeros: optional %{{.*}})
// IRDL:           irdl.attributes {
// IRDL:         irdl.operation @dequant_epilogue {
// IRDL:           irdl.operands(psums: %{{.*}}, act_sums: optional %{{.*}}, scales: %{{.*}}, zeros: optional %{{.*}})

// CHECK-LABEL: func.func @f
// CHECK:         "mixpe.mpgemm"(%{{.*}}) {{{.*}}layout = #mixpe.layout<"nk">{{.*}}zp_mode = #mixpe.zp<"original">
// CHECK:         "mixpe.group_psum"(%{{.*}}) {{{.*}}schedule = #mixpe.schedule<#mixpe.dataflow<"os">, [32, 32], [4, 64, 128], "nmk">
// HOIST:         "mixpe.group_psum"
// HOIST:         "mixpe.act_group_sum"
// HOIST:         "mixpe.dequant_epilogue"({{.*}}) {{{.*}}operandSegmentSizes = array<i32: 1, 1, 1, 1>
func.func @f(%x: tensor<4x256xf16>, %w: tensor<64x256xi8>, %s: tensor<64x2xf16>, %z: tensor<64x2xi8>) -> (tensor<4x64xf16>, tensor<4x2x64xf32>) {
  %y = mixpe.mpgemm %x, %w scales(%s) zeros(%z) group 128 bits 4 unsigned format int layout nk zp original acc f32 : (tensor<4x256xf16>, tensor<64x256xi8>, tensor<64x2xf16>, tensor<64x2xi8>) -> tensor<4x64xf16>
  %p = mixpe.group_psum %x, %w group 128 bits 4 unsigned format int layout nk schedule #mixpe.schedule<os, array = [32, 32], tile = [4, 64, 128], order = "nmk"> : (tensor<4x256xf16>, tensor<64x256xi8>) -> tensor<4x2x64xf32>
  func.return %y, %p : tensor<4x64xf16>, tensor<4x2x64xf32>
}
