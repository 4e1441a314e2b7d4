// Kernels against torch: inputs and outputs written by Tests/Reference/make_kernel_fixtures.py
// into Tests/Fixtures/kernels/ (regeneration: Tests/Fixtures/README.md).
import SafeTensors
import Testing
import Tensors

/// Opens `Tests/Fixtures/kernels/<name>`, found relative to this source file.
func kernelFixture(_ name: String, filePath: String = #filePath) throws -> SafeTensorsFile {
    let testsDir = filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
    return try SafeTensorsFile(path: testsDir + "/Fixtures/kernels/" + name)
}

@Suite("Kernels match torch on fixtures made by the reference script")
struct KernelFixtureTests {
    @Test("GELU matches transformers' exact-erf gelu")
    func gelu() throws {
        let f = try kernelFixture("gelu.safetensors")
        expectClose(Kernels.gelu(try f.tensor(named: "x")), try f.tensor(named: "y"), rtol: 1e-6, atol: 1e-6)
    }

    @Test("layer norm matches torch.nn.LayerNorm for the ViT, Q-Former and OPT eps values")
    func layerNorm() throws {
        let f = try kernelFixture("layer_norm.safetensors")
        let x = try f.tensor(named: "x"), w = try f.tensor(named: "weight"), b = try f.tensor(named: "bias")
        for (name, eps) in [("y_eps_1e-6", Float(1e-6)), ("y_eps_1e-12", 1e-12), ("y_eps_1e-5", 1e-5)] {
            expectClose(Kernels.layerNorm(x, weight: w, bias: b, eps: eps), try f.tensor(named: name))
        }
    }

    @Test("RMS norm matches T5's T5LayerNorm")
    func rmsNorm() throws {
        let f = try kernelFixture("rms_norm.safetensors")
        expectClose(Kernels.rmsNorm(try f.tensor(named: "x"), weight: try f.tensor(named: "weight"), eps: 1e-6),
                    try f.tensor(named: "y"))
    }

    @Test("softmax with −inf and finfo.min masks matches torch, including a fully masked row")
    func softmax() throws {
        let f = try kernelFixture("softmax.safetensors")
        let x = try f.tensor(named: "x")
        expectClose(Kernels.softmax(x, mask: try f.tensor(named: "mask")), try f.tensor(named: "y"), atol: 1e-6)
        expectClose(Kernels.softmax(x, mask: try f.tensor(named: "full_mask")), try f.tensor(named: "y_full_mask"),
                    atol: 1e-6)
    }

    @Test("attention matches torch's scaled_dot_product_attention for cross, padded, causal and biased cases")
    func attention() throws {
        let f = try kernelFixture("attention.safetensors")
        let heads = Int(f.metadata["heads"] ?? "") ?? 0
        #expect(heads == 3)
        let q = try f.tensor(named: "q"), k = try f.tensor(named: "k"), v = try f.tensor(named: "v")
        expectClose(Kernels.attention(query: q, key: k, value: v, heads: heads), try f.tensor(named: "y_cross"))
        let padding = try f.tensor(named: "padding_mask")
        expectClose(Kernels.attention(query: q, key: k, value: v, heads: heads, mask: padding),
                    try f.tensor(named: "y_padding"))
        let xs = try f.tensor(named: "x_self")
        let causal = try f.tensor(named: "causal_mask")
        expectClose(Kernels.attention(query: xs, key: xs, value: xs, heads: heads, mask: causal),
                    try f.tensor(named: "y_causal"))
        expectClose(Kernels.attention(query: q, key: k, value: v, heads: heads, scale: 1,
                                      mask: try f.tensor(named: "head_bias")),
                    try f.tensor(named: "y_bias_scale1"))
    }

    @Test("patch embedding matches Conv2d + flatten(2).transpose(1, 2), dropping a partial last column")
    func patchEmbedding() throws {
        let f = try kernelFixture("patch_embedding.safetensors")
        let y = Kernels.patchEmbedding(pixels: try f.tensor(named: "pixels"), weight: try f.tensor(named: "weight"),
                                       bias: try f.tensor(named: "bias"))
        expectClose(y, try f.tensor(named: "y"), atol: 2e-5)
    }

    @Test("the kernels compose into transformers' Blip2EncoderLayer, weights read through scopes")
    func vitLayer() throws {
        // Legend: B = 2 images, T = 5 tokens, C = 24 channels, H = 3 heads, F = 40 MLP width.
        let f = try kernelFixture("vit_layer.safetensors")
        let layer = try WeightStore(files: [f]).scope("layer")
        let (c, ff, heads, eps) = (24, 40, 3, Float(1e-6))
        let x = try f.tensor(named: "x")  // [B, T, C]
        let attn = layer.scope("self_attn")
        let qkvWeight = try attn.tensor("qkv.weight", shape: [3 * c, c])
        let qkvBias = try attn.tensor("qkv.bias", shape: [3 * c])
        let ln1 = layer.scope("layer_norm1")
        let h1 = Kernels.layerNorm(x, weight: try ln1.tensor("weight", shape: [c]),
                                   bias: try ln1.tensor("bias", shape: [c]), eps: eps)
        // q, k, v are the contiguous thirds of the fused projection: slice weight rows (no copy).
        let third = { (i: Int) in
            Kernels.linear(h1, weight: qkvWeight.slice(axis: 0, (i * c)..<((i + 1) * c)),
                           bias: qkvBias.slice(axis: 0, (i * c)..<((i + 1) * c)))
        }
        let context = Kernels.attention(query: third(0), key: third(1), value: third(2), heads: heads)
        var h = Kernels.linear(context, weight: try attn.tensor("projection.weight", shape: [c, c]),
                               bias: try attn.tensor("projection.bias", shape: [c]))
        Kernels.addInPlace(&h, x)  // residual
        let ln2 = layer.scope("layer_norm2")
        let h2 = Kernels.layerNorm(h, weight: try ln2.tensor("weight", shape: [c]),
                                   bias: try ln2.tensor("bias", shape: [c]), eps: eps)
        let mlp = layer.scope("mlp")
        var up = Kernels.linear(h2, weight: try mlp.tensor("fc1.weight", shape: [ff, c]),
                                bias: try mlp.tensor("fc1.bias", shape: [ff]))  // [B, T, F]
        Kernels.geluInPlace(&up)
        var out = Kernels.linear(up, weight: try mlp.tensor("fc2.weight", shape: [c, ff]),
                                 bias: try mlp.tensor("fc2.bias", shape: [c]))
        Kernels.addInPlace(&out, h)
        expectClose(out, try f.tensor(named: "y"), rtol: 1e-5, atol: 1e-5)
        #expect(layer.store.unusedKeys == ["x", "y"])
    }
}
