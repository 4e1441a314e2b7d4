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

    public let vocabulary: [String: Int]
    public let unknownToken: String
    public let unknownTokenId: Int
    public let continuingSubwordPrefix: String
    public let maxInputCharsPerWord: Int
    private let reverseVocabulary: [Int: String]
    /// The longest vocabulary entry in scalars: no candidate longer than this can match, so the search for the
    /// longest match starts there instead of at the end of the word.
    private let maxTokenScalars: Int

    /// Fails when the vocabulary is empty or lacks the unknown token (every unmatched word needs it).
    public init(vocabulary: [String: Int], unknownToken: String = defaultUnknownToken,
                continuingSubwordPrefix: String = defaultContinuingSubwordPrefix,
                maxInputCharsPerWord: Int = defaultMaxInputCharsPerWord) throws(TokenizerError) {
        guard !vocabulary.isEmpty else { throw .missingVocabulary("the WordPiece vocabulary is empty") }
        guard let unknownId = vocabulary[unknownToken] else {
            throw .unknownToken(stage: "model (WordPiece unk_token)", token: unknownToken)
        }
        self.vocabulary = vocabulary
        self.unknownToken = unknownToken
        self.unknownTokenId = unknownId
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        var reverse: [Int: String] = [:]
        reverse.reserveCapacity(vocabulary.count)
        var longest = 0
        for (token, id) in vocabulary {
            reverse[id] = token
            longest = max(longest, token.unicodeScalars.count)
        }
        reverseVocabulary = reverse
        maxTokenScalars = longest
    }

    /// Reads a BERT `vocab.txt`: one token a line, the line number is the id. As the `tokenizers` library
    /// (`WordPiece::read_file`): trailing whitespace (and a CR of CRLF) is trimmed and a repeated token keeps its
    /// last line.
    public static func readVocabulary(_ text: String) -> [String: Int] {
        var vocabulary: [String: Int] = [:]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }  // the newline ending the last line starts no new line
        for (index, line) in lines.enumerated() {
            var scalars = Substring.UnicodeScalarView(line.unicodeScalars)
            while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
            vocabulary[String(scalars)] = index
        }
        return vocabulary
    }

    public var vocabularySize: Int { vocabulary.count }
    public func tokenToId(_ token: String) -> Int? { vocabulary[token] }
    public func idToToken(_ id: Int) -> String? { reverseVocabulary[id] }

    public func tokenize(_ piece: NormalizedText) -> [Token] {
        let chars = piece.scalars
        guard !chars.isEmpty else { return [] }
        let wholeWord = [Token(id: unknownTokenId, value: unknownToken, offsets: piece.originalRange)]
        if chars.count > maxInputCharsPerWord { return wholeWord }
        let prefix = continuingSubwordPrefix.unicodeScalars
        var tokens: [Token] = []
        var start = 0
        while start < chars.count {
            var end = min(chars.count, start + maxTokenScalars)
            var match: Token?
            while start < end {
                var candidate = String.UnicodeScalarView()
                if start > 0 { candidate.append(contentsOf: prefix) }
                candidate.append(contentsOf: chars[start..<end])
                let text = String(candidate)
                if let id = vocabulary[text] {
                    match = Token(id: id, value: text, offsets: piece.originalRange(start..<end))
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
