// The `pattern` field of tokenizer.json's Replace normalizer and Split pre-tokenizer: {"String": "..."} or
// {"Regex": "..."} (tokenizers `utils/pattern.rs`).

/// A literal string or a regular expression to find in text.
///
/// Regular expressions are compiled with Swift's `Regex` in Unicode-scalar semantics; HF writes them for Oniguruma,
/// whose syntax agrees on the patterns tokenizer files use (`\\s+`, ` {2,}`, character classes, `\\p{L}`).
public enum TextPattern: Sendable {
    case string(String)
    case regex(String)

    init(_ config: StageConfig, key: String) throws(TokenizerError) {
        let object = try config.object(key)
        if let literal = object["String"]?.stringValue {
            self = .string(literal)
        } else if let expression = object["Regex"]?.stringValue {
            do {
                _ = try Regex(expression)
            } catch {
                throw .invalidField(stage: config.stage, field: key, reason: "bad regular expression: \(error)")
            }
            self = .regex(expression)
        } else {
            throw .invalidField(stage: config.stage, field: key,
                                reason: "expected {\"String\": ...} or {\"Regex\": ...}")
        }
    }

    /// Non-overlapping matches, left to right, as ranges of scalar offsets. Empty matches are skipped.
    public func matches(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        switch self {
        case let .string(literal):
            let needle = Array(literal.unicodeScalars)
            guard !needle.isEmpty, needle.count <= scalars.count else { return [] }
            var found: [Range<Int>] = []
            var start = 0
            while start + needle.count <= scalars.count {
                if scalars[start..<(start + needle.count)].elementsEqual(needle) {
                    found.append(start..<(start + needle.count))
                    start += needle.count
                } else {
                    start += 1
                }
            }
            return found
        case let .regex(expression):
            // Validated at load; a failure here cannot happen, and finds nothing if it did.
            guard let regex = try? Regex(expression).matchingSemantics(.unicodeScalar) else { return [] }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            let text = String(view)
            var found: [Range<Int>] = []
            var offset = 0
            var index = text.unicodeScalars.startIndex
            for match in text.matches(of: regex) where !match.range.isEmpty {
                offset += text.unicodeScalars.distance(from: index, to: match.range.lowerBound)
                let length = text.unicodeScalars.distance(from: match.range.lowerBound, to: match.range.upperBound)
                found.append(offset..<(offset + length))
                offset += length
                index = match.range.upperBound
            }
            return found
        }
    }
}
