// The `-t mixpe-sim` backend: a torch-mlir GPTQ linear compiled by mixpe-pipeline becomes a
// validated, deterministic simulator program (docs/program-format.md).
// RUN: mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-pipeline{weight-bits=4 hw=mixpe-w4a16}' -t mixpe-sim | filecheck %s
// RUN: mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-pipeline{weight-bits=4 hw=mixpe-w4a16}' -t mixpe-sim -o %t.1.json
// RUN: mixpe-opt %inputs/torch/gptq_uint4_g128.mlir -p 'mixpe-pipeline{weight-bits=4 hw=mixpe-w4a16}' -t mixpe-sim -o %t.2.json
// RUN: cmp %t.1.json %t.2.json
// RUN: mixpe-sim %t.1.json --inputs %inputs/torch/gptq_uint4_g128.npz | filecheck %s --check-prefix=SIM

// CHECK: "format": "mixpe-sim-program",
// CHECK: "function": "main",
// Unsigned 4-bit weights in torch's uint8 storage are declared ui8 so any byte binds exactly.
// CHECK: "dtype": "ui8",
// CHECK-NEXT: "name": "arg1",
// CHECK: "op": "bitplanes",
// CHECK: "op": "bitplane_psum",
// CHECK: "schedule": {
// CHECK-NEXT: "dataflow": "{{os|nfold}}",
// CHECK-NEXT: "order": "{{[mnk]+}}",
// CHECK-NEXT: "pe": "bitplane",
// CHECK-NEXT: "tile": [
// CHECK: "op": "act_group_sum",
// CHECK: "op": "dequant_epilogue",
// The frontend's truncf runs on the vector unit, located in the source file.
// CHECK: "loc": "{{.*}}gptq_uint4_g128.mlir:48:7",
// CHECK-NEXT: "op": "elementwise",
// CHECK: "version": 1

// SIM: program main on mixpe-w4a16 (mode default, functional + cost)
// SIM: bitplane_psum {{.*}} M=4 N=128 K=256 g=128 pe=bitplane
