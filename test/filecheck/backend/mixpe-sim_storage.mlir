// 8-bit unsigned weights and zero points >= 128 held in signless i8 constants (torch's uint8
// buffers), read through uitofp: the program declares them ui8, so no byte changes value.
// An IREE-style fused dequant of i4 weights into an f16 linalg.matmul accumulator: the
// partial sums are declared at the PE accumulator (f32), the epilogue rounds to f16.
// RUN: mixpe-opt %s -p 'mixpe-pipeline{weight-bits=8}' -t 'mixpe-sim{entry=u8}' | filecheck %s --check-prefix=U8
// RUN: mixpe-opt %s -p 'mixpe-pipeline' -t 'mixpe-sim{entry=f16acc}' | filecheck %s --check-prefix=F16

// U8: "inputs": [
// U8: "op": "constant",
// U8-NEXT: "results": [
// U8-NEXT: {{[{]}}
// U8-NEXT: "dtype": "ui8",
// U8: "op": "bitplanes",
// U8: "op": "dequant_epilogue",
// U8-NOT: "dtype": "i8"
// U8: "version": 1

// F16: "dtype": "ui4",
// F16-NEXT: "name": "arg1",
// F16: "op": "{{(group|bitplane)_psum}}",
// F16-NEXT: "results": [
// F16-NEXT: {{[{]}}
// F16-NEXT: "dtype": "f32",
// F16: "op": "act_group_sum",
// F16-NEXT: "results": [
// F16-NEXT: {{[{]}}
// F16-NEXT: "dtype": "f32",
// F16: "op": "dequant_epilogue",
// F16-NEXT: "results": [
// F16-NEXT: {{[{]}}
// F16-NEXT: "dtype": "f16",

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#bc = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#g2 = affine_map<(d0, d1, d2) -> (d0, d1)>
module {
  func.func @u8(%x: tensor<4x64xf32>) -> tensor<4x8xf32> {
    %q = arith.constant dense<"0x7983C1F30824D2F23F4FDE6C45D34168A48C1507DDC0D689D15473C91F4D1F74FA226267E734804305C00F477F7C1DFBBFF617B94B8AEC46B92952F86B844A1D6C9F74C65C9CC5EA6D0AB787DF755E0F75A4C5DA3797CD4258D79482AC82FBC00D258BD111AEC2C9DF318ECD5B307A1438DAAADCD7E04F789E46EB01D6A540B869D5FF487837B1A3D8CEFAF6E5260A7B58E5CC6C9396E4067DAC73EBF3D376E212A9443EADC4E336DFD45010C5D3752A2560C15108B0BE2D8F658001A2438D6B9C1B5DA2C46106B981A7286EE2DE50A115CF4457F78BDF32C2FF133E25414F12E541EBC32CB2C6202160116B7AAA9274389674D6B2B9925D4872925E251C0B3468482D50B650EB9323F8E1C628CAB3C2B69857EAFBB05B808F13167D8F364321EA8146C8F54BE5C4CB86E92616F77D66BA4BA3D8CD1FF8BBB230EC64F03B17D79563F9F902A0CEB19985884F2465B2F0F63307FCABC2D05CDDA4A4615761B6800504317E99F8C74983BFE271B73575E76104C94D70FF63433BD9369B3CCEB7A16C5CF3C264062072755FFB7ACB205F38248F2463AFCA8F9A4BDC2FBB169A404958C8CA408913E3F65C8A89C61187D79C8E08EC2F59AC7692962803F3CF27AB82BC24B3B7FF466E22030B722CBE31A0895473FFF546F437CB58ABA6D861F0E105191EA55C2717EA990842A843C349A119CFBD8AA6109B7408076DB8AF2C284062"> : tensor<8x64xi8>
    %z = arith.constant dense<"0x9182AE8A999BB0B586BBF4F191A8D382"> : tensor<8x2xi8>
    %s = arith.constant dense<"0x525E073CC720223ADFC5733AC5CE1D3CDFDCF63B886A5D3BDC3FAD3AA0727D3B764B5E3BB9440F3C8D37893B7913573A07D9173C6EEBCB3B54F9983AF256943A"> : tensor<8x2xf32>
    %e0 = tensor.empty() : tensor<8x64xf32>
    %qf = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%q : tensor<8x64xi8>) outs(%e0 : tensor<8x64xf32>) {
    ^bb0(%in: i8, %out: f32):
      %0 = arith.uitofp %in : i8 to f32
      linalg.yield %0 : f32
    } -> tensor<8x64xf32>
    %qe = tensor.expand_shape %qf [[0], [1, 2]] output_shape [8, 2, 32] : tensor<8x64xf32> into tensor<8x2x32xf32>
    %e1 = tensor.empty() : tensor<8x2xf32>
    %zf = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%z : tensor<8x2xi8>) outs(%e1 : tensor<8x2xf32>) {
    ^bb0(%in: i8, %out: f32):
      %0 = arith.uitofp %in : i8 to f32
      linalg.yield %0 : f32
    } -> tensor<8x2xf32>
    %ze = tensor.expand_shape %zf [[0], [1, 2]] output_shape [8, 2, 1] : tensor<8x2xf32> into tensor<8x2x1xf32>
    %se = tensor.expand_shape %s [[0], [1, 2]] output_shape [8, 2, 1] : tensor<8x2xf32> into tensor<8x2x1xf32>
    %e2 = tensor.empty() : tensor<8x2x32xf32>
    %w = linalg.generic {indexing_maps = [#id3, #bc, #bc, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%qe, %ze, %se : tensor<8x2x32xf32>, tensor<8x2x1xf32>, tensor<8x2x1xf32>) outs(%e2 : tensor<8x2x32xf32>) {
    ^bb0(%a: f32, %b: f32, %c: f32, %out: f32):
      %0 = arith.subf %a, %b : f32
      %1 = arith.mulf %0, %c : f32
      linalg.yield %1 : f32
    } -> tensor<8x2x32xf32>
    %wc = tensor.collapse_shape %w [[0], [1, 2]] : tensor<8x2x32xf32> into tensor<8x64xf32>
    %e3 = tensor.empty() : tensor<64x8xf32>
    %wt = linalg.transpose ins(%wc : tensor<8x64xf32>) outs(%e3 : tensor<64x8xf32>) permutation = [1, 0]
    %cst = arith.constant 0.0 : f32
    %e4 = tensor.empty() : tensor<4x8xf32>
    %f = linalg.fill ins(%cst : f32) outs(%e4 : tensor<4x8xf32>) -> tensor<4x8xf32>
    %r = linalg.matmul ins(%x, %wt : tensor<4x64xf32>, tensor<64x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
    return %r : tensor<4x8xf32>
  }

  func.func @f16acc(%x: tensor<4x64xf16>, %q: tensor<32x2x32xi4>, %s: tensor<32x2xf16>, %z: tensor<32x2xf16>) -> tensor<4x32xf16> {
    %e = tensor.empty() : tensor<32x2x32xf16>
    %w = linalg.generic {indexing_maps = [#id3, #g2, #g2, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%q, %s, %z : tensor<32x2x32xi4>, tensor<32x2xf16>, tensor<32x2xf16>) outs(%e : tensor<32x2x32xf16>) {
    ^bb0(%a: i4, %b: f16, %c: f16, %o: f16):
      %0 = arith.extui %a : i4 to i32
      %1 = arith.uitofp %0 : i32 to f16
      %2 = arith.subf %1, %c : f16
      %3 = arith.mulf %2, %b : f16
      linalg.yield %3 : f16
    } -> tensor<32x2x32xf16>
    %wc = tensor.collapse_shape %w [[0], [1, 2]] : tensor<32x2x32xf16> into tensor<32x64xf16>
    %cst = arith.constant 0.0 : f16
    %i = tensor.empty() : tensor<4x32xf16>
    %f = linalg.fill ins(%cst : f16) outs(%i : tensor<4x32xf16>) -> tensor<4x32xf16>
    %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%x, %wc : tensor<4x64xf16>, tensor<32x64xf16>) outs(%f : tensor<4x32xf16>) -> tensor<4x32xf16>
    return %r : tensor<4x32xf16>
  }
}
