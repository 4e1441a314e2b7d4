// Loading a Tokenizer: from tokenizer.json (the `tokenizers` serialization), or from a BERT `vocab.txt` with
// transformers' `tokenizer_config.json`, `special_tokens_map.json` and `added_tokens.json`, building the same
// stages transformers' BertTokenizer builds (models/bert/tokenization_bert.py).
import Foundation

extension Tokenizer {
    /// File names inside a checkpoint directory.
    public enum FileName {
        public static let tokenizerJSON = "tokenizer.json"
        public static let vocabularyText = "vocab.txt"
        public static let tokenizerConfig = "tokenizer_config.json"
        public static let specialTokensMap = "special_tokens_map.json"
        public static let addedTokens = "added_tokens.json"
    }

    /// transformers writes a huge `model_max_length` (1e30) to mean "no limit"; anything above this is read as
    /// no limit. No text model we serve has a context anywhere near 2^24 tokens.
    static let maxCredibleModelLength = 1 << 24

    /// Loads the tokenizer of a checkpoint directory: GPT-2 byte-level BPE as transformers builds it when the
    /// config names GPT2Tokenizer (or there are only vocab.json + merges.txt, see Tokenizer+GPT2.swift), else
    /// `tokenizer.json` when present, else `vocab.txt` (BERT). `tokenizer_config.json` and the other transformers
    /// files are read when present.
    public init(directory: URL) throws(TokenizerError) {
        let config = try Self.readOptional(directory.appendingPathComponent(FileName.tokenizerConfig))
        if let gpt2 = try Self.gpt2(directory: directory, config: config) {
            self = gpt2
            return
        }
        let tokenizerJSON = directory.appendingPathComponent(FileName.tokenizerJSON)
        if FileManager.default.fileExists(atPath: tokenizerJSON.path) {
            try self.init(tokenizerJSON: try Self.read(tokenizerJSON), config: config)
            return
        }
        let vocabulary = directory.appendingPathComponent(FileName.vocabularyText)
        guard FileManager.default.fileExists(atPath: vocabulary.path) else {
            throw .missingVocabulary(
                "\(directory.path) has neither \(FileName.tokenizerJSON) nor \(FileName.vocabularyText)")
        }
        self = try Self.bert(
            vocabulary: try Self.read(vocabulary), config: config,
            specialTokensMap: try Self.readOptional(directory.appendingPathComponent(FileName.specialTokensMap)),
            addedTokens: try Self.readOptional(directory.appendingPathComponent(FileName.addedTokens)))
    }

    /// Builds a tokenizer from the contents of a `tokenizer.json` (and optionally `tokenizer_config.json`, for
    /// the transformers-level settings: decode clean-up, model_max_length, named special tokens).
    public init(tokenizerJSON data: Data, config configData: Data? = nil) throws(TokenizerError) {
        let file = FileName.tokenizerJSON
        guard let root = try JSONValue.parse(data, file: file).objectValue else {
            throw .malformedFile(file: file, reason: "the top level is not a JSON object")
        }
        let top = StageConfig(stage: "tokenizer", fields: root)
        func stage(_ key: String) throws(TokenizerError) -> StageConfig? {
            guard top.has(key), let value = root[key] else { return nil }
            return try StageConfig(stage: key, value: value)
        }
        guard let modelConfig = try stage("model") else {
            throw .missingVocabulary("\(file) has no model")
        }
        let normalizer = try stage("normalizer").map { config throws(TokenizerError) in try makeNormalizer(config) }
        var added: [AddedToken] = []
        if top.has("added_tokens") {
            for (index, element) in try top.array("added_tokens").enumerated() {
                let entry = try top.child("added_tokens[\(index)]", element)
                added.append(try AddedToken(entry, id: try entry.int("id")))
            }
        }
        let settings = try TokenizerConfig(configData)
        let model = try makeModel(modelConfig)
        // transformers 5.23 (`TokenizersBackend._decode`) skips clean_up_tokenization_spaces for BPE models, where
        // it would remove real spaces, unless the config insists.
        let cleanUpForBPE = try GPT2Settings(configData).cleanUpForBPE
        let cleanUp = settings.cleanUpTokenizationSpaces && (!(model is BPEModel) || cleanUpForBPE)
        self.init(
            normalizer: normalizer,
            preTokenizer: try stage("pre_tokenizer").map { config throws(TokenizerError) in
                try makePreTokenizer(config)
            },
            model: model,
            postProcessor: try stage("post_processor").map { config throws(TokenizerError) in
                try makePostProcessor(config)
            },
            decoder: try stage("decoder").map { config throws(TokenizerError) in try makeTokenDecoder(config) },
            addedTokens: added,
            truncation: try stage("truncation").map { config throws(TokenizerError) in
                try TruncationParameters(config)
            },
            padding: try stage("padding").map { config throws(TokenizerError) in try PaddingParameters(config) },
            cleanUpTokenizationSpaces: cleanUp,
            modelMaxLength: settings.modelMaxLength,
            specialTokenNames: settings.specialTokenNames)
    }

