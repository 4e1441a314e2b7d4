// Follows the idea of `NormalizedString` in huggingface/tokenizers (tokenizer/normalizer.rs): text that has been
// transformed, with each of its characters aligned to the span of the original text it came from, so that token
// offsets can point into what the caller passed in.

/// A piece of text being normalized or split, as Unicode scalars, each with the range of original scalars it came
/// from.
///
/// Offsets are counted in Unicode scalars of the original string (the unit Python's `str` indexes in, which is what
/// the `tokenizers` Python binding reports). Normalizers rewrite scalars one at a time or one grapheme cluster at a
/// time; every output scalar inherits the span of the input it came from.
public struct NormalizedText: Sendable, Equatable {
    /// The current (normalized) text.
    public private(set) var scalars: [Unicode.Scalar]
    /// For each scalar of `scalars`, the original scalar range it came from.
    public private(set) var alignments: [Range<Int>]

    /// Wraps an original text: scalar `i` is aligned to `i..<i+1`.
    public init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        alignments = (0..<scalars.count).map { $0..<($0 + 1) }
    }

    init(scalars: [Unicode.Scalar], alignments: [Range<Int>]) {
        precondition(scalars.count == alignments.count, "one alignment per scalar")
        self.scalars = scalars
        self.alignments = alignments
    }

    /// The normalized text as a `String`.
    public var string: String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    public var isEmpty: Bool { scalars.isEmpty }
    public var count: Int { scalars.count }

    /// The sub-text of normalized scalars `range`, keeping its alignments.
    func slice(_ range: Range<Int>) -> NormalizedText {
        NormalizedText(scalars: Array(scalars[range]), alignments: Array(alignments[range]))
    }

    /// The original span covered by normalized scalars `range` (empty at the start of the text for an empty range,
    /// as `tokenizers` reports for empty pieces).
    func originalRange(_ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= alignments.count else {
            let at = alignments.first?.lowerBound ?? 0
            return at..<at
        }
        var lower = alignments[range.lowerBound].lowerBound
        var upper = alignments[range.lowerBound].upperBound
        for alignment in alignments[range] {
            lower = min(lower, alignment.lowerBound)
            upper = max(upper, alignment.upperBound)
        }
        return lower..<upper
    }

    /// The span of the original text this (piece of) text comes from.
    public var originalRange: Range<Int> { originalRange(0..<count) }

    /// What a per-scalar rewrite does with one scalar (`keep` and `replace` allocate nothing: the common cases).
    enum ScalarEdit {
        case keep
        case replace(Unicode.Scalar)
        case remove
        case expand([Unicode.Scalar])
    }

    /// Rewrites every scalar; outputs inherit the input's alignment.
    mutating func editScalars(_ edit: (Unicode.Scalar) -> ScalarEdit) {
        var newScalars: [Unicode.Scalar] = []
        var newAlignments: [Range<Int>] = []
        newScalars.reserveCapacity(scalars.count)
        newAlignments.reserveCapacity(scalars.count)
        for index in scalars.indices {
            switch edit(scalars[index]) {
            case .keep:
                newScalars.append(scalars[index])
                newAlignments.append(alignments[index])
            case let .replace(scalar):
                newScalars.append(scalar)
                newAlignments.append(alignments[index])
            case .remove:
                break
            case let .expand(outputs):
                for output in outputs {
                    newScalars.append(output)
                    newAlignments.append(alignments[index])
                }
            }
        }
        scalars = newScalars
        alignments = newAlignments
    }

    /// Rewrites every scalar into zero or more scalars; the outputs inherit the input's alignment.
    mutating func mapScalars(_ transform: (Unicode.Scalar) -> [Unicode.Scalar]) {
        var newScalars: [Unicode.Scalar] = []
        var newAlignments: [Range<Int>] = []
        newScalars.reserveCapacity(scalars.count)
        newAlignments.reserveCapacity(scalars.count)
        for (scalar, alignment) in zip(scalars, alignments) {
            for output in transform(scalar) {
                newScalars.append(output)
                newAlignments.append(alignment)
            }
        }
        scalars = newScalars
        alignments = newAlignments
    }

    /// Keeps the scalars for which `keep` is true.
    mutating func filterScalars(_ keep: (Unicode.Scalar) -> Bool) {
        var newScalars: [Unicode.Scalar] = []
        var newAlignments: [Range<Int>] = []
        for (scalar, alignment) in zip(scalars, alignments) where keep(scalar) {
            newScalars.append(scalar)
            newAlignments.append(alignment)
        }
        scalars = newScalars
        alignments = newAlignments
    }

    /// Rewrites the text one grapheme cluster at a time (for the composing Unicode normal forms, which cannot work
    /// scalar by scalar). Output scalar `i` of a cluster takes the alignment of input scalar `i` (the last one when
    /// the output is longer), as the Rust library's alignment-tracking normalization does: a composition keeps its
    /// first character's span, an expansion repeats it.
    mutating func mapClusters(_ transform: (String) -> String) {
        var newScalars: [Unicode.Scalar] = []
        var newAlignments: [Range<Int>] = []
        var start = 0
        for character in string {
            let width = character.unicodeScalars.count
            for (index, output) in transform(String(character)).unicodeScalars.enumerated() {
                newScalars.append(output)
                newAlignments.append(alignments[start + min(index, width - 1)])
            }
            start += width
        }
        scalars = newScalars
        alignments = newAlignments
    }

    /// Replaces normalized scalars `range` (not empty) by `replacement`, all aligned to the span of the last
    /// replaced scalar, as the Rust library's `NormalizedString::replace` (removals first, then insertions that
    /// take the alignment of the character before them).
    mutating func replace(_ range: Range<Int>, with replacement: [Unicode.Scalar]) {
        guard !range.isEmpty, range.upperBound <= alignments.count else { return }
        let span = alignments[range.upperBound - 1]
        scalars.replaceSubrange(range, with: replacement)
        alignments.replaceSubrange(range, with: Array(repeating: span, count: replacement.count))
    }

    /// Inserts `prefix` before the text, aligned to the (empty) start of the first scalar's span.
    mutating func prepend(_ prefix: [Unicode.Scalar]) {
        guard let first = alignments.first else { return }
        scalars.insert(contentsOf: prefix, at: 0)
        alignments.insert(contentsOf: Array(repeating: first, count: prefix.count), at: 0)
    }

    /// Appends `suffix`, aligned to the last scalar's span.
    mutating func append(_ suffix: [Unicode.Scalar]) {
        guard let last = alignments.last else { return }
        scalars.append(contentsOf: suffix)
        alignments.append(contentsOf: Array(repeating: last, count: suffix.count))
    }
}
