// Mirrors transformers `Blip2VisionConfig` (models/blip_2/configuration_blip_2.py, 5.23.0): the EVA ViT-g
// image encoder. Defaults are the upstream class defaults, which the published config.json files omit.

/// Shape and numerics of the BLIP-2 vision tower (the `vision_config` object of `config.json`).
///
/// Validated on every construction path: a value of this type always describes a buildable encoder.
public struct Blip2VisionConfig: Codable, Equatable, Sendable {
    /// The `model_type` upstream writes for this sub-config.
    public static let modelType = "blip_2_vision_model"
    /// Colour channels of `pixel_values`: upstream hard-codes an RGB patch convolution.
    public static let channelCount = 3

    /// Width C of every token (`hidden_size`, 1408 for ViT-g).
    public let hiddenSize: Int
    /// Width of the MLP between `fc1` and `fc2` (`intermediate_size`).
    public let intermediateSize: Int
    /// Number of encoder blocks (`num_hidden_layers`, 39 for BLIP-2's ViT-g).
    public let numHiddenLayers: Int
    /// Attention heads per block (`num_attention_heads`).
    public let numAttentionHeads: Int
    /// Side of the square input the position embeddings were trained for (`image_size`).
    public let imageSize: Int
    /// Side of the square patch the convolution cuts (`patch_size`).
    public let patchSize: Int
    /// MLP nonlinearity (`hidden_act`).
    public let hiddenAct: ActivationFunction
    /// Epsilon of the pre-LN blocks and of `post_layernorm` (`layer_norm_eps`, 1e-6; LAVIS used 1e-5).
    public let layerNormEps: Double
    /// Whether the fused `qkv` projection has a bias (`qkv_bias`).
    public let qkvBias: Bool

    /// Width of one attention head.
    public var headDim: Int { hiddenSize / numAttentionHeads }
    /// Patches per side: the convolution's output grid.
    public var gridSize: Int { imageSize / patchSize }
    /// Patch tokens per image.
    public var numPatches: Int { gridSize * gridSize }
    /// Tokens per image including the class token: the length P of every vision hidden state.
    public var numPositions: Int { numPatches + 1 }

    /// Builds a validated value; the defaults are the upstream class defaults. Throws naming the first bad field.
    public init(
        hiddenSize: Int = 1408, intermediateSize: Int = 6144, numHiddenLayers: Int = 39,
        numAttentionHeads: Int = 16, imageSize: Int = 224, patchSize: Int = 14,
        hiddenAct: ActivationFunction = .gelu, layerNormEps: Double = 1e-6, qkvBias: Bool = true
    ) throws(Blip2ConfigError) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.hiddenAct = hiddenAct
        self.layerNormEps = layerNormEps
        self.qkvBias = qkvBias
        try validate(at: "")
    }

    /// Checks the invariants the vision code relies on; `prefix` is the JSON path of this object.
    func validate(at prefix: String) throws(Blip2ConfigError) {
        try ConfigCheck.divides(
            heads: numAttentionHeads, width: hiddenSize,
            headsField: prefix + "num_attention_heads", widthField: prefix + "hidden_size")
        try ConfigCheck.positive(intermediateSize, prefix + "intermediate_size")
        try ConfigCheck.positive(numHiddenLayers, prefix + "num_hidden_layers")
        try ConfigCheck.positive(imageSize, prefix + "image_size")
        try ConfigCheck.positive(patchSize, prefix + "patch_size")
        // Upstream floors image_size / patch_size; no published checkpoint relies on a partial patch, and
        // accepting one would make the convolution silently drop pixels.
        guard imageSize % patchSize == 0 else {
            throw .invalidValue(
                field: prefix + "image_size",
                reason: "\(imageSize) is not a multiple of patch_size \(patchSize)")
        }
        try ConfigCheck.positive(layerNormEps, prefix + "layer_norm_eps")
    }

    /// Decodes the JSON object, filling absent fields with the upstream defaults, then validates it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try Self.checkModelType(c)
        if let channels: Int = try c.optionalValue("num_channels"), channels != Self.channelCount {
            throw Blip2ConfigError.invalidValue(
                field: c.fieldPath("num_channels"), reason: "must be \(Self.channelCount) (RGB), got \(channels)")
        }
        hiddenSize = try c.value("hidden_size", default: 1408)
        intermediateSize = try c.value("intermediate_size", default: 6144)
        numHiddenLayers = try c.value("num_hidden_layers", default: 39)
        numAttentionHeads = try c.value("num_attention_heads", default: 16)
        imageSize = try Self.squareSide(c, "image_size", default: 224)
        patchSize = try Self.squareSide(c, "patch_size", default: 14)
        hiddenAct = try ActivationFunction.decode(c, "hidden_act", default: .gelu)
        layerNormEps = try c.value("layer_norm_eps", default: 1e-6)
        qkvBias = try c.value("qkv_bias", default: true)
        try validate(at: ConfigJSON.prefix(decoder.codingPath))
    }

    /// Writes every field under its upstream JSON name (a full dict, not a diff dict).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.encode(Self.modelType, forKey: ConfigKey("model_type"))
        try c.encode(hiddenSize, forKey: ConfigKey("hidden_size"))
        try c.encode(intermediateSize, forKey: ConfigKey("intermediate_size"))
        try c.encode(numHiddenLayers, forKey: ConfigKey("num_hidden_layers"))
        try c.encode(numAttentionHeads, forKey: ConfigKey("num_attention_heads"))
        try c.encode(imageSize, forKey: ConfigKey("image_size"))
        try c.encode(patchSize, forKey: ConfigKey("patch_size"))
        try c.encode(hiddenAct, forKey: ConfigKey("hidden_act"))
        try c.encode(layerNormEps, forKey: ConfigKey("layer_norm_eps"))
        try c.encode(qkvBias, forKey: ConfigKey("qkv_bias"))
    }

    private static func checkModelType(_ c: KeyedDecodingContainer<ConfigKey>) throws {
        guard let type: String = try c.optionalValue("model_type"), type != modelType else { return }
        throw Blip2ConfigError.unknownModelType(field: c.fieldPath("model_type"), value: type, expected: [modelType])
    }

    /// Upstream types `image_size`/`patch_size` as `int | [int, int]`, but its embedding code only works
    /// for an int; a two-element list is accepted when square.
    private static func squareSide(
        _ c: KeyedDecodingContainer<ConfigKey>, _ name: String, default defaultValue: Int
    ) throws -> Int {
        let key = ConfigKey(name)
        if c.contains(key), let pair = try? c.decode([Int].self, forKey: key) {
            guard pair.count == 2, pair[0] == pair[1] else {
                throw Blip2ConfigError.invalidValue(
                    field: c.fieldPath(name), reason: "only square sizes are supported, got \(pair)")
            }
            return pair[0]
        }
        return try c.value(name, default: defaultValue)
    }
}
