// A decoder verifier in the manner of swift-nio's ByteToMessageDecoderVerifier and picohttpparser's "every
// truncated prefix" tests: the same input must give the same events however the socket happens to split it.
import HTTP1

/// Why the parser gave different events for different splits of the same input.
public struct HTTPParserVerifierError: Error, CustomStringConvertible {
    public var description: String
}

/// Feeds one input to fresh `HTTPRequestParser`s (a) whole, (b) one byte at a time, (c) split into two feeds at
/// each index, and checks that the event sequences agree once adjacent `.body` pieces are joined.
public enum HTTPParserVerifier {
    /// Bytes fed in total for the split-at-every-index pass. Inputs up to ~2 KiB get every index; longer ones
    /// (the 8-32 KiB limit rows) an even sample plus the first and last few indices, so the quadratic pass stays
    /// around a tenth of a second per row in a debug build.
    public static let defaultSplitByteBudget = 4 * 1024 * 1024

    /// Indices always tried at each end of a long input, where framing boundaries usually are.
    private static let edgeSplitPoints = 64

    /// The coalesced events of `input`, after checking every feeding pattern agrees.
    public static func verify(
        _ input: [UInt8], limits: HTTPLimits = HTTPLimits(), splitByteBudget: Int = defaultSplitByteBudget
    ) throws(HTTPParserVerifierError) -> [HTTPParserEvent] {
        let whole = coalesce(run([input], limits: limits))
        let byteByByte = coalesce(run(input.map { [$0] }, limits: limits))
        try compare(whole, byteByByte, what: "byte by byte")
        for split in splitPoints(count: input.count, budget: splitByteBudget) {
            let pieces = [Array(input[..<split]), Array(input[split...])]
            try compare(whole, coalesce(run(pieces, limits: limits)), what: "split at \(split)")
        }
        return whole
    }

    /// Convenience for text inputs.
    public static func verify(
        _ input: String, limits: HTTPLimits = HTTPLimits(), splitByteBudget: Int = defaultSplitByteBudget
    ) throws(HTTPParserVerifierError) -> [HTTPParserEvent] {
        try verify(Array(input.utf8), limits: limits, splitByteBudget: splitByteBudget)
    }

    /// The events of feeding `pieces` in order to one fresh parser.
    public static func run(_ pieces: [[UInt8]], limits: HTTPLimits = HTTPLimits()) -> [HTTPParserEvent] {
        var parser = HTTPRequestParser(limits: limits)
        var events: [HTTPParserEvent] = []
        for piece in pieces {
            events.append(contentsOf: parser.feed(piece))
        }
        return events
    }

    /// `events` with adjacent `.body` pieces joined and empty ones dropped.
    public static func coalesce(_ events: [HTTPParserEvent]) -> [HTTPParserEvent] {
        var out: [HTTPParserEvent] = []
        for event in events {
            guard case .body(let bytes) = event else {
                out.append(event)
                continue
            }
            if bytes.isEmpty { continue }
            if case .body(let previous)? = out.last {
                out[out.count - 1] = .body(previous + bytes)
            } else {
                out.append(event)
            }
        }
        return out
    }

    private static func splitPoints(count: Int, budget: Int) -> [Int] {
        let allowed = budget / Swift.max(1, count)
        guard count >= allowed else { return Array(0...count) }
        var points = Set(0...Swift.min(edgeSplitPoints, count))
        points.formUnion(Swift.max(0, count - edgeSplitPoints)...count)
        let stride = Swift.max(1, count / Swift.max(1, allowed - 2 * edgeSplitPoints))
        points.formUnion(Swift.stride(from: 0, through: count, by: stride))
        return points.sorted()
    }

    private static func compare(
        _ expected: [HTTPParserEvent], _ actual: [HTTPParserEvent], what: String
    ) throws(HTTPParserVerifierError) {
        guard expected != actual else { return }
        let index = (0..<min(expected.count, actual.count)).first { expected[$0] != actual[$0] }
            ?? min(expected.count, actual.count)
        let wanted = index < expected.count ? "\(expected[index])" : "nothing"
        let got = index < actual.count ? "\(actual[index])" : "nothing"
        throw HTTPParserVerifierError(
            description: "fed \(what): event \(index) differs from the whole-input parse: "
                + "expected \(wanted), got \(got)")
    }
}
