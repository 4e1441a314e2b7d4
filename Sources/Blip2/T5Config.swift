// Mirrors transformers `T5Config` (models/t5/configuration_t5.py, 5.23.0), the encoder-decoder language
// model of blip2-flan-t5-*. Decodes enough to know the architecture and sizes; defaults are the upstream
// class defaults (t5-small shapes), which diff-dict config.json files omit.

/// Shape, numerics and special ids of a T5 / Flan-T5 encoder-decoder (`text_config` of a T5 checkpoint).
public struct T5Config: Codable, Equatable, Sendable {
    /// The `model_type` upstream writes for T5.
    public static let modelType = "t5"

    /// Rows of `shared` and columns of the logits (`vocab_size`, 32128).
    public let vocabSize: Int
    /// Model width (`d_model`).
    public let dModel: Int
    /// Width of one attention head (`d_kv`); heads × d_kv need not equal d_model in T5.
    public let dKV: Int
    /// Width of the feed-forward block (`d_ff`).
    public let dFF: Int
    /// Encoder blocks (`num_layers`).
    public let numLayers: Int
    /// Decoder blocks (`num_decoder_layers`, defaults to `num_layers`).
    public let numDecoderLayers: Int
    /// Attention heads (`num_heads`).
    public let numHeads: Int
    /// Buckets of the relative position bias (`relative_attention_num_buckets`, 32).
    public let relativeAttentionNumBuckets: Int
    /// Distance beyond which relative positions share the last bucket (`relative_attention_max_distance`).
    public let relativeAttentionMaxDistance: Int
    /// Epsilon of the RMS norms (`layer_norm_epsilon`, 1e-6).
    public let layerNormEpsilon: Double
    /// The raw `feed_forward_proj` string: `act` or `gated-act`.
    public let feedForwardProj: String
    /// Whether the feed-forward is gated (`wi_0`, `wi_1`): `feed_forward_proj` starts with `gated-`.
    public let isGatedAct: Bool
    /// The feed-forward nonlinearity. The JSON `dense_act_fn` wins when present (BLIP-2's Flan-T5 writes
    /// `gelu`, overriding the `gelu_new` that upstream derives from `gated-gelu`).
    public let denseActFn: ActivationFunction
    /// Padding id (`pad_token_id`, 0).
    public let padTokenID: Int?
    /// End-of-sequence id(s) (`eos_token_id`, 1).
    public let eosTokenID: TokenIDs?
    /// Begin-of-sequence id (`bos_token_id`; not a T5 default, BLIP-2 writes 1).
    public let bosTokenID: Int?
    /// First decoder input (`decoder_start_token_id`; defaults to the pad id, as T5 does).
    public let decoderStartTokenID: Int
    /// The JSON `tie_word_embeddings` (default true). Flan-T5 writes false: `lm_head` is its own weight
    /// and the decoder output is not rescaled by `d_model^-0.5`.
    public let tieWordEmbeddings: Bool

    /// Whether upstream rescales the decoder output by `d_model^-0.5` before `lm_head`.
    public var scalesDecoderOutput: Bool { tieWordEmbeddings }
    /// Width of the attention projections' outputs.
    public var innerDim: Int { numHeads * dKV }

    /// Builds a validated value; the defaults are the upstream class defaults. Throws naming the first bad field.
    public init(
        vocabSize: Int = 32128, dModel: Int = 512, dKV: Int = 64, dFF: Int = 2048, numLayers: Int = 6,
        numDecoderLayers: Int? = nil, numHeads: Int = 8, relativeAttentionNumBuckets: Int = 32,
        relativeAttentionMaxDistance: Int = 128, layerNormEpsilon: Double = 1e-6, feedForwardProj: String = "relu",
        denseActFn: ActivationFunction? = nil, padTokenID: Int? = 0, eosTokenID: TokenIDs? = 1,
        bosTokenID: Int? = nil, decoderStartTokenID: Int? = nil, tieWordEmbeddings: Bool = true
    ) throws(Blip2ConfigError) {
        let (gated, derived) = try Self.parseFeedForward(feedForwardProj, field: "feed_forward_proj")
        self.vocabSize = vocabSize
        self.dModel = dModel
        self.dKV = dKV
        self.dFF = dFF
        self.numLayers = numLayers
        self.numDecoderLayers = numDecoderLayers ?? numLayers
        self.numHeads = numHeads
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets
        self.relativeAttentionMaxDistance = relativeAttentionMaxDistance
        self.layerNormEpsilon = layerNormEpsilon
        self.feedForwardProj = feedForwardProj
        self.isGatedAct = gated
        self.denseActFn = denseActFn ?? derived
        self.padTokenID = padTokenID
        self.eosTokenID = eosTokenID
        self.bosTokenID = bosTokenID
        self.decoderStartTokenID = decoderStartTokenID ?? padTokenID ?? 0
        self.tieWordEmbeddings = tieWordEmbeddings
        try validate(at: "")
    }

    /// Splits `feed_forward_proj` the way upstream does: `gated-gelu` → gated, and (upstream's backward
    /// compatibility rule) activation `gelu_new`; `relu` → plain relu.
    static func parseFeedForward(
        _ raw: String, field: String
    ) throws(Blip2ConfigError) -> (gated: Bool, activation: ActivationFunction) {
        let parts = raw.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 1 || (parts.count == 2 && parts[0] == "gated"), let last = parts.last else {
            throw .invalidValue(field: field, reason: "\"\(raw)\" is not of the form \"act\" or \"gated-act\"")
        }
        if raw == "gated-gelu" { return (true, .geluNew) }
        return (parts.count == 2, try ActivationFunction.parse(last, field: field))
    }

