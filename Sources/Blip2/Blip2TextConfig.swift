// The `text_config` of a BLIP-2 checkpoint: upstream builds it with `AutoConfig` from its `model_type`.

/// The language model behind the Q-Former, chosen by `text_config.model_type`.
public enum Blip2TextConfig: Codable, Equatable, Sendable {
    /// A decoder-only OPT (blip2-opt-*).
    case opt(OPTConfig)
    /// An encoder-decoder T5 / Flan-T5 (blip2-flan-t5-*).
    case t5(T5Config)

    /// The `model_type` values this port implements.
    public static let supportedModelTypes = [OPTConfig.modelType, T5Config.modelType]

    /// The `model_type` string of the variant.
    public var modelType: String {
        switch self {
        case .opt: return OPTConfig.modelType
        case .t5: return T5Config.modelType
        }
    }

    /// Whether the language model is an encoder-decoder (upstream `is_encoder_decoder`).
    public var isEncoderDecoder: Bool {
        if case .t5 = self { return true }
        return false
    }

    /// Whether the language model is a causal LM (upstream `use_decoder_only_language_model`).
    public var isDecoderOnly: Bool { !isEncoderDecoder }

    /// Width of the language model's token embeddings: the output width of `language_projection`.
    public var hiddenSize: Int {
        switch self {
        case let .opt(config): return config.wordEmbedProjDim
        case let .t5(config): return config.dModel
        }
    }

    /// Rows of the token embedding table and columns of the logits.
    public var vocabSize: Int {
        switch self {
        case let .opt(config): return config.vocabSize
        case let .t5(config): return config.vocabSize
        }
    }

    /// Begin-of-sequence id: what HF feeds after the image placeholders when there is no prompt.
    public var bosTokenID: Int? {
        switch self {
        case let .opt(config): return config.bosTokenID
        case let .t5(config): return config.bosTokenID
        }
    }

    /// End-of-sequence id(s).
    public var eosTokenID: TokenIDs? {
        switch self {
        case let .opt(config): return config.eosTokenID
        case let .t5(config): return config.eosTokenID
        }
    }

    /// Padding id.
    public var padTokenID: Int? {
        switch self {
        case let .opt(config): return config.padTokenID
        case let .t5(config): return config.padTokenID
        }
    }

    /// Picks the variant from `model_type` and decodes it; an unsupported type names the field.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        let type: String = try c.required("model_type")
        switch type {
        case OPTConfig.modelType: self = .opt(try OPTConfig(from: decoder))
        case T5Config.modelType: self = .t5(try T5Config(from: decoder))
        default:
            throw Blip2ConfigError.unknownModelType(
                field: c.fieldPath("model_type"), value: type, expected: Self.supportedModelTypes)
        }
    }

    /// Writes the variant's fields, `model_type` included.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case let .opt(config): try config.encode(to: encoder)
        case let .t5(config): try config.encode(to: encoder)
        }
    }
}