    /// BertTokenizer's special tokens when the config does not name them.
    static let bertSpecialTokenDefaults: KeyValuePairs<String, String> = [
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
    ]

    /// Builds BERT's WordPiece tokenizer from a `vocab.txt` and the transformers files beside it, as
    /// transformers' `BertTokenizer` does: BertNormalizer(do_lower_case, strip_accents, tokenize_chinese_chars),
    /// BertPreTokenizer, WordPiece, `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`, WordPiece decoder.
    public static func bert(vocabulary vocabularyData: Data, config: Data? = nil, specialTokensMap: Data? = nil,
                            addedTokens addedTokensData: Data? = nil) throws(TokenizerError) -> Tokenizer {
        guard let text = String(data: vocabularyData, encoding: .utf8) else {
            throw .malformedFile(file: FileName.vocabularyText, reason: "not UTF-8")
        }
        let vocabulary = WordPieceModel.readVocabulary(text)
        var settings = try TokenizerConfig(config)
        try settings.mergeSpecialTokensMap(specialTokensMap)
        for (key, token) in bertSpecialTokenDefaults where settings.specialTokenNames[key] == nil {
            settings.specialTokenNames[key] = token
        }
        let unknown = settings.specialTokenNames["unk_token"] ?? WordPieceModel.defaultUnknownToken
        let model = try WordPieceModel(entries: vocabulary, unknownToken: unknown)
        let normalizer = BertNormalizer(cleanText: true, handleChineseChars: settings.tokenizeChineseChars,
                                        stripAccents: settings.stripAccents, lowercase: settings.doLowerCase)

        // Added tokens: those the config lists by id, then added_tokens.json, then every named special token
        // (taking its vocabulary id, or the next free id when the vocabulary lacks it, as transformers does).
        var added = settings.addedTokensDecoder.sorted { $0.key < $1.key }.map(\.value)
        var nextId = max(vocabulary.count - 1, added.map(\.id).max() ?? -1) + 1
        let specialContents = Set(settings.specialTokenNames.values).union(settings.additionalSpecialTokens)
        if let addedTokensData {
            guard let object = try JSONValue.parse(addedTokensData, file: FileName.addedTokens).objectValue else {
                throw .malformedFile(file: FileName.addedTokens, reason: "expected an object of token: id")
            }
            let byId = object.pairs.sorted { ($0.value.intValue ?? 0) < ($1.value.intValue ?? 0) }
            for (content, value) in byId {
                guard let id = value.intValue, id >= 0 else {
                    throw .malformedFile(file: FileName.addedTokens,
                                         reason: "id of \"\(content)\" is not an integer >= 0")
                }
                guard !added.contains(where: { $0.content.utf8.elementsEqual(content.utf8) }) else { continue }
                let special = specialContents.contains(content)
                added.append(AddedToken(id: id, content: content, normalized: !special, special: special))
                nextId = max(nextId, id + 1)
            }
        }
        // In the order transformers registers them (BertTokenizer's arguments), which fixes the new ids.
        let orderedSpecials = TokenizerConfig.specialTokenKeys.compactMap { settings.specialTokenNames[$0] }
            + settings.additionalSpecialTokens
        for content in orderedSpecials where !added.contains(where: { $0.content.utf8.elementsEqual(content.utf8) }) {
            let id = model.tokenToId(content) ?? nextId
            if id == nextId { nextId += 1 }
            added.append(AddedToken(id: id, content: content, normalized: false, special: true))
        }

        func specialToken(_ name: String, default fallback: String) throws(TokenizerError)
            -> TemplateProcessing.SpecialToken {
            let content = settings.specialTokenNames[name] ?? fallback
            guard let id = added.first(where: { $0.content.utf8.elementsEqual(content.utf8) })?.id
                ?? model.tokenToId(content) else {
                throw .unknownToken(stage: "\(FileName.tokenizerConfig) \(name)", token: content)
            }
            return .init(ids: [id], tokens: [content])
        }
        let processor = TemplateProcessing.bert(cls: try specialToken("cls_token", default: "[CLS]"),
                                                sep: try specialToken("sep_token", default: "[SEP]"))
        return Tokenizer(normalizer: normalizer, preTokenizer: BertPreTokenizer(), model: model,
                         postProcessor: processor, decoder: WordPieceDecoder(prefix: "##", cleanup: true),
                         addedTokens: added, cleanUpTokenizationSpaces: settings.cleanUpTokenizationSpaces,
                         modelMaxLength: settings.modelMaxLength, specialTokenNames: settings.specialTokenNames)
    }

