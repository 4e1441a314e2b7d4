// Every fast kernel against its naive twin, on awkward shapes (1, odd, not a multiple of 8) and
// on sizes big enough to take the multi-threaded path.
import Testing
import Tensors

@Suite("Fast kernels agree with their naive twins")
struct KernelTwinTests {
    static let gemmShapes: [(m: Int, k: Int, n: Int)] = [(1, 1, 1), (3, 5, 7), (33, 17, 65), (257, 31, 9)]

    @Test("matmul matches the triple loop for every transpose combination", arguments: gemmShapes)
    func matmul(m: Int, k: Int, n: Int) {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = randomTensor(ta ? [k, m] : [m, k], seed: 1)
            let b = randomTensor(tb ? [n, k] : [k, n], seed: 2)
            expectClose(Kernels.matmul(a, b, transposeA: ta, transposeB: tb),
                        Kernels.naiveMatmul(a, b, transposeA: ta, transposeB: tb), rtol: 1e-5, atol: 2e-5)
        }
    }

    @Test("batched matmul matches per-batch triple loops", arguments: gemmShapes)
    func batchedMatmul(m: Int, k: Int, n: Int) {
        let a = randomTensor([3, m, k], seed: 3)
        let b = randomTensor([3, n, k], seed: 4)
        expectClose(Kernels.batchedMatmul(a, b, transposeB: true), Kernels.naiveBatchedMatmul(a, b, transposeB: true),
                    rtol: 1e-5, atol: 2e-5)
    }

    /// One-row shapes take the GEMV path (a decoding step of one sequence).
    static let linearShapes = gemmShapes + [(1, 37, 19), (1, 300, 65)]

    @Test("linear with HF's [out, in] weights matches the naive sum, with and without bias", arguments: linearShapes)
    func linear(m: Int, k: Int, n: Int) {
        let x = randomTensor([2, m, k], seed: 5)
        let w = randomTensor([n, k], seed: 6)
        let b = randomTensor([n], seed: 7)
        expectClose(Kernels.linear(x, weight: w, bias: b), Kernels.naiveLinear(x, weight: w, bias: b), atol: 2e-5)
        expectClose(Kernels.linear(x, weight: w), Kernels.naiveLinear(x, weight: w), atol: 2e-5)
    }

    @Test("linear over weight rows sliced from a fused matrix equals the fused linear's columns")
    func linearOnWeightSlices() {
        let x = randomTensor([5, 7], seed: 8)
        let w = randomTensor([9, 7], seed: 9)
        let fused = Kernels.linear(x, weight: w)
        let middle = Kernels.linear(x, weight: w.slice(axis: 0, 3..<6))
        expectClose(middle, fused.slice(axis: 1, 3..<6), rtol: 0, atol: 1e-6)
    }

    static let rowShapes: [[Int]] = [[1, 1], [3, 7], [2, 5, 33], [5, 33, 257]]

    @Test("layer norm matches the naive twin", arguments: rowShapes)
    func layerNorm(shape: [Int]) {
        let x = randomTensor(shape, seed: 10, in: -3...5)
        let w = randomTensor([shape.last ?? 1], seed: 11)
        let b = randomTensor([shape.last ?? 1], seed: 12)
        for eps: Float in [1e-5, 1e-12] {
            expectClose(Kernels.layerNorm(x, weight: w, bias: b, eps: eps),
                        Kernels.naiveLayerNorm(x, weight: w, bias: b, eps: eps))
        }
        expectClose(Kernels.layerNorm(x, weight: w, bias: nil, eps: 1e-6),
                    Kernels.naiveLayerNorm(x, weight: w, bias: nil, eps: 1e-6))
    }

    @Test("RMS norm and L2 normalisation match their naive twins", arguments: rowShapes)
    func rmsAndL2(shape: [Int]) {
        let x = randomTensor(shape, seed: 13)
        let w = randomTensor([shape.last ?? 1], seed: 14)
        expectClose(Kernels.rmsNorm(x, weight: w, eps: 1e-6), Kernels.naiveRMSNorm(x, weight: w, eps: 1e-6))
        expectClose(Kernels.l2Normalize(x), Kernels.naiveL2Normalize(x))
    }

    @Test("softmax matches the naive twin with no mask and with broadcast masks")
    func softmax() {
        let scores = randomTensor([2, 3, 5, 7], seed: 15, in: -8...8)
        expectClose(Kernels.softmax(scores), Kernels.naiveSoftmax(scores))
        for maskShape in [[2, 1, 1, 7], [1, 1, 5, 7], [5, 7], [2, 3, 5, 7], [7]] {
            let mask = randomTensor(maskShape, seed: 16, in: -20...0)
            expectClose(Kernels.softmax(scores, mask: mask), Kernels.naiveSoftmax(scores, mask: mask))
        }
        let big = randomTensor([3, 129, 257], seed: 17, in: -8...8)
        expectClose(Kernels.softmax(big), Kernels.naiveSoftmax(big))
    }

    @Test("a fully −inf masked row gives zeros, a finite-min masked row gives a uniform row, never NaN")
    func softmaxMaskedRows() {
        let scores = randomTensor([2, 4], seed: 18)
        let mask = Tensor(shape: [2, 4], scalars: [-.infinity, -.infinity, -.infinity, -.infinity,
                                                   -Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude,
                                                   -Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude])
        let p = Kernels.softmax(scores, mask: mask)
        #expect(p.scalars.allSatisfy { !$0.isNaN })
        #expect(p.scalars[0..<4].allSatisfy { $0 == 0 })
        expectClose(p.slice(axis: 0, 1..<2), Tensor(shape: [1, 4], repeating: 0.25))
        expectClose(p, Kernels.naiveSoftmax(scores, mask: mask))
    }

    @Test("GELU and ReLU match their twins over a range that covers both tails")
    func activations() {
        let x = randomTensor([3, 129, 257], seed: 19, in: -9...9)
        expectClose(Kernels.gelu(x), Kernels.naiveGELU(x), rtol: 1e-5, atol: 1e-6)
        expectClose(Kernels.relu(x), Kernels.naiveReLU(x), rtol: 0, atol: 0)
    }

    @Test("broadcast add matches the naive twin for residual, bias and position-embedding shapes")
    func add() {
        let x = randomTensor([2, 257, 129], seed: 20)
        for yShape in [[2, 257, 129], [129], [1, 257, 129], [257, 1], [1]] {
            let y = randomTensor(yShape, seed: 21)
            expectClose(Kernels.add(x, y), Kernels.naiveAdd(x, y), rtol: 0, atol: 0)
        }
    }

    static let attentionShapes: [(b: Int, tq: Int, tk: Int, h: Int, d: Int)] =
        [(1, 1, 1, 1, 1), (2, 3, 5, 3, 7), (2, 33, 17, 4, 9), (1, 65, 65, 2, 88)]

    @Test("attention matches the naive twin with no mask, a padding mask and a causal mask", arguments: attentionShapes)
    func attention(b: Int, tq: Int, tk: Int, h: Int, d: Int) {
        let q = randomTensor([b, tq, h * d], seed: 22)
        let k = randomTensor([b, tk, h * d], seed: 23)
        let v = randomTensor([b, tk, h * d], seed: 24)
        expectClose(Kernels.attention(query: q, key: k, value: v, heads: h),
                    Kernels.naiveAttention(query: q, key: k, value: v, heads: h))
        var padding = [Float](repeating: 0, count: b * tk)
        for bi in 0..<b where tk > 1 { padding[bi * tk + tk - 1 - bi % tk] = -.infinity }
        let paddingMask = Tensor(shape: [b, 1, 1, tk], scalars: padding)
        let causal = Tensor(shape: [1, 1, tq, tk], scalars: (0..<(tq * tk)).map { $0 % tk > $0 / tk ? -1e9 : 0 })
        let bias = randomTensor([1, h, tq, tk], seed: 25)
        for mask in [paddingMask, causal, bias] {
            expectClose(Kernels.attention(query: q, key: k, value: v, heads: h, scale: 0.3, mask: mask),
                        Kernels.naiveAttention(query: q, key: k, value: v, heads: h, scale: 0.3, mask: mask))
        }
    }

    @Test("attention over the first rows of a preallocated KV cache equals attention over a copy of them")
    func attentionKeyLength() {
        let q = randomTensor([2, 1, 12], seed: 29)
        let cache = randomTensor([2, 9, 12], seed: 30)
        let used = cache.slice(axis: 1, 0..<5)
        let mask = Kernels.causalMask(queryLength: 1, keyLength: 5)
        let fast = Kernels.attention(query: q, key: cache, value: cache, heads: 3, mask: mask, keyLength: 5)
        expectClose(fast, Kernels.attention(query: q, key: used, value: used, heads: 3, mask: mask), rtol: 0, atol: 0)
        let naive = Kernels.naiveAttention(query: q, key: cache, value: cache, heads: 3, mask: mask, keyLength: 5)
        expectClose(fast, naive)
    }

    @Test("patch embedding as patchify + GEMM matches a direct strided convolution")
    func patchEmbedding() {
        let cases = [([1, 1, 1, 1], [1, 1, 1, 1]), ([2, 3, 28, 29], [5, 3, 14, 14]), ([1, 3, 15, 15], [9, 3, 7, 7])]
        for (pixels, weight) in cases {
            let x = randomTensor(pixels, seed: 26)
            let w = randomTensor(weight, seed: 27)
            let b = randomTensor([weight[0]], seed: 28)
            expectClose(Kernels.patchEmbedding(pixels: x, weight: w, bias: b),
                        Kernels.naivePatchEmbedding(pixels: x, weight: w, bias: b), atol: 2e-5)
        }
    }
}
