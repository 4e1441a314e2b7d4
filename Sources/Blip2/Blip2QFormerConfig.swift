// Mirrors transformers `Blip2QFormerConfig` (models/blip_2/configuration_blip_2.py, 5.23.0): the BERT-style
// querying transformer. Defaults are the upstream class defaults, which the published config.json omits.

/// Shape and numerics of the Q-Former (the `qformer_config` object of `config.json`).
///
/// Validated on every construction path. `encoderHiddenSize` is always the vision width once this value
/// is part of a `Blip2Config`, as upstream's `Blip2Config.__post_init__` forces it.
public struct Blip2QFormerConfig: Codable, Equatable, Sendable {
    /// The `model_type` upstream writes for this sub-config.
    public static let modelType = "blip_2_qformer"

    /// Rows of the text word-embedding table (`vocab_size`; 30523 in blip2-itm-vit-g, with `[DEC]`).
    public let vocabSize: Int
    /// Width of every Q-Former token (`hidden_size`, 768).
    public let hiddenSize: Int
    /// Number of layers (`num_hidden_layers`, 12).
    public let numHiddenLayers: Int
    /// Heads of both self- and cross-attention (`num_attention_heads`, 12).
    public let numAttentionHeads: Int
    /// Width of the feed-forward blocks, query and text alike (`intermediate_size`, 3072).
    public let intermediateSize: Int
    /// Feed-forward nonlinearity (`hidden_act`).
    public let hiddenAct: ActivationFunction
    /// Rows of the text position-embedding table (`max_position_embeddings`, 512): the longest text.
    public let maxPositionEmbeddings: Int
    /// Epsilon of every Q-Former LayerNorm, input norm included (`layer_norm_eps`, 1e-12).
    public let layerNormEps: Double
    /// Padding row of the word embeddings (`pad_token_id`, 0); irrelevant to inference numerics.
    public let padTokenID: Int?
    /// Layer i has cross-attention to the image when `i % crossAttentionFrequency == 0`.
    public let crossAttentionFrequency: Int
    /// Width of the image tokens the cross-attention keys and values read (`encoder_hidden_size`).
    public private(set) var encoderHiddenSize: Int
    /// Whether the layers carry the text feed-forward (`intermediate`/`output`) and the model has text
    /// embeddings (`use_qformer_text_input`; true only for the retrieval checkpoints).
    public let useQFormerTextInput: Bool

    /// Width of one attention head.
    public var headDim: Int { hiddenSize / numAttentionHeads }

    /// Whether layer `index` has a `crossattention` block (upstream `layer_idx % frequency == 0`).
    public func hasCrossAttention(layer index: Int) -> Bool {
        index % crossAttentionFrequency == 0
    }