    static func read(_ url: URL) throws(TokenizerError) -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw .unreadableFile(path: url.path, reason: "\(error.localizedDescription)")
        }
    }

    static func readOptional(_ url: URL) throws(TokenizerError) -> Data? {
        FileManager.default.fileExists(atPath: url.path) ? try read(url) : nil
    }
}

/// The fields of transformers' `tokenizer_config.json` (and `special_tokens_map.json`) this module uses.
struct TokenizerConfig {
    /// The special-token roles transformers knows by name.
    static let specialTokenKeys = ["unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "bos_token",
                                   "eos_token"]

    var doLowerCase = true
    var stripAccents: Bool?
    var tokenizeChineseChars = true
    var cleanUpTokenizationSpaces = false
    var modelMaxLength: Int?
    var specialTokenNames: [String: String] = [:]
    var additionalSpecialTokens: [String] = []
    var addedTokensDecoder: [Int: AddedToken] = [:]

    init(_ data: Data?) throws(TokenizerError) {
        guard let data else { return }
        let file = Tokenizer.FileName.tokenizerConfig
        guard let object = try JSONValue.parse(data, file: file).objectValue else {
            throw .malformedFile(file: file, reason: "the top level is not a JSON object")
        }
        let config = StageConfig(stage: file, fields: object)
        doLowerCase = try config.bool("do_lower_case", default: true)
        stripAccents = try config.optionalBool("strip_accents")
        tokenizeChineseChars = try config.bool("tokenize_chinese_chars", default: true)
        cleanUpTokenizationSpaces = try config.bool("clean_up_tokenization_spaces", default: false)
        if let length = config.fields["model_max_length"]?.doubleValue, length >= 1,
           length <= Double(Tokenizer.maxCredibleModelLength) {
            modelMaxLength = Int(length)
        }
        try readSpecialTokens(config)
        if config.has("added_tokens_decoder") {
            for (key, value) in try config.object("added_tokens_decoder").pairs {
                guard let id = Int(key), id >= 0 else {
                    throw .invalidField(stage: file, field: "added_tokens_decoder",
                                        reason: "key \"\(key)\" is not an id")
                }
                addedTokensDecoder[id] = try AddedToken(try config.child("added_tokens_decoder[\(key)]", value), id: id)
            }
        }
    }

    /// Adds the roles of `special_tokens_map.json` that the config does not name itself.
    mutating func mergeSpecialTokensMap(_ data: Data?) throws(TokenizerError) {
        guard let data else { return }
        let file = Tokenizer.FileName.specialTokensMap
        guard let object = try JSONValue.parse(data, file: file).objectValue else {
            throw .malformedFile(file: file, reason: "the top level is not a JSON object")
        }
        var fromMap = self
        fromMap.specialTokenNames = [:]
        fromMap.additionalSpecialTokens = []
        try fromMap.readSpecialTokens(StageConfig(stage: file, fields: object))
        specialTokenNames.merge(fromMap.specialTokenNames) { fromConfig, _ in fromConfig }
        for token in fromMap.additionalSpecialTokens where !additionalSpecialTokens.contains(token) {
            additionalSpecialTokens.append(token)
        }
    }

    /// A special token is a string or, in older files, an object with `content`.
    private static func tokenContent(_ value: JSONValue) -> String? {
        value.stringValue ?? value.objectValue?["content"]?.stringValue
    }

    private mutating func readSpecialTokens(_ config: StageConfig) throws(TokenizerError) {
        for key in Self.specialTokenKeys where config.has(key) {
            guard let value = config.fields[key], let content = Self.tokenContent(value) else {
                throw config.wrong(key, "a token string or {\"content\": ...}")
            }
            specialTokenNames[key] = content
        }
        if config.has("additional_special_tokens") {
            for value in try config.array("additional_special_tokens") {
                guard let content = Self.tokenContent(value) else {
                    throw config.wrong("additional_special_tokens", "token strings")
                }
                additionalSpecialTokens.append(content)
            }
        }
    }
}
