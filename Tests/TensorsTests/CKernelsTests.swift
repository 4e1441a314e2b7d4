// The CKernels bodies (AVX2+FMA and portable) against their naive f64 twins: the small-row linear on awkward
// shapes, erf and exp in ulps over sweeps of the whole float range, GELU and softmax rows.
// On a CPU without AVX2+FMA the `.avx2` cases run the portable body (see `KernelPath`) and still must pass.
import Foundation
import Testing
@testable import Tensors

@Suite("C kernels agree with their naive twins on both bodies")
struct CKernelsTests {
    static let forcedPaths: [KernelPath] = [.portable, .avx2]

    /// Rows of x around the 4-row register block and `rowStreamingMaxRows`; K and N odd, not multiples of 8
    /// (masked tails), N not a multiple of the 12-row block, and one shape big enough to split over threads.
    static let linearShapes: [(m: Int, k: Int, n: Int)] = [
        (1, 1, 1), (2, 13, 5), (3, 37, 29), (7, 9, 67), (8, 300, 67), (9, 61, 13), (16, 77, 25), (5, 8, 12),
    ]

    @Test("the row-streaming linear matches the naive sum with and without bias",
          arguments: forcedPaths, linearShapes)
    func rowStreamingLinear(path: KernelPath, shape: (m: Int, k: Int, n: Int)) {
        let x = randomTensor([shape.m, shape.k], seed: 11)
        let w = randomTensor([shape.n, shape.k], seed: 12)
        let b = randomTensor([shape.n], seed: 13)
        // f32 sums of up to 300 products of magnitude <= 4 against f64 sums
        let atol = Float(shape.k) * 2e-6
        expectClose(Kernels.rowStreamingLinear(x, weight: w, bias: b, path: path),
                    Kernels.naiveLinear(x, weight: w, bias: b), atol: atol)
        expectClose(Kernels.rowStreamingLinear(x, weight: w, bias: nil, path: path),
                    Kernels.naiveLinear(x, weight: w), atol: atol)
    }

    @Test("linear stays equal to the naive sum on both sides of the row-streaming limit")
    func linearRouting() {
        for m in [2, 7, Kernels.rowStreamingMaxRows, Kernels.rowStreamingMaxRows + 1] {
            let x = randomTensor([1, m, 45], seed: 14)
            let w = randomTensor([31, 45], seed: 15)
            let b = randomTensor([31], seed: 16)
            expectClose(Kernels.linear(x, weight: w, bias: b), Kernels.naiveLinear(x, weight: w, bias: b), atol: 1e-4)
        }
    }

    @Test("the row-streaming linear with no input features gives the bias")
    func rowStreamingEmptyInner() {
        let b = randomTensor([7], seed: 17)
        for path in Self.forcedPaths {
            let y = Kernels.rowStreamingLinear(
                Tensor(zeros: [3, 0]), weight: Tensor(zeros: [7, 0]), bias: b, path: path)
            #expect(y.scalars == Array(repeating: b.scalars, count: 3).flatMap { $0 })
        }
    }

    /// Every `stride`-th float bit pattern (both signs), plus the given extras.
    static func floatSweep(stride: UInt32, extras: [Float] = []) -> [Float] {
        var values = extras
        var bits: UInt32 = 0
        while true {
            values.append(Float(bitPattern: bits))
            let (next, overflow) = bits.addingReportingOverflow(stride)
            if overflow { break }
            bits = next
        }
        return values
    }

    /// |got − reference| in units of the float spacing at the rounded reference (subnormal spacing below it).
    static func ulpError(_ got: Float, _ reference: Double) -> Double {
        let r = Float(reference)
        if r.isInfinite || got.isInfinite { return got == r ? 0 : .infinity }
        let spacing = max(Double(r.magnitude.ulp), Double(Float.leastNonzeroMagnitude))
        return abs(Double(got) - reference) / spacing
    }

    /// The largest `ulpError` of `ys` against `reference(xs)` in f64, and the input where it occurs.
    static func worstUlpError(_ xs: [Float], _ ys: [Float], reference: (Double) -> Double) -> (Double, Float) {
        var worst = 0.0, worstX: Float = 0
        for (x, y) in zip(xs, ys) {
            let e = ulpError(y, reference(Double(x)))
            if !(e <= worst) { worst = e; worstX = x }
        }
        return (worst, worstX)
    }

