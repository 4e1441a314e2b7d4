// WordPiece as in huggingface/tokenizers `models/wordpiece/mod.rs` and BERT's `WordpieceTokenizer`: greedy
// longest-match-first over the characters of a word, continuation pieces looked up with a "##" prefix, and the
// whole word as the unknown token when any part has no match.

/// The WordPiece vocabulary model used by BERT.
public struct WordPieceModel: TokenizerModel {
    /// BERT's unknown token.
    public static let defaultUnknownToken = "[UNK]"
    /// BERT's marker for a piece that continues a word.
    public static let defaultContinuingSubwordPrefix = "##"
    /// Longer words become one unknown token without being matched: BERT's bound on the quadratic worst case of
    /// greedy matching (and on what a real word can be).
    public static let defaultMaxInputCharsPerWord = 100

    public let unknownToken: String
    public let unknownTokenId: Int
    public let continuingSubwordPrefix: String
    public let maxInputCharsPerWord: Int
    /// Ids by the UTF-8 bytes of the token. Swift `String` equality is canonical equivalence ("é" == "e\u{301}"),
    /// which would merge distinct entries and match text the Rust library (which compares bytes) does not.
    private let ids: [[UInt8]: Int]
    private let tokensById: [Int: String]
    /// The longest vocabulary entry in scalars: no candidate longer than this can match, so the search for the
    /// longest match starts there instead of at the end of the word.
    private let maxTokenScalars: Int

    /// Builds the model from (token, id) entries; a token listed twice keeps its last id. Fails when the
    /// vocabulary is empty or lacks the unknown token (every unmatched word needs it).
    public init(entries: [(token: String, id: Int)], unknownToken: String = defaultUnknownToken,
                continuingSubwordPrefix: String = defaultContinuingSubwordPrefix,
                maxInputCharsPerWord: Int = defaultMaxInputCharsPerWord) throws(TokenizerError) {
        guard !entries.isEmpty else { throw .missingVocabulary("the WordPiece vocabulary is empty") }
        var ids: [[UInt8]: Int] = [:]
        ids.reserveCapacity(entries.count)
        var longest = 0
        for entry in entries {
            ids[Array(entry.token.utf8)] = entry.id
            longest = max(longest, entry.token.unicodeScalars.count)
        }
        guard let unknownId = ids[Array(unknownToken.utf8)] else {
            throw .unknownToken(stage: "model (WordPiece unk_token)", token: unknownToken)
        }
        var tokensById: [Int: String] = [:]
        tokensById.reserveCapacity(ids.count)
        for (bytes, id) in ids { tokensById[id] = String(decoding: bytes, as: UTF8.self) }
        self.ids = ids
        self.tokensById = tokensById
        self.unknownToken = unknownToken
        self.unknownTokenId = unknownId
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        maxTokenScalars = longest
    }

    /// Reads a BERT `vocab.txt`: one token a line, the line number is the id. As the `tokenizers` library
    /// (`WordPiece::read_file`): trailing whitespace (and a CR of CRLF) is trimmed.
    public static func readVocabulary(_ text: String) -> [(token: String, id: Int)] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }  // the newline ending the last line starts no new line
        return lines.enumerated().map { index, line in
            var scalars = Substring.UnicodeScalarView(line.unicodeScalars)
            while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
            return (token: String(scalars), id: index)
        }
    }

    public var vocabularySize: Int { ids.count }
    public func tokenToId(_ token: String) -> Int? { ids[Array(token.utf8)] }
    public func idToToken(_ id: Int) -> String? { tokensById[id] }

    public func tokenize(_ piece: NormalizedText) -> [Token] {
        let chars = piece.scalars
        guard !chars.isEmpty else { return [] }
        let wholeWord = [Token(id: unknownTokenId, value: unknownToken, offsets: piece.originalRange)]
        if chars.count > maxInputCharsPerWord { return wholeWord }
        // The word's UTF-8 bytes and where each scalar starts in them: candidates are byte slices, so no String
        // is built for a candidate that does not match.
        var bytes: [UInt8] = []
        var byteOffsets: [Int] = [0]
        for scalar in chars {
            bytes.append(contentsOf: UTF8.encode(scalar).map { Array($0) } ?? [])
            byteOffsets.append(bytes.count)
        }
        let prefix = Array(continuingSubwordPrefix.utf8)
        var tokens: [Token] = []
        var candidate: [UInt8] = []  // reused: one allocation per word, not per candidate
        candidate.reserveCapacity(prefix.count + bytes.count)
        var start = 0
        while start < chars.count {
            var end = min(chars.count, start + maxTokenScalars)
            var match: Token?
            while start < end {
                candidate.removeAll(keepingCapacity: true)
                if start > 0 { candidate.append(contentsOf: prefix) }
                candidate.append(contentsOf: bytes[byteOffsets[start]..<byteOffsets[end]])
                if let id = ids[candidate] {
                    let value = String(decoding: candidate, as: UTF8.self)
                    match = Token(id: id, value: value, offsets: piece.originalRange(start..<end))
                    break
                }
                end -= 1
            }
            guard let found = match else { return wholeWord }
            tokens.append(found)
            start = end
        }
        return tokens
    }
}
