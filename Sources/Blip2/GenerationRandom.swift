// The seeded random source of sampling. torch's generator cannot be reproduced, so "reproducible" means:
// the same seed gives the same samples in this port, on every machine.

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and every seed (0 included) gives a full-period stream.
public struct GenerationRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A stream determined entirely by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The stream of sequence `index` under `seed`: independent of how many other sequences run beside it,
    /// so batching never changes a sample.
    public init(seed: UInt64, stream index: Int) {
        var mixer = GenerationRandom(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03))
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
