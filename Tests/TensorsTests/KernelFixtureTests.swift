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
}
