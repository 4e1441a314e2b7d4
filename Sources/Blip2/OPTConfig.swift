// Mirrors transformers `OPTConfig` (models/opt/configuration_opt.py, 5.23.0), the decoder-only language
// model of blip2-opt-*. Defaults are the upstream class defaults (OPT-125m shapes), which diff-dict
// config.json files omit.

/// Shape, numerics and special ids of an OPT decoder (the `text_config` of an OPT BLIP-2 checkpoint).
public struct OPTConfig: Codable, Equatable, Sendable {
    /// The `model_type` upstream writes for OPT.
    public static let modelType = "opt"
    /// OPT's learned position table is indexed by position + 2 (a fairseq legacy), so it has
    /// `maxPositionEmbeddings + 2` rows.
    public static let positionOffset = 2
    /// Epsilon of every OPT LayerNorm. Not a config field: upstream uses torch's `nn.LayerNorm` default.
    public static let layerNormEps = 1e-5

    /// Rows of `embed_tokens` and columns of the logits (`vocab_size`; 50304 in blip2-opt-2.7b).
    public let vocabSize: Int
    /// Width of the decoder (`hidden_size`).
    public let hiddenSize: Int
    /// Number of decoder layers (`num_hidden_layers`).
    public let numHiddenLayers: Int
    /// Width of the feed-forward block (`ffn_dim`).
    public let ffnDim: Int
    /// Longest sequence the position table covers (`max_position_embeddings`).
    public let maxPositionEmbeddings: Int
    /// Pre-LN (true, every released size but 350m) or post-LN blocks (`do_layer_norm_before`).
    public let doLayerNormBefore: Bool
    /// Whether the decoder's `final_layer_norm` is absent (`_remove_final_layer_norm`).
    public let removeFinalLayerNorm: Bool
    /// Width of the token embeddings; when it differs from `hiddenSize` the decoder has `project_in` and
    /// `project_out` (`word_embed_proj_dim`, defaults to `hidden_size`).
    public let wordEmbedProjDim: Int
    /// Attention heads per layer (`num_attention_heads`).
    public let numAttentionHeads: Int
    /// Feed-forward nonlinearity (`activation_function`).
    public let activationFunction: ActivationFunction
    /// Padding id (`pad_token_id`, 1).
    public let padTokenID: Int?
    /// Begin-of-sequence id prepended by the tokenizer (`bos_token_id`, 2).
    public let bosTokenID: Int?
    /// Id(s) that end generation (`eos_token_id`; blip2-opt-2.7b overrides 2 with 50118, "\n").
    public let eosTokenID: TokenIDs?
    /// Whether the linear layers have biases (`enable_bias`).
    public let enableBias: Bool
    /// Whether the LayerNorms have weight and bias (`layer_norm_elementwise_affine`).
    public let layerNormElementwiseAffine: Bool
    /// Whether `lm_head` is `embed_tokens` (`tie_word_embeddings`, true).
    public let tieWordEmbeddings: Bool

    /// Width of one attention head.
    public var headDim: Int { hiddenSize / numAttentionHeads }
    /// Whether the decoder has `project_in`/`project_out` around the layers.
    public var hasEmbeddingProjection: Bool { wordEmbedProjDim != hiddenSize }