    /// Builds a validated value; the defaults are the upstream class defaults. Throws naming the first bad field.
    public init(
        vocabSize: Int = 30522, hiddenSize: Int = 768, numHiddenLayers: Int = 12, numAttentionHeads: Int = 12,
        intermediateSize: Int = 3072, hiddenAct: ActivationFunction = .gelu, maxPositionEmbeddings: Int = 512,
        layerNormEps: Double = 1e-12, padTokenID: Int? = 0, crossAttentionFrequency: Int = 2,
        encoderHiddenSize: Int = 1408, useQFormerTextInput: Bool = false
    ) throws(Blip2ConfigError) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.layerNormEps = layerNormEps
        self.padTokenID = padTokenID
        self.crossAttentionFrequency = crossAttentionFrequency
        self.encoderHiddenSize = encoderHiddenSize
        self.useQFormerTextInput = useQFormerTextInput
        try validate(at: "")
    }

    /// A copy whose cross-attention reads image tokens of width `width` (what `Blip2Config` does).
    func overridingEncoderHiddenSize(_ width: Int) -> Blip2QFormerConfig {
        var copy = self
        copy.encoderHiddenSize = width
        return copy
    }

    func validate(at prefix: String) throws(Blip2ConfigError) {
        try ConfigCheck.positive(vocabSize, prefix + "vocab_size")
        try ConfigCheck.divides(
            heads: numAttentionHeads, width: hiddenSize,
            headsField: prefix + "num_attention_heads", widthField: prefix + "hidden_size")
        try ConfigCheck.positive(numHiddenLayers, prefix + "num_hidden_layers")
        try ConfigCheck.positive(intermediateSize, prefix + "intermediate_size")
        try ConfigCheck.positive(maxPositionEmbeddings, prefix + "max_position_embeddings")
        try ConfigCheck.positive(layerNormEps, prefix + "layer_norm_eps")
        try ConfigCheck.positive(crossAttentionFrequency, prefix + "cross_attention_frequency")
        try ConfigCheck.positive(encoderHiddenSize, prefix + "encoder_hidden_size")
        try ConfigCheck.tokenID(padTokenID, vocabSize: vocabSize, prefix + "pad_token_id")
    }

    /// Decodes the JSON object, filling absent fields with the upstream defaults, then validates it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        if let type: String = try c.optionalValue("model_type"), type != Self.modelType {
            throw Blip2ConfigError.unknownModelType(
                field: c.fieldPath("model_type"), value: type, expected: [Self.modelType])
        }
        vocabSize = try c.value("vocab_size", default: 30522)
        hiddenSize = try c.value("hidden_size", default: 768)
        numHiddenLayers = try c.value("num_hidden_layers", default: 12)
        numAttentionHeads = try c.value("num_attention_heads", default: 12)
        intermediateSize = try c.value("intermediate_size", default: 3072)
        hiddenAct = try ActivationFunction.decode(c, "hidden_act", default: .gelu)
        maxPositionEmbeddings = try c.value("max_position_embeddings", default: 512)
        layerNormEps = try c.value("layer_norm_eps", default: 1e-12)
        // Absent means the class default 0; an explicit null means "no padding row".
        if c.contains(ConfigKey("pad_token_id")) {
            padTokenID = try c.optionalValue("pad_token_id")
        } else {
            padTokenID = 0
        }
        crossAttentionFrequency = try c.value("cross_attention_frequency", default: 2)
        encoderHiddenSize = try c.value("encoder_hidden_size", default: 1408)
        useQFormerTextInput = try c.value("use_qformer_text_input", default: false)
        // 4.x configs may carry `position_embedding_type`; only the absolute kind was ever released, and
        // v5 dropped the relative variants, so anything else is a checkpoint this port cannot run.
        if let kind: String = try c.optionalValue("position_embedding_type"), kind != "absolute" {
            throw Blip2ConfigError.invalidValue(
                field: c.fieldPath("position_embedding_type"),
                reason: "only \"absolute\" is supported, got \"\(kind)\"")
        }
        try validate(at: ConfigJSON.prefix(decoder.codingPath))
    }

    /// Writes every field under its upstream JSON name (a full dict, not a diff dict).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.encode(Self.modelType, forKey: ConfigKey("model_type"))
        try c.encode(vocabSize, forKey: ConfigKey("vocab_size"))
        try c.encode(hiddenSize, forKey: ConfigKey("hidden_size"))
        try c.encode(numHiddenLayers, forKey: ConfigKey("num_hidden_layers"))
        try c.encode(numAttentionHeads, forKey: ConfigKey("num_attention_heads"))
        try c.encode(intermediateSize, forKey: ConfigKey("intermediate_size"))
        try c.encode(hiddenAct, forKey: ConfigKey("hidden_act"))
        try c.encode(maxPositionEmbeddings, forKey: ConfigKey("max_position_embeddings"))
        try c.encode(layerNormEps, forKey: ConfigKey("layer_norm_eps"))
        try c.encode(padTokenID, forKey: ConfigKey("pad_token_id"))
        try c.encode(crossAttentionFrequency, forKey: ConfigKey("cross_attention_frequency"))
        try c.encode(encoderHiddenSize, forKey: ConfigKey("encoder_hidden_size"))
        try c.encode(useQFormerTextInput, forKey: ConfigKey("use_qformer_text_input"))
    }
}
