// The decoders that come with BPE models, after huggingface/tokenizers `decoders/` (byte_level.rs in
// pre_tokenizers, byte_fallback.rs, bpe.rs): turning byte-level characters back into bytes, `<0xXX>` tokens
// into bytes, and an end-of-word suffix into a space.

/// GPT-2's decoder: every character of every token is mapped back to its byte and the bytes are read as UTF-8,
/// invalid sequences becoming U+FFFD (Python's `errors="replace"`). A token with a character outside the byte
/// alphabet (an added token such as `é`) contributes its own UTF-8 bytes instead.
public struct ByteLevelDecoder: TokenDecoder {
    public init() {}

    public func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens {
            let start = bytes.count
            var inAlphabet = true
            for scalar in token.unicodeScalars {
                guard let byte = ByteLevelAlphabet.byteOfScalar[scalar] else {
                    inAlphabet = false
                    break
                }
                bytes.append(byte)
            }
            if !inAlphabet {
                bytes.removeSubrange(start...)
                bytes.append(contentsOf: token.utf8)
            }
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}

/// SentencePiece-style byte fallback: runs of `<0xXX>` tokens become the text their bytes spell, or one U+FFFD
/// per byte when the run is not valid UTF-8.
public struct ByteFallbackDecoder: TokenDecoder {
    public init() {}

    /// The byte of a `<0xXX>` token (either hex case, as the Rust library's radix parse).
    static func byte(of token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    public func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                out.append(text)
            } else {
                out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for token in tokens {
            if let byte = Self.byte(of: token) {
                pending.append(byte)
            } else {
                flush()
                out.append(token)
            }
        }
        flush()
        return out
    }
}

/// The original BPE decoder: the end-of-word suffix becomes a space, or nothing at the end of the last token.
public struct BPEDecoder: TokenDecoder {
    public var suffix: String
    public init(suffix: String = "</w>") { self.suffix = suffix }

    public func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var text = NormalizedText(token)
            ReplaceNormalizer(pattern: .string(suffix), content: index == tokens.count - 1 ? "" : " ")
                .normalize(&text)
            return text.string
        }
    }
}