    func validate(at prefix: String) throws(Blip2ConfigError) {
        try ConfigCheck.positive(vocabSize, prefix + "vocab_size")
        try ConfigCheck.positive(dModel, prefix + "d_model")
        try ConfigCheck.positive(dKV, prefix + "d_kv")
        try ConfigCheck.positive(dFF, prefix + "d_ff")
        try ConfigCheck.positive(numLayers, prefix + "num_layers")
        try ConfigCheck.positive(numDecoderLayers, prefix + "num_decoder_layers")
        try ConfigCheck.positive(numHeads, prefix + "num_heads")
        // The encoder's bidirectional bias splits the buckets into two halves, so it needs at least two.
        guard relativeAttentionNumBuckets >= 2 else {
            throw .invalidValue(
                field: prefix + "relative_attention_num_buckets",
                reason: "must be at least 2, got \(relativeAttentionNumBuckets)")
        }
        try ConfigCheck.positive(relativeAttentionMaxDistance, prefix + "relative_attention_max_distance")
        try ConfigCheck.positive(layerNormEpsilon, prefix + "layer_norm_epsilon")
        try ConfigCheck.tokenID(padTokenID, vocabSize: vocabSize, prefix + "pad_token_id")
        try ConfigCheck.tokenIDs(eosTokenID, vocabSize: vocabSize, prefix + "eos_token_id")
        try ConfigCheck.tokenID(bosTokenID, vocabSize: vocabSize, prefix + "bos_token_id")
        try ConfigCheck.tokenID(decoderStartTokenID, vocabSize: vocabSize, prefix + "decoder_start_token_id")
    }

    /// Decodes the JSON object, filling absent fields with the upstream defaults, then validates it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        let type: String = try c.required("model_type")
        guard type == Self.modelType else {
            throw Blip2ConfigError.unknownModelType(
                field: c.fieldPath("model_type"), value: type, expected: [Self.modelType])
        }
        // BLIP-2 feeds the query embeddings to the T5 encoder, so an encoder-only T5 cannot serve.
        guard try c.value("is_encoder_decoder", default: true) else {
            throw Blip2ConfigError.invalidValue(
                field: c.fieldPath("is_encoder_decoder"), reason: "BLIP-2 needs the T5 encoder-decoder")
        }
        vocabSize = try c.value("vocab_size", default: 32128)
        dModel = try c.value("d_model", default: 512)
        dKV = try c.value("d_kv", default: 64)
        dFF = try c.value("d_ff", default: 2048)
        numLayers = try c.value("num_layers", default: 6)
        numDecoderLayers = try c.optionalValue("num_decoder_layers") ?? numLayers
        numHeads = try c.value("num_heads", default: 8)
        relativeAttentionNumBuckets = try c.value("relative_attention_num_buckets", default: 32)
        relativeAttentionMaxDistance = try c.value("relative_attention_max_distance", default: 128)
        layerNormEpsilon = try c.value("layer_norm_epsilon", default: 1e-6)
        feedForwardProj = try c.value("feed_forward_proj", default: "relu")
        let (gated, derived) = try Self.parseFeedForward(feedForwardProj, field: c.fieldPath("feed_forward_proj"))
        isGatedAct = gated
        denseActFn = try ActivationFunction.decode(c, "dense_act_fn", default: derived)
        padTokenID = try c.specialTokenID("pad_token_id", default: 0)
        eosTokenID = try c.specialTokenIDs("eos_token_id", default: 1)
        bosTokenID = try c.optionalValue("bos_token_id")
        decoderStartTokenID = try c.optionalValue("decoder_start_token_id") ?? padTokenID ?? 0
        tieWordEmbeddings = try c.value("tie_word_embeddings", default: true)
        try validate(at: ConfigJSON.prefix(decoder.codingPath))
    }

    /// Writes every field under its upstream JSON name (a full dict, not a diff dict).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.encode(Self.modelType, forKey: ConfigKey("model_type"))
        try c.encode(true, forKey: ConfigKey("is_encoder_decoder"))
        try c.encode(vocabSize, forKey: ConfigKey("vocab_size"))
        try c.encode(dModel, forKey: ConfigKey("d_model"))
        try c.encode(dKV, forKey: ConfigKey("d_kv"))
        try c.encode(dFF, forKey: ConfigKey("d_ff"))
        try c.encode(numLayers, forKey: ConfigKey("num_layers"))
        try c.encode(numDecoderLayers, forKey: ConfigKey("num_decoder_layers"))
        try c.encode(numHeads, forKey: ConfigKey("num_heads"))
        try c.encode(relativeAttentionNumBuckets, forKey: ConfigKey("relative_attention_num_buckets"))
        try c.encode(relativeAttentionMaxDistance, forKey: ConfigKey("relative_attention_max_distance"))
        try c.encode(layerNormEpsilon, forKey: ConfigKey("layer_norm_epsilon"))
        try c.encode(feedForwardProj, forKey: ConfigKey("feed_forward_proj"))
        try c.encode(denseActFn, forKey: ConfigKey("dense_act_fn"))
        try c.encode(padTokenID, forKey: ConfigKey("pad_token_id"))
        try c.encode(eosTokenID, forKey: ConfigKey("eos_token_id"))
        try c.encode(bosTokenID, forKey: ConfigKey("bos_token_id"))
        try c.encode(decoderStartTokenID, forKey: ConfigKey("decoder_start_token_id"))
        try c.encode(tieWordEmbeddings, forKey: ConfigKey("tie_word_embeddings"))
    }
}
