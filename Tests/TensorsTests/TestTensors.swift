// Helpers for the kernel tests: seeded random tensors and an elementwise closeness check.
import Testing
import Tensors

/// SplitMix64: a tiny seeded generator, so every test input is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A tensor of uniform values in `range`, from a seeded generator.
func randomTensor(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -2...2) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<n).map { _ in Float.random(in: range, using: &rng) })
}

/// Expects equal shapes and `|a − b| ≤ atol + rtol·|b|` everywhere; reports the worst element.
func expectClose(
    _ a: Tensor, _ b: Tensor, rtol: Float = 1e-5, atol: Float = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
    guard a.shape == b.shape else { return }
    let x = a.scalars, y = b.scalars
    var worst = 0
    var worstExcess: Float = 0
    var bad = 0
    for i in 0..<x.count {
        let excess = abs(x[i] - y[i]) - (atol + rtol * abs(y[i]))
        if !(excess <= 0) {
            bad += 1
            if !(excess <= worstExcess) { worstExcess = excess; worst = i }
        }
    }
    let detail = x.isEmpty ? "" : "; worst at \(worst): \(x[worst]) vs \(y[worst])"
    #expect(bad == 0, "\(bad) of \(x.count) elements differ\(detail)", sourceLocation: sourceLocation)
}
