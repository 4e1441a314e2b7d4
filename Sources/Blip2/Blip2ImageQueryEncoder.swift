// The image half shared by every BLIP-2 head: vision tower, learned query tokens, and the Q-Former's query
// pass with cross-attention to the image — what transformers 5.23.0 computes at the start of
// `Blip2ForConditionalGeneration.forward`/`get_image_features` and `Blip2ForImageTextRetrieval.forward`
// (transformers/models/blip_2/modeling_blip_2.py). Legend: B images, P image tokens, Cv vision width,
// Q query tokens, C Q-Former width.

import SafeTensors
import Tensors

/// Pixels [B, 3, S, S] -> the vision tokens [B, P, Cv] and the Q-Former's query output [B, Q, C].
///
/// Reads `vision_model.*`, `query_tokens` and `qformer.*` of any BLIP-2 checkpoint (captioning or
/// retrieval); the head on top (language projection, ITC/ITM) and the strict leftover-key check belong to
/// whoever builds the whole model.
public struct Blip2ImageQueryEncoder: Sendable {
    /// The vision tower (`vision_model.*`).
    public let visionModel: Blip2VisionModel
    /// The Q-Former (`qformer.*`).
    public let qformer: Blip2QFormerModel
    /// [1, Q, C] (`query_tokens`).
    let queryTokens: Tensor

    /// Reads the vision tower, the query tokens and the Q-Former from `weights`, checking shapes.
    public init(config: Blip2Config, weights: WeightStore) throws(Blip2ModelError) {
        visionModel = try Blip2VisionModel(
            config: config.visionConfig, weights: weights.scope(Blip2Checkpoint.visionModelPrefix))
        let width = config.qformerConfig.hiddenSize
        queryTokens = try Blip2ModelError.loading { () throws(SafeTensorsError) in
            try weights.tensor(Blip2Checkpoint.queryTokensKey, shape: [1, config.numQueryTokens, width])
        }
        qformer = try Blip2QFormerModel(
            config: config.qformerConfig, weights: weights.scope(Blip2Checkpoint.qformerPrefix))
    }

    /// Number of query tokens Q.
    public var numQueryTokens: Int { queryTokens.shape[1] }

    /// The query tokens repeated for `batch` sequences, [batch, Q, C] (a copy; the Q-Former's input).
    public func queryEmbeddings(batch: Int) -> Tensor {
        queryTokens.broadcast(to: [batch, numQueryTokens, qformer.config.hiddenSize])
    }

    /// Runs the vision tower and the query pass. Trace names: `vision.*`, `qformer.query.*`.
    public func callAsFunction(_ pixels: Tensor, trace: Blip2Trace? = nil) throws(Blip2ModelError)
        -> (vision: Blip2VisionModelOutput, queryOutput: Tensor) {
        let vision = try visionModel(pixels, trace: trace?.scoped("vision"))
        let queryOutput = try qformer(
            queryEmbeddings(batch: pixels.shape[0]), queryLength: numQueryTokens,
            imageMemory: Blip2QFormerImageMemory(hiddenStates: vision.lastHiddenState),
            trace: trace?.scoped("qformer.query"))  // [B, Q, C]
        return (vision, queryOutput)
    }
}
