// Mirrors the parts of transformers `GenerationConfig` (generation/configuration_utils.py, 5.23.0) that
// decoding uses, read from a checkpoint's generation_config.json. Absent fields take the values of
// upstream `_get_default_generation_params()`, which `generate` fills in for unset fields.

import Foundation

/// Decoding settings: lengths, search, sampling and the special ids that start, pad and stop generation.
public struct GenerationConfig: Codable, Equatable, Sendable {
    /// What `early_stopping` may hold: beam search stops when `num_beams` hypotheses are done (`true`),
    /// by a heuristic (`false`), or only when no better candidate can exist (`"never"`).
    public enum EarlyStopping: Codable, Equatable, Sendable {
        case heuristic
        case whenBeamsDone
        case never

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self = flag ? .whenBeamsDone : .heuristic
            } else if let text = try? container.decode(String.self), text == "never" {
                self = .never
            } else {
                throw Blip2ConfigError.wrongType(
                    field: ConfigJSON.path(decoder.codingPath), expected: "boolean or \"never\"")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .heuristic: try container.encode(false)
            case .whenBeamsDone: try container.encode(true)
            case .never: try container.encode("never")
            }
        }
    }

    /// Cap on prompt + generated length (`max_length`, 20). Upstream turns the unset default into
    /// "20 new tokens"; `maxNewTokens` takes precedence when set.
    public let maxLength: Int
    /// Cap on generated tokens (`max_new_tokens`), when set.
    public let maxNewTokens: Int?
    /// Floor on prompt + generated length (`min_length`, 0).
    public let minLength: Int
    /// Floor on generated tokens (`min_new_tokens`), when set.
    public let minNewTokens: Int?
    /// Sample instead of taking the argmax (`do_sample`, false).
    public let doSample: Bool
    /// Beam width; 1 is greedy (`num_beams`).
    public let numBeams: Int
    /// Softmax temperature when sampling (`temperature`, 1.0).
    public let temperature: Double
    /// Keep only the k most likely tokens when sampling; 0 disables (`top_k`, 50).
    public let topK: Int
    /// Nucleus mass kept when sampling (`top_p`, 1.0).
    public let topP: Double
    /// Penalty on already generated tokens; 1.0 disables (`repetition_penalty`).
    public let repetitionPenalty: Double
    /// Beam score length exponent (`length_penalty`, 1.0).
    public let lengthPenalty: Double
    /// Forbid repeating n-grams of this size; 0 disables (`no_repeat_ngram_size`).
    public let noRepeatNgramSize: Int
    /// Beam-search stopping rule (`early_stopping`, false).
    public let earlyStopping: EarlyStopping
    /// Sequences returned per input (`num_return_sequences`, 1).
    public let numReturnSequences: Int
    /// Whether to keep a KV cache (`use_cache`, true).
    public let useCache: Bool
    /// Begin-of-sequence id (`bos_token_id`).
    public let bosTokenID: Int?
    /// Id(s) that end a sequence (`eos_token_id`).
    public let eosTokenID: TokenIDs?
    /// Id used to pad finished rows (`pad_token_id`).
    public let padTokenID: Int?
    /// First decoder id of an encoder-decoder (`decoder_start_token_id`).
    public let decoderStartTokenID: Int?

    /// Builds a validated value; the defaults are the upstream class defaults. Throws naming the first bad field.
    public init(
        maxLength: Int = 20, maxNewTokens: Int? = nil, minLength: Int = 0, minNewTokens: Int? = nil,
        doSample: Bool = false, numBeams: Int = 1, temperature: Double = 1.0, topK: Int = 50, topP: Double = 1.0,
        repetitionPenalty: Double = 1.0, lengthPenalty: Double = 1.0, noRepeatNgramSize: Int = 0,
        earlyStopping: EarlyStopping = .heuristic, numReturnSequences: Int = 1, useCache: Bool = true,
        bosTokenID: Int? = nil, eosTokenID: TokenIDs? = nil, padTokenID: Int? = nil,
        decoderStartTokenID: Int? = nil
    ) throws(Blip2ConfigError) {
        self.maxLength = maxLength
        self.maxNewTokens = maxNewTokens
        self.minLength = minLength
        self.minNewTokens = minNewTokens
        self.doSample = doSample
        self.numBeams = numBeams
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.lengthPenalty = lengthPenalty
        self.noRepeatNgramSize = noRepeatNgramSize
        self.earlyStopping = earlyStopping
        self.numReturnSequences = numReturnSequences
        self.useCache = useCache
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.padTokenID = padTokenID
        self.decoderStartTokenID = decoderStartTokenID
        try validate()
    }

    /// The settings upstream's inner `generate` starts from when a checkpoint has no generation_config.json:
    /// the defaults, with the special ids taken from the language model's config.
    public static func defaults(for text: Blip2TextConfig) throws(Blip2ConfigError) -> GenerationConfig {
        var decoderStart: Int?
        if case let .t5(t5) = text { decoderStart = t5.decoderStartTokenID }
        return try GenerationConfig(
            bosTokenID: text.bosTokenID, eosTokenID: text.eosTokenID, padTokenID: text.padTokenID,
            decoderStartTokenID: decoderStart)
    }

    /// Reads `generation_config.json` from a file, or from a checkpoint directory that contains one.
    public static func load(from url: URL) throws(Blip2ConfigError) -> GenerationConfig {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let file = exists && isDirectory.boolValue ? url.appendingPathComponent("generation_config.json") : url
        return try ConfigJSON.load(GenerationConfig.self, from: file)
    }

    /// Decodes `generation_config.json` bytes.
    public static func decode(from data: Data) throws(Blip2ConfigError) -> GenerationConfig {
        try ConfigJSON.decode(GenerationConfig.self, from: data)
    }

    func validate() throws(Blip2ConfigError) {
        try ConfigCheck.positive(maxLength, "max_length")
        if let maxNewTokens { try ConfigCheck.positive(maxNewTokens, "max_new_tokens") }
        try ConfigCheck.nonNegative(minLength, "min_length")
        if let minNewTokens { try ConfigCheck.nonNegative(minNewTokens, "min_new_tokens") }
        try ConfigCheck.positive(numBeams, "num_beams")
        try ConfigCheck.positive(temperature, "temperature")
        try ConfigCheck.nonNegative(topK, "top_k")
        guard topP > 0, topP <= 1 else {
            throw .invalidValue(field: "top_p", reason: "must be in (0, 1], got \(topP)")
        }
        try ConfigCheck.positive(repetitionPenalty, "repetition_penalty")
        guard lengthPenalty.isFinite else {
            throw .invalidValue(field: "length_penalty", reason: "must be finite, got \(lengthPenalty)")
        }
        try ConfigCheck.nonNegative(noRepeatNgramSize, "no_repeat_ngram_size")
        try ConfigCheck.positive(numReturnSequences, "num_return_sequences")
        for (id, field) in [(bosTokenID, "bos_token_id"), (padTokenID, "pad_token_id"),
                            (decoderStartTokenID, "decoder_start_token_id")] {
            if let id { try ConfigCheck.nonNegative(id, field) }
        }
        if let eosTokenID {
            guard !eosTokenID.values.isEmpty else {
                throw .invalidValue(field: "eos_token_id", reason: "must not be an empty list")
            }
            for id in eosTokenID.values { try ConfigCheck.nonNegative(id, "eos_token_id") }
        }
    }

    /// Decodes the JSON object, filling absent fields with the upstream defaults, then validates it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        maxLength = try c.value("max_length", default: 20)
        maxNewTokens = try c.optionalValue("max_new_tokens")
        minLength = try c.value("min_length", default: 0)
        minNewTokens = try c.optionalValue("min_new_tokens")
        doSample = try c.value("do_sample", default: false)
        numBeams = try c.value("num_beams", default: 1)
        temperature = try c.value("temperature", default: 1.0)
        topK = try c.value("top_k", default: 50)
        topP = try c.value("top_p", default: 1.0)
        repetitionPenalty = try c.value("repetition_penalty", default: 1.0)
        lengthPenalty = try c.value("length_penalty", default: 1.0)
        noRepeatNgramSize = try c.value("no_repeat_ngram_size", default: 0)
        earlyStopping = try c.value("early_stopping", default: EarlyStopping.heuristic)
        numReturnSequences = try c.value("num_return_sequences", default: 1)
        useCache = try c.value("use_cache", default: true)
        bosTokenID = try c.optionalValue("bos_token_id")
        eosTokenID = try c.optionalValue("eos_token_id")
        padTokenID = try c.optionalValue("pad_token_id")
        decoderStartTokenID = try c.optionalValue("decoder_start_token_id")
        try validate()
    }

    /// Writes every field under its upstream JSON name; unset optional ids and lengths are left out.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.encode(maxLength, forKey: ConfigKey("max_length"))
        try c.encodeIfPresent(maxNewTokens, forKey: ConfigKey("max_new_tokens"))
        try c.encode(minLength, forKey: ConfigKey("min_length"))
        try c.encodeIfPresent(minNewTokens, forKey: ConfigKey("min_new_tokens"))
        try c.encode(doSample, forKey: ConfigKey("do_sample"))
        try c.encode(numBeams, forKey: ConfigKey("num_beams"))
        try c.encode(temperature, forKey: ConfigKey("temperature"))
        try c.encode(topK, forKey: ConfigKey("top_k"))
        try c.encode(topP, forKey: ConfigKey("top_p"))
        try c.encode(repetitionPenalty, forKey: ConfigKey("repetition_penalty"))
        try c.encode(lengthPenalty, forKey: ConfigKey("length_penalty"))
        try c.encode(noRepeatNgramSize, forKey: ConfigKey("no_repeat_ngram_size"))
        try c.encode(earlyStopping, forKey: ConfigKey("early_stopping"))
        try c.encode(numReturnSequences, forKey: ConfigKey("num_return_sequences"))
        try c.encode(useCache, forKey: ConfigKey("use_cache"))
        try c.encodeIfPresent(bosTokenID, forKey: ConfigKey("bos_token_id"))
        try c.encodeIfPresent(eosTokenID, forKey: ConfigKey("eos_token_id"))
        try c.encodeIfPresent(padTokenID, forKey: ConfigKey("pad_token_id"))
        try c.encodeIfPresent(decoderStartTokenID, forKey: ConfigKey("decoder_start_token_id"))
    }
}
