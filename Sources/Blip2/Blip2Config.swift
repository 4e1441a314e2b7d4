// Mirrors transformers `Blip2Config` (models/blip_2/configuration_blip_2.py, 5.23.0): the top level of a
// BLIP-2 checkpoint's config.json, with the derived fields upstream computes in `__post_init__`.

import Foundation

/// Which BLIP-2 head a checkpoint was saved from (`architectures[0]`), and so which weights it has.
public enum Blip2Architecture: String, Codable, Sendable, CaseIterable {
    /// Vision + Q-Former + `language_projection` + a language model: captioning and VQA.
    case conditionalGeneration = "Blip2ForConditionalGeneration"
    /// Vision + Q-Former with its text face + ITC projections + ITM head: embeddings and matching.
    case imageTextRetrieval = "Blip2ForImageTextRetrieval"
    /// The base model; same weights and key names as `conditionalGeneration`.
    case model = "Blip2Model"

    /// Whether the checkpoint carries `language_projection` and `language_model.*`.
    public var hasLanguageModel: Bool { self != .imageTextRetrieval }
    /// Whether the checkpoint carries the text embeddings, `vision_projection`, `text_projection`, `itm_head`.
    public var hasRetrievalHeads: Bool { self == .imageTextRetrieval }
}

/// A validated BLIP-2 `config.json`: the vision tower, the Q-Former, the language model (when the head
/// has one) and the top-level sizes. Fields absent from the file take the upstream class defaults, since
/// published configs are diff dicts that omit every default.
///
/// Decoding tolerates unknown keys. Beyond upstream, it requires `model_type` ("blip-2"), `architectures`
/// and, for heads with a language model, `text_config.model_type`: without them the port cannot know which
/// weights to expect, and every published BLIP-2 config has them.
public struct Blip2Config: Codable, Equatable, Sendable {
    /// The top-level `model_type` of every BLIP-2 checkpoint.
    public static let modelType = "blip-2"

    /// The head named by `architectures[0]`.
    public let architecture: Blip2Architecture
    /// The ViT (`vision_config`).
    public let visionConfig: Blip2VisionConfig
    /// The Q-Former (`qformer_config`), with `encoderHiddenSize` forced to the vision width.
    public let qformerConfig: Blip2QFormerConfig
    /// The language model (`text_config`); nil for the retrieval head, whose `text_config` upstream fills
    /// with an unused default OPT.
    public let textConfig: Blip2TextConfig?
    /// Learned query tokens Q fed to the Q-Former (`num_query_tokens`, 32).
    public let numQueryTokens: Int
    /// Width of the ITC projections (`image_text_hidden_size`, 256).
    public let imageTextHiddenSize: Int
    /// Id of the `<image>` placeholder the processor puts before the prompt (`image_token_index`, alias
    /// `image_token_id`): 50265 for OPT, 32100 for Flan-T5, absent for the retrieval checkpoint and for
    /// configs saved before transformers 4.47.
    public let imageTokenIndex: Int?

    /// Whether the language model is decoder-only (upstream `use_decoder_only_language_model`).
    public var useDecoderOnlyLanguageModel: Bool { textConfig?.isDecoderOnly ?? false }
    /// Whether the language model is an encoder-decoder (upstream `is_encoder_decoder`).
    public var isEncoderDecoder: Bool { textConfig?.isEncoderDecoder ?? false }

    /// Builds a validated value; the defaults are the upstream class defaults. Throws naming the first bad field.
    public init(
        architecture: Blip2Architecture, visionConfig: Blip2VisionConfig, qformerConfig: Blip2QFormerConfig,
        textConfig: Blip2TextConfig?, numQueryTokens: Int = 32, imageTextHiddenSize: Int = 256,
        imageTokenIndex: Int? = nil
    ) throws(Blip2ConfigError) {
        self.architecture = architecture
        self.visionConfig = visionConfig
        self.qformerConfig = qformerConfig.overridingEncoderHiddenSize(visionConfig.hiddenSize)
        self.textConfig = textConfig
        self.numQueryTokens = numQueryTokens
        self.imageTextHiddenSize = imageTextHiddenSize
        self.imageTokenIndex = imageTokenIndex
        try validate()
    }

