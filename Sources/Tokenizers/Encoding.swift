// The result of encoding, as huggingface/tokenizers `tokenizer/encoding.rs` (`Encoding`), without the overflow
// and word bookkeeping this server does not use.

/// Token ids and their companions for one text (or text pair), ready to become model inputs.
public struct Encoding: Sendable, Equatable {
    public var ids: [Int]
    public var tokens: [String]
    /// Segment of each token: 0 for the first text (and its specials), 1 for the second of a pair.
    public var typeIds: [Int]
    /// 1 for real tokens (specials included), 0 for padding.
    public var attentionMask: [Int]
    /// 1 for tokens added by the post-processor or padding, 0 for tokens from the text.
    public var specialTokensMask: [Int]
    /// The span of each token in its original text, in Unicode scalars (Python `str` indices); empty `0..<0` for
    /// added specials and padding. For a pair, spans of second-text tokens index the second text.
    public var offsets: [Range<Int>]

    public init(ids: [Int] = [], tokens: [String] = [], typeIds: [Int] = [], attentionMask: [Int] = [],
                specialTokensMask: [Int] = [], offsets: [Range<Int>] = []) {
        self.ids = ids
        self.tokens = tokens
        self.typeIds = typeIds
        self.attentionMask = attentionMask
        self.specialTokensMask = specialTokensMask
        self.offsets = offsets
    }

    /// An encoding of model tokens from one text, all of segment `typeId`.
    init(modelTokens: [Token], typeId: Int) {
        self.init(ids: modelTokens.map(\.id), tokens: modelTokens.map(\.value),
                  typeIds: Array(repeating: typeId, count: modelTokens.count),
                  attentionMask: Array(repeating: 1, count: modelTokens.count),
                  specialTokensMask: Array(repeating: 0, count: modelTokens.count),
                  offsets: modelTokens.map(\.offsets))
    }

    public var count: Int { ids.count }

    mutating func append(_ other: Encoding) {
        ids += other.ids
        tokens += other.tokens
        typeIds += other.typeIds
        attentionMask += other.attentionMask
        specialTokensMask += other.specialTokensMask
        offsets += other.offsets
    }

    /// Keeps at most `maxLength` tokens, from the start (`.right` removes the end) or the end (`.left`).
    mutating func truncate(to maxLength: Int, direction: TruncationParameters.Direction) {
        guard count > maxLength, maxLength >= 0 else { return }
        let keep = direction == .right ? 0..<maxLength : (count - maxLength)..<count
        ids = Array(ids[keep])
        tokens = Array(tokens[keep])
        typeIds = Array(typeIds[keep])
        attentionMask = Array(attentionMask[keep])
        specialTokensMask = Array(specialTokensMask[keep])
        offsets = Array(offsets[keep])
    }

    /// Pads up to `length` tokens (never shortens).
    mutating func pad(to length: Int, with padding: PaddingParameters) {
        let missing = length - count
        guard missing > 0 else { return }
        func padded<T>(_ values: [T], _ value: T) -> [T] {
            let filler = Array(repeating: value, count: missing)
            return padding.direction == .right ? values + filler : filler + values
        }
        ids = padded(ids, padding.padId)
        tokens = padded(tokens, padding.padToken)
        typeIds = padded(typeIds, padding.padTypeId)
        attentionMask = padded(attentionMask, 0)
        specialTokensMask = padded(specialTokensMask, 1)
        offsets = padded(offsets, 0..<0)
    }
}
