// Follows `Blip2QFormerModel` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): the input
// `layernorm` over the given embeddings (query tokens and/or text), then the encoder.
// Shapes: see Blip2QFormerMultiHeadAttention.

import SafeTensors
import Tensors

/// The querying transformer: embeddings [B, T, C] (Q query rows first, then text rows) -> [B, T, C].
///
/// One type serves every BLIP-2 regime; the caller picks it with `queryLength`, the mask and the memory
/// (see `Blip2QFormerAttentionMask`):
/// - image side (ITC, captioning): T = Q query tokens, no mask, image memory;
/// - text side (ITC): queryLength 0, text rows only, padding mask, no memory;
/// - matching (ITM): Q query rows + L text rows, bidirectional padding mask, image memory (query rows only);
/// - generation (ITG, LAVIS only): as ITM with the causal `generation` mask.
public struct Blip2QFormerModel: Sendable {
    /// The Q-Former configuration the weights were checked against.
    public let config: Blip2QFormerConfig
    let layernorm: Blip2LayerNorm
    let encoder: Blip2QFormerEncoder

    /// Reads every Q-Former weight under `weights` (e.g. `store.scope("qformer")`), checking shapes.
    public init(config: Blip2QFormerConfig, weights: WeightScope) throws(Blip2ModelError) {
        self.config = config
        layernorm = try Blip2LayerNorm(weights.scope("layernorm"), width: config.hiddenSize, eps: config.layerNormEps)
        encoder = try Blip2QFormerEncoder(config: config, weights: weights.scope("encoder"))
    }

    /// Whether any layer cross-attends the image.
    var hasCrossAttention: Bool { encoder.layers.contains { $0.crossattention != nil } }

    /// Runs the Q-Former.
    ///
    /// - embeddings: [B, T, C], before the input layernorm (query tokens as stored, text as
    ///   `Blip2TextEmbeddings` makes it).
    /// - queryLength: how many leading rows are query tokens (0 ≤ Q ≤ T); they get the query feed-forward and,
    ///   on cross-attention layers, read `imageMemory`, which is then required.
    /// - attentionMask: additive, broadcastable to [B, H, T, T]; nil lets every row see every row.
    /// - Trace names: `embedding_output` (after the layernorm), `layer.{i}`, `last_hidden_state`.
    public func callAsFunction(
        _ embeddings: Tensor, queryLength: Int, attentionMask: Tensor? = nil,
        imageMemory: Blip2QFormerImageMemory? = nil, trace: Blip2Trace? = nil
    ) throws(Blip2ModelError) -> Tensor {
        try validate(embeddings, queryLength: queryLength, attentionMask: attentionMask, imageMemory: imageMemory)
        let x = layernorm(embeddings)
        trace?.record("embedding_output", x)
        let h = encoder(x, queryLength: queryLength, mask: attentionMask, memory: imageMemory, trace: trace)
        trace?.record("last_hidden_state", h)
        return h
    }

    private func validate(
        _ embeddings: Tensor, queryLength: Int, attentionMask: Tensor?, imageMemory: Blip2QFormerImageMemory?
    ) throws(Blip2ModelError) {
        let c = config.hiddenSize
        guard embeddings.rank == 3, embeddings.shape[0] >= 1, embeddings.shape[1] >= 1, embeddings.shape[2] == c else {
            throw .invalidInput("Q-Former input has shape \(embeddings.shape), expected [B, T, \(c)]")
        }
        let (b, t) = (embeddings.shape[0], embeddings.shape[1])
        guard queryLength >= 0, queryLength <= t else {
            throw .invalidInput("query length \(queryLength) outside 0...\(t)")
        }
        if t > queryLength, !config.useQFormerTextInput {
            throw .unsupported("this Q-Former has no text feed-forward (use_qformer_text_input is false)")
        }
        if queryLength > 0, hasCrossAttention {
            guard let imageMemory else { throw .invalidInput("query tokens need image memory to cross-attend") }
            try imageMemory.validate(batch: b, width: config.encoderHiddenSize)
        }
        if let mask = attentionMask {
            let s = mask.shape
            let ok = s.count == 4 && (s[0] == 1 || s[0] == b) && (s[1] == 1 || s[1] == config.numAttentionHeads)
                && (s[2] == 1 || s[2] == t) && s[3] == t
            guard ok else {
                throw .invalidInput("attention mask of shape \(s) does not broadcast to [\(b), H, \(t), \(t)]")
            }
        }
    }
}
