// Seeded mutation fuzzing: mutated requests must never crash the parser, and the events must not depend on how the
// input is split (checked by HTTPParserVerifier), whatever the parser decides about them.
import HTTP1
import Testing
import TestSupport

/// xorshift64*: a tiny deterministic generator so failures reproduce from the seed.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
}

/// Bytes that matter to HTTP framing, favoured by the mutator.
private let interestingBytes: [UInt8] = Array(" \t\r\n:;,=\"\\0aAfF-+\u{0b}\u{7f}".utf8) + [0x00, 0x80, 0xff]

private let seeds: [String] = [
    "GET /a?b=c HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
    "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\"\r\nhello\r\n0\r\nT: v\r\n\r\n",
    "OPTIONS * HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
]

/// Number of mutants per seed: enough to hit every branch family, small enough for a debug test run.
private let mutantsPerSeed = 60

@Suite("Request parser fuzzing")
struct RequestParserFuzzTests {
    @Test("Mutated requests never crash and parse the same however they are split", arguments: seeds.indices)
    func mutants(seedIndex: Int) throws {
        var generator = SeededGenerator(state: 0x9E37_79B9_7F4A_7C15 &+ UInt64(seedIndex))
        let original = Array(seeds[seedIndex].utf8)
        for _ in 0..<mutantsPerSeed {
            var input = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<input.count, using: &generator)
                let byte = interestingBytes.randomElement(using: &generator) ?? 0
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: input[position] = byte
                case 1: input.insert(byte, at: position)
                default: if input.count > 1 { input.remove(at: position) }
                }
            }
            _ = try HTTPParserVerifier.verify(input)
        }
    }
}
