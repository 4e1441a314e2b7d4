// Loading GPT-2 style byte-level BPE checkpoints (OPT, blip2-opt-*) as transformers 5 does
// (models/gpt2/tokenization_gpt2.py and tokenization_utils_tokenizers.py): the vocabulary and merges come from
// tokenizer.json or from vocab.json + merges.txt, but the normalizer (none), pre-tokenizer (ByteLevel with the
// config's add_prefix_space), model options (no unknown token, no prefix/suffix) and decoder (ByteLevel) are
// rebuilt from the class. Only the post-processor, truncation and padding of a tokenizer.json are kept; without
// one, add_bos_token / add_eos_token of tokenizer_config.json build the template (OPT: `</s> A`).
import Foundation

extension Tokenizer.FileName {
    public static let vocabularyJSON = "vocab.json"
    public static let merges = "merges.txt"
}

extension Tokenizer {
    /// transformers classes whose backend is GPT-2's byte-level BPE, as `tokenizer_class` names them.
    static let gpt2TokenizerClasses: Set<String> = ["GPT2Tokenizer", "GPT2TokenizerFast"]
    /// GPT2Tokenizer's unknown, begin and end token when the config names none.
    static let gpt2DefaultSpecialToken = "<|endoftext|>"
    /// transformers' order of the named special tokens (SPECIAL_TOKENS_ATTRIBUTES), which fixes the ids of those
    /// missing from the vocabulary.
    static let transformersSpecialTokenOrder = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                                                "cls_token", "mask_token"]

    /// The GPT-2 tokenizer of a checkpoint directory, or nil when it is not one: `tokenizer_class` is GPT2Tokenizer,
    /// or there is no tokenizer.json but a vocab.json and merges.txt.
    static func gpt2(directory: URL, config: Data?) throws(TokenizerError) -> Tokenizer? {
        func file(_ name: String) -> URL { directory.appendingPathComponent(name) }
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }
        let tokenizerClass = try config.flatMap { data throws(TokenizerError) in
            try JSONValue.parse(data, file: FileName.tokenizerConfig).objectValue?["tokenizer_class"]?.stringValue
        }
        let byClass = tokenizerClass.map { gpt2TokenizerClasses.contains($0) } ?? false
        let byFiles = !exists(FileName.tokenizerJSON) && exists(FileName.vocabularyJSON) && exists(FileName.merges)
        guard byClass || byFiles else { return nil }
        if exists(FileName.tokenizerJSON) {
            return try gpt2(tokenizerJSON: try read(file(FileName.tokenizerJSON)), config: config,
                            specialTokensMap: try readOptional(file(FileName.specialTokensMap)),
                            addedTokens: try readOptional(file(FileName.addedTokens)))
        }
        guard exists(FileName.vocabularyJSON), exists(FileName.merges) else {
            throw .missingVocabulary("\(directory.path) has neither \(FileName.tokenizerJSON) nor "
                                     + "\(FileName.vocabularyJSON) + \(FileName.merges)")
        }
        return try gpt2(vocabulary: try read(file(FileName.vocabularyJSON)), merges: try read(file(FileName.merges)),
                        config: config, specialTokensMap: try readOptional(file(FileName.specialTokensMap)),
                        addedTokens: try readOptional(file(FileName.addedTokens)))
    }

    /// GPT2Tokenizer from `vocab.json` + `merges.txt` and the transformers files beside them: the template adds
    /// the BOS (and EOS) token when `add_bos_token` (`add_eos_token`) is set, as OPT's config does.
    public static func gpt2(vocabulary: Data, merges: Data, config: Data? = nil, specialTokensMap: Data? = nil,
                            addedTokens: Data? = nil) throws(TokenizerError) -> Tokenizer {
        let entries = try BPEModel.readVocabulary(vocabulary, file: FileName.vocabularyJSON)
        let model = try BPEModel(vocabulary: entries, merges: try BPEModel.readMerges(merges, file: FileName.merges))
        return try gpt2(model: model, fileTokens: [], fileStages: nil, config: config,
                        specialTokensMap: specialTokensMap, addedTokens: addedTokens)
    }

    /// GPT2Tokenizer from a `tokenizer.json` as transformers 5 reads it: vocabulary, merges, added tokens,
    /// post-processor, truncation and padding from the file; the rest from the class and the config (whose
    /// add_bos_token / add_eos_token transformers drops when a tokenizer.json is present).
    public static func gpt2(tokenizerJSON: Data, config: Data? = nil, specialTokensMap: Data? = nil,
                            addedTokens: Data? = nil) throws(TokenizerError) -> Tokenizer {
        let file = FileName.tokenizerJSON
        guard let root = try JSONValue.parse(tokenizerJSON, file: file).objectValue else {
            throw .malformedFile(file: file, reason: "the top level is not a JSON object")
        }
        let top = StageConfig(stage: "tokenizer", fields: root)
        guard top.has("model"), let modelValue = root["model"] else { throw .missingVocabulary("\(file) has no model") }
        let modelConfig = try StageConfig(stage: "model", value: modelValue)
        let model = try BPEModel(vocabulary: try readModelVocabulary(modelConfig),
                                 merges: try readBPEMerges(modelConfig))
        var fileTokens: [AddedToken] = []
        if top.has("added_tokens") {
            for (index, element) in try top.array("added_tokens").enumerated() {
                let entry = try top.child("added_tokens[\(index)]", element)
                fileTokens.append(try AddedToken(entry, id: try entry.int("id")))
            }
        }
        return try gpt2(model: model, fileTokens: fileTokens, fileStages: top, config: config,
                        specialTokensMap: specialTokensMap, addedTokens: addedTokens)
    }

    /// The GPT-2 settings of `tokenizer_config.json` that TokenizerConfig does not read.
    struct GPT2Settings {
        var addPrefixSpace = false
        var addBosToken = false
        var addEosToken = false
        /// transformers 5 ignores `clean_up_tokenization_spaces` for BPE models unless this is set.
        var cleanUpForBPE = false

        init(_ data: Data?) throws(TokenizerError) {
            guard let data else { return }
            let file = Tokenizer.FileName.tokenizerConfig
            guard let object = try JSONValue.parse(data, file: file).objectValue else {
                throw .malformedFile(file: file, reason: "the top level is not a JSON object")
            }
            let config = StageConfig(stage: file, fields: object)
            addPrefixSpace = try config.bool("add_prefix_space", default: false)
            addBosToken = try config.bool("add_bos_token", default: false)
            addEosToken = try config.bool("add_eos_token", default: false)
            cleanUpForBPE = try config.bool("clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output",
                                            default: false)
        }
    }

    private static func gpt2(model: BPEModel, fileTokens: [AddedToken], fileStages: StageConfig?, config: Data?,
                             specialTokensMap: Data?, addedTokens addedTokensData: Data?)
        throws(TokenizerError) -> Tokenizer {
        var settings = try TokenizerConfig(config)
        try settings.mergeSpecialTokensMap(specialTokensMap)
        for key in ["unk_token", "bos_token", "eos_token"] where settings.specialTokenNames[key] == nil {
            settings.specialTokenNames[key] = gpt2DefaultSpecialToken
        }
        let gpt2Settings = try GPT2Settings(config)

        // Added tokens as transformers' from_pretrained gathers them: the config's added_tokens_decoder when it has
        // one (then nothing else); otherwise added_tokens.json and the tokenizer.json's added_tokens (which win
        // for an id in both). Then every named special token missing so far (its vocabulary id, or the next
        // free id).
        var added: [AddedToken] = settings.addedTokensDecoder.sorted(by: { $0.key < $1.key }).map(\.value)
        func has(_ content: String) -> Bool { added.contains { $0.content.utf8.elementsEqual(content.utf8) } }
        let legacy = added.isEmpty
        var nextId = max(model.vocabularySize - 1, added.map(\.id).max() ?? -1) + 1
        let specialContents = Set(settings.specialTokenNames.values).union(settings.additionalSpecialTokens)
        if legacy, let addedTokensData {
            guard let object = try JSONValue.parse(addedTokensData, file: FileName.addedTokens).objectValue else {
                throw .malformedFile(file: FileName.addedTokens, reason: "expected an object of token: id")
            }
            for (content, value) in object.pairs.sorted(by: { ($0.value.intValue ?? 0) < ($1.value.intValue ?? 0) }) {
                guard let id = value.intValue, id >= 0 else {
                    throw .malformedFile(file: FileName.addedTokens,
                                         reason: "id of \"\(content)\" is not an integer >= 0")
                }
                guard !has(content) else { continue }
                let special = specialContents.contains(content)
                added.append(AddedToken(id: id, content: content, normalized: !special, special: special))
                nextId = max(nextId, id + 1)
            }
        }
        if legacy {
            for token in fileTokens {
                added.removeAll { $0.id == token.id }
                added.append(token)
                nextId = max(nextId, token.id + 1)
            }
        }
        let orderedSpecials = transformersSpecialTokenOrder.compactMap { settings.specialTokenNames[$0] }
            + settings.additionalSpecialTokens
        for content in orderedSpecials where !has(content) {
            let id = model.tokenToId(content) ?? nextId
            if id == nextId { nextId += 1 }
            added.append(AddedToken(id: id, content: content, normalized: false, special: true))
        }

        func stage(_ key: String) throws(TokenizerError) -> StageConfig? {
            guard let fileStages, fileStages.has(key), let value = fileStages.fields[key] else { return nil }
            return try StageConfig(stage: key, value: value)
        }
        let postProcessor: any PostProcessor
        if let fromFile = try stage("post_processor") {
            postProcessor = try makePostProcessor(fromFile)
        } else {
            // transformers' update_post_processor: `[bos] $A [eos]` / `[bos] $A [eos] [bos] $B [eos]`; with a
            // tokenizer.json, add_bos_token / add_eos_token were dropped and the template is bare.
            let withFile = fileStages != nil
            func special(_ key: String) throws(TokenizerError) -> TemplateProcessing.SpecialToken {
                let content = settings.specialTokenNames[key] ?? gpt2DefaultSpecialToken
                guard let id = added.first(where: { $0.content.utf8.elementsEqual(content.utf8) })?.id
                    ?? model.tokenToId(content) else {
                    throw .unknownToken(stage: "\(FileName.tokenizerConfig) \(key)", token: content)
                }
                return .init(ids: [id], tokens: [content])
            }
            let bos = gpt2Settings.addBosToken && !withFile ? try special("bos_token") : nil
            let eos = gpt2Settings.addEosToken && !withFile ? try special("eos_token") : nil
            func sequence(second: Bool) -> [TemplateProcessing.Piece] {
                let typeId = second ? 1 : 0
                return (bos.map { [.special($0, typeId: typeId)] } ?? []) + [.sequence(second: second, typeId: typeId)]
                    + (eos.map { [.special($0, typeId: typeId)] } ?? [])
            }
            postProcessor = TemplateProcessing(single: sequence(second: false),
                                               pair: sequence(second: false) + sequence(second: true))
        }
        return Tokenizer(
            normalizer: nil,
            preTokenizer: ByteLevelPreTokenizer(addPrefixSpace: gpt2Settings.addPrefixSpace),
            model: model, postProcessor: postProcessor, decoder: ByteLevelDecoder(), addedTokens: added,
            truncation: try stage("truncation").map { config throws(TokenizerError) in
                try TruncationParameters(config)
            },
            padding: try stage("padding").map { config throws(TokenizerError) in try PaddingParameters(config) },
            cleanUpTokenizationSpaces: gpt2Settings.cleanUpForBPE && settings.cleanUpTokenizationSpaces,
            modelMaxLength: settings.modelMaxLength, specialTokenNames: settings.specialTokenNames)
    }
}