    /// Builds a validated value; the defaults are the upstream class defaults. Throws naming the first bad field.
    public init(
        vocabSize: Int = 50272, hiddenSize: Int = 768, numHiddenLayers: Int = 12, ffnDim: Int = 3072,
        maxPositionEmbeddings: Int = 2048, doLayerNormBefore: Bool = true, removeFinalLayerNorm: Bool = false,
        wordEmbedProjDim: Int? = nil, numAttentionHeads: Int = 12, activationFunction: ActivationFunction = .relu,
        padTokenID: Int? = 1, bosTokenID: Int? = 2, eosTokenID: TokenIDs? = 2, enableBias: Bool = true,
        layerNormElementwiseAffine: Bool = true, tieWordEmbeddings: Bool = true
    ) throws(Blip2ConfigError) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.ffnDim = ffnDim
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.doLayerNormBefore = doLayerNormBefore
        self.removeFinalLayerNorm = removeFinalLayerNorm
        self.wordEmbedProjDim = wordEmbedProjDim ?? hiddenSize
        self.numAttentionHeads = numAttentionHeads
        self.activationFunction = activationFunction
        self.padTokenID = padTokenID
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.enableBias = enableBias
        self.layerNormElementwiseAffine = layerNormElementwiseAffine
        self.tieWordEmbeddings = tieWordEmbeddings
        try validate(at: "")
    }

    func validate(at prefix: String) throws(Blip2ConfigError) {
        try ConfigCheck.positive(vocabSize, prefix + "vocab_size")
        try ConfigCheck.divides(
            heads: numAttentionHeads, width: hiddenSize,
            headsField: prefix + "num_attention_heads", widthField: prefix + "hidden_size")
        try ConfigCheck.positive(numHiddenLayers, prefix + "num_hidden_layers")
        try ConfigCheck.positive(ffnDim, prefix + "ffn_dim")
        try ConfigCheck.positive(maxPositionEmbeddings, prefix + "max_position_embeddings")
        try ConfigCheck.positive(wordEmbedProjDim, prefix + "word_embed_proj_dim")
        try ConfigCheck.tokenID(padTokenID, vocabSize: vocabSize, prefix + "pad_token_id")
        try ConfigCheck.tokenID(bosTokenID, vocabSize: vocabSize, prefix + "bos_token_id")
        try ConfigCheck.tokenIDs(eosTokenID, vocabSize: vocabSize, prefix + "eos_token_id")
    }

    /// Decodes the JSON object, filling absent fields with the upstream defaults, then validates it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        let type: String = try c.value("model_type", default: Self.modelType)
        guard type == Self.modelType else {
            throw Blip2ConfigError.unknownModelType(
                field: c.fieldPath("model_type"), value: type, expected: [Self.modelType])
        }
        vocabSize = try c.value("vocab_size", default: 50272)
        hiddenSize = try c.value("hidden_size", default: 768)
        numHiddenLayers = try c.value("num_hidden_layers", default: 12)
        ffnDim = try c.value("ffn_dim", default: 3072)
        maxPositionEmbeddings = try c.value("max_position_embeddings", default: 2048)
        doLayerNormBefore = try c.value("do_layer_norm_before", default: true)
        removeFinalLayerNorm = try c.value("_remove_final_layer_norm", default: false)
        wordEmbedProjDim = try c.optionalValue("word_embed_proj_dim") ?? hiddenSize
        numAttentionHeads = try c.value("num_attention_heads", default: 12)
        activationFunction = try ActivationFunction.decode(c, "activation_function", default: .relu)
        padTokenID = try c.specialTokenID("pad_token_id", default: 1)
        bosTokenID = try c.specialTokenID("bos_token_id", default: 2)
        eosTokenID = try c.specialTokenIDs("eos_token_id", default: 2)
        enableBias = try c.value("enable_bias", default: true)
        layerNormElementwiseAffine = try c.value("layer_norm_elementwise_affine", default: true)
        tieWordEmbeddings = try c.value("tie_word_embeddings", default: true)
        try validate(at: ConfigJSON.prefix(decoder.codingPath))
    }

    /// Writes every field under its upstream JSON name (a full dict, not a diff dict).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.encode(Self.modelType, forKey: ConfigKey("model_type"))
        try c.encode(vocabSize, forKey: ConfigKey("vocab_size"))
        try c.encode(hiddenSize, forKey: ConfigKey("hidden_size"))
        try c.encode(numHiddenLayers, forKey: ConfigKey("num_hidden_layers"))
        try c.encode(ffnDim, forKey: ConfigKey("ffn_dim"))
        try c.encode(maxPositionEmbeddings, forKey: ConfigKey("max_position_embeddings"))
        try c.encode(doLayerNormBefore, forKey: ConfigKey("do_layer_norm_before"))
        try c.encode(removeFinalLayerNorm, forKey: ConfigKey("_remove_final_layer_norm"))
        try c.encode(wordEmbedProjDim, forKey: ConfigKey("word_embed_proj_dim"))
        try c.encode(numAttentionHeads, forKey: ConfigKey("num_attention_heads"))
        try c.encode(activationFunction, forKey: ConfigKey("activation_function"))
        try c.encode(padTokenID, forKey: ConfigKey("pad_token_id"))
        try c.encode(bosTokenID, forKey: ConfigKey("bos_token_id"))
        try c.encode(eosTokenID, forKey: ConfigKey("eos_token_id"))
        try c.encode(enableBias, forKey: ConfigKey("enable_bias"))
        try c.encode(layerNormElementwiseAffine, forKey: ConfigKey("layer_norm_elementwise_affine"))
        try c.encode(tieWordEmbeddings, forKey: ConfigKey("tie_word_embeddings"))
    }
}

extension KeyedDecodingContainer where Key == ConfigKey {
    /// A special-token id: absent means the class default, explicit `null` means "none".
    func specialTokenID(_ name: String, default defaultValue: Int?) throws -> Int? {
        contains(ConfigKey(name)) ? try optionalValue(name) : defaultValue
    }

    /// Like `specialTokenID`, for fields that may hold one id or a list.
    func specialTokenIDs(_ name: String, default defaultValue: TokenIDs?) throws -> TokenIDs? {
        contains(ConfigKey(name)) ? try optionalValue(name) : defaultValue
    }
}
