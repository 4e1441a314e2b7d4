// Follows `Blip2VisionModel` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): embeddings, the
// pre-LN encoder, and `post_layernorm` (LAVIS's `ln_vision`). Shapes: see Blip2VisionEmbeddings.

import SafeTensors
import Tensors

/// What the vision tower returns for a batch of images.
public struct Blip2VisionModelOutput: Sendable {
    /// `post_layernorm` of every token, [B, P, C]: the memory the Q-Former's cross-attention reads.
    public let lastHiddenState: Tensor
    /// `post_layernorm` applied once more to the class row of `lastHiddenState`, [B, C], exactly as upstream
    /// computes `pooler_output` (the norm runs twice on that row). BLIP-2 itself never uses it.
    public let poolerOutput: Tensor
}

/// The BLIP-2 image encoder (EVA ViT-g in the published checkpoints): pixels [B, 3, S, S] -> tokens [B, P, C].
///
/// Built from the weights under `vision_model.` (the parent passes that scope). Runs a whole batch at once:
/// every Linear is one GEMM over all B·P rows.
public struct Blip2VisionModel: Sendable {
    /// The vision configuration the weights were checked against.
    public let config: Blip2VisionConfig
    let embeddings: Blip2VisionEmbeddings
    let encoder: Blip2Encoder
    let postLayernorm: Blip2LayerNorm

    /// Reads every vision weight under `weights` (e.g. `store.scope("vision_model")`), checking shapes.
    public init(config: Blip2VisionConfig, weights: WeightScope) throws(Blip2ModelError) {
        self.config = config
        embeddings = try Blip2VisionEmbeddings(config: config, weights: weights.scope("embeddings"))
        encoder = try Blip2Encoder(config: config, weights: weights.scope("encoder"))
        postLayernorm = try Blip2LayerNorm(
            weights.scope("post_layernorm"), width: config.hiddenSize, eps: config.layerNormEps)
    }

    /// Runs the tower. `pixels` must be [B, 3, S, S] with B ≥ 1 and S the configured image size (what the
    /// checkpoint's preprocessor produces); anything else is `invalidInput`.
    ///
    /// Trace names: `embeddings`, `layer.{i}`, `last_hidden_state`, `pooler_output`.
    public func callAsFunction(_ pixels: Tensor, trace: Blip2Trace? = nil) throws(Blip2ModelError)
        -> Blip2VisionModelOutput {
        let side = config.imageSize
        let expected = [Blip2VisionConfig.channelCount, side, side]
        guard pixels.rank == 4, pixels.shape[0] >= 1, Array(pixels.shape.dropFirst()) == expected else {
            let dims = expected.map(String.init).joined(separator: ", ")
            throw .invalidInput("pixel values have shape \(pixels.shape), expected [B, \(dims)] with B ≥ 1")
        }
        let x = embeddings(pixels)  // [B, P, C]
        trace?.record("embeddings", x)
        let h = encoder(x, trace: trace)
        let last = postLayernorm(h)
        trace?.record("last_hidden_state", last)
        let b = pixels.shape[0]
        let classRows = last.slice(axis: 1, 0..<1).reshaped([b, config.hiddenSize])  // [B, C]
        let pooled = postLayernorm(classRows)
        trace?.record("pooler_output", pooled)
        return Blip2VisionModelOutput(lastHiddenState: last, poolerOutput: pooled)
    }
}