    /// Reads `config.json` from a file, or from a checkpoint directory that contains one.
    public static func load(from url: URL) throws(Blip2ConfigError) -> Blip2Config {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let file = exists && isDirectory.boolValue ? url.appendingPathComponent("config.json") : url
        return try ConfigJSON.load(Blip2Config.self, from: file)
    }

    /// Decodes `config.json` bytes.
    public static func decode(from data: Data) throws(Blip2ConfigError) -> Blip2Config {
        try ConfigJSON.decode(Blip2Config.self, from: data)
    }

    func validate() throws(Blip2ConfigError) {
        try ConfigCheck.positive(numQueryTokens, "num_query_tokens")
        try ConfigCheck.positive(imageTextHiddenSize, "image_text_hidden_size")
        if architecture.hasRetrievalHeads, !qformerConfig.useQFormerTextInput {
            throw .invalidValue(
                field: "qformer_config.use_qformer_text_input",
                reason: "must be true for \(architecture.rawValue): its text face needs the text feed-forward")
        }
        if architecture.hasLanguageModel {
            guard let textConfig else { throw .missingField("text_config") }
            try ConfigCheck.tokenID(imageTokenIndex, vocabSize: textConfig.vocabSize, "image_token_index")
        } else if let imageTokenIndex {
            try ConfigCheck.nonNegative(imageTokenIndex, "image_token_index")
        }
    }

    /// Decodes the JSON object, filling absent fields with the upstream defaults, then validates it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        let type: String = try c.required("model_type")
        guard type == Self.modelType else {
            throw Blip2ConfigError.unknownModelType(field: "model_type", value: type, expected: [Self.modelType])
        }
        let architectures: [String] = try c.required("architectures")
        guard let name = architectures.first else {
            throw Blip2ConfigError.invalidValue(field: "architectures", reason: "must name at least one head")
        }
        guard let architecture = Blip2Architecture(rawValue: name) else {
            throw Blip2ConfigError.unknownArchitecture(name, expected: Blip2Architecture.allCases.map(\.rawValue))
        }
        self.architecture = architecture
        // An absent sub-config means all class defaults, as upstream's `vision_config=None` does.
        let vision = try c.optionalValue("vision_config") ?? Blip2VisionConfig()
        visionConfig = vision
        let qformer = try c.optionalValue("qformer_config") ?? Blip2QFormerConfig()
        qformerConfig = qformer.overridingEncoderHiddenSize(vision.hiddenSize)
        if architecture.hasLanguageModel {
            textConfig = try c.required("text_config") as Blip2TextConfig
        } else {
            textConfig = nil
        }
        numQueryTokens = try c.value("num_query_tokens", default: 32)
        imageTextHiddenSize = try c.value("image_text_hidden_size", default: 256)
        let index: Int? = try c.optionalValue("image_token_index")
        let alias: Int? = try c.optionalValue("image_token_id")
        if let index, let alias, index != alias {
            throw Blip2ConfigError.invalidValue(
                field: "image_token_id", reason: "\(alias) contradicts image_token_index \(index)")
        }
        imageTokenIndex = index ?? alias
        try validate()
    }

    /// Writes every field under its upstream JSON name (a full dict, not a diff dict).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.encode(Self.modelType, forKey: ConfigKey("model_type"))
        try c.encode([architecture.rawValue], forKey: ConfigKey("architectures"))
        try c.encode(visionConfig, forKey: ConfigKey("vision_config"))
        try c.encode(qformerConfig, forKey: ConfigKey("qformer_config"))
        try c.encodeIfPresent(textConfig, forKey: ConfigKey("text_config"))
        try c.encode(numQueryTokens, forKey: ConfigKey("num_query_tokens"))
        try c.encode(imageTextHiddenSize, forKey: ConfigKey("image_text_hidden_size"))
        try c.encode(imageTokenIndex, forKey: ConfigKey("image_token_index"))
        try c.encode(useDecoderOnlyLanguageModel, forKey: ConfigKey("use_decoder_only_language_model"))
    }
}