    @Test("erf is within 1.5 ulp of the f64 erf over a sweep of every float, and exact at the special values",
          arguments: forcedPaths)
    func erfUlps(path: KernelPath) {
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                 .leastNormalMagnitude, 1, -1, 2.25, 3.9192, 3.9193, .greatestFiniteMagnitude]
        let xs = Self.floatSweep(stride: 4099, extras: specials).filter { !$0.isNaN }
        let ys = Kernels.erfElementwise(Tensor(shape: [xs.count], scalars: xs), path: path).scalars
        let (worst, worstX) = Self.worstUlpError(xs, ys) { Foundation.erf($0) }
        #expect(worst <= 1.5, "worst \(worst) ulp at \(worstX)")
        let special = Kernels.erfElementwise(Tensor(shape: [5], scalars: [.infinity, -.infinity, .nan, 0, -0.0]),
                                             path: path).scalars
        #expect(special[0] == 1 && special[1] == -1 && special[2].isNaN)
        #expect(special[3] == 0 && special[3].sign == .plus && special[4] == 0 && special[4].sign == .minus)
    }

    @Test("exp is within 1.5 ulp of the f64 exp wherever the result is a normal float", arguments: forcedPaths)
    func expUlps(path: KernelPath) {
        let specials: [Float] = [0, -0.0, -87.33, 88.72, 88.7228, -87.3365, 1e-30, -1e-30]
        let xs = Self.floatSweep(stride: 4099, extras: specials).filter { x in
            !x.isNaN && Foundation.exp(Double(x)) >= Double(Float.leastNormalMagnitude)
                && Foundation.exp(Double(x)) <= Double(Float.greatestFiniteMagnitude)
        }
        let ys = Kernels.expElementwise(Tensor(shape: [xs.count], scalars: xs), path: path).scalars
        let (worst, worstX) = Self.worstUlpError(xs, ys) { Foundation.exp($0) }
        #expect(worst <= 1.5, "worst \(worst) ulp at \(worstX)")
        let special = Kernels.expElementwise(Tensor(shape: [5], scalars: [.infinity, -.infinity, .nan, 89, -200]),
                                             path: path).scalars
        #expect(special[0] == .infinity && special[1] == 0 && special[2].isNaN)
        #expect(special[3] == .infinity && special[4] == 0)
    }

    @Test("GELU matches the naive f64 twin on odd lengths, on both sides of every erf piece",
          arguments: forcedPaths, [1, 7, 9, 1001, 40_003])
    func gelu(path: KernelPath, count: Int) {
        let x = randomTensor([count], seed: 18, in: -12...12)
        var y = x
        Kernels.geluInPlace(&y, path: path)
        // 1 + erf cancels for negative x (as in torch): absolute error up to |x|·ulp(1)
        expectClose(y, Kernels.naiveGELU(x), rtol: 2e-6, atol: 2e-6)
        var special = Tensor(shape: [4], scalars: [.infinity, -.infinity, .nan, 0])
        Kernels.geluInPlace(&special, path: path)
        // like torch: gelu(+inf) = inf, and 0.5 · (−inf) · 0 is NaN for −inf
        #expect(special.scalars[0] == .infinity && special.scalars[1].isNaN && special.scalars[2].isNaN)
        #expect(special.scalars[3] == 0)
    }

    @Test("softmax rows match the naive twin on odd widths, with all -inf rows as zeros",
          arguments: forcedPaths, [1, 7, 9, 197, 1001])
    func softmaxRows(path: KernelPath, width: Int) {
        var x = randomTensor([3, width], seed: 19, in: -30...30)
        let expected = Kernels.naiveSoftmax(x)
        Kernels.softmaxInPlace(&x, mask: nil, path: path)
        expectClose(x, expected, rtol: 1e-5, atol: 1e-7)

        // row 0 fully masked, row 1 masked but its last key, row 2 free
        var maskValues = [Float](repeating: 0, count: 3 * width)
        for j in 0..<width { maskValues[j] = -.infinity }
        for j in 0..<(width - 1) { maskValues[width + j] = -.infinity }
        let mask = Tensor(shape: [3, width], scalars: maskValues)
        var masked = randomTensor([3, width], seed: 20)
        let expectedMasked = Kernels.naiveSoftmax(masked, mask: mask)
        Kernels.softmaxInPlace(&masked, mask: mask, path: path)
        expectClose(masked, expectedMasked, rtol: 1e-5, atol: 1e-7)
        #expect(masked.scalars[0..<width].allSatisfy { $0 == 0 })
        #expect(masked.scalars[2 * width - 1] == 1)
    }
}
