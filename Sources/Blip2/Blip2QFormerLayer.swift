// Follows `Blip2QFormerLayer` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): a post-LN BERT
// layer whose query rows also cross-attend the image (on layers with `crossattention`) and have their own
// feed-forward (`intermediate_query`/`output_query`); text rows use `intermediate`/`output`.
// Shapes: see Blip2QFormerMultiHeadAttention.

import SafeTensors
import Tensors

/// One Q-Former layer: hidden [B, T, C] (Q query rows first) -> [B, T, C].
struct Blip2QFormerLayer: Sendable {
    let attention: Blip2QFormerAttention
    /// Present on layers with `index % cross_attention_frequency == 0`.
    let crossattention: Blip2QFormerAttention?
    /// Text-row feed-forward; present when `use_qformer_text_input` (retrieval checkpoints).
    let intermediate: Blip2QFormerIntermediate?
    let output: Blip2QFormerOutput?
    let intermediateQuery: Blip2QFormerIntermediate
    let outputQuery: Blip2QFormerOutput

    init(config: Blip2QFormerConfig, index: Int, weights: WeightScope) throws(Blip2ModelError) {
        attention = try Blip2QFormerAttention(
            config: config, weights: weights.scope("attention"), isCrossAttention: false)
        crossattention = config.hasCrossAttention(layer: index)
            ? try Blip2QFormerAttention(
                config: config, weights: weights.scope("crossattention"), isCrossAttention: true)
            : nil
        if config.useQFormerTextInput {
            intermediate = try Blip2QFormerIntermediate(config: config, weights: weights.scope("intermediate"))
            output = try Blip2QFormerOutput(config: config, weights: weights.scope("output"))
        } else {
            intermediate = nil
            output = nil
        }
        intermediateQuery = try Blip2QFormerIntermediate(config: config, weights: weights.scope("intermediate_query"))
        outputQuery = try Blip2QFormerOutput(config: config, weights: weights.scope("output_query"))
    }

    /// hidden [B, T, C] with the first `queryLength` rows being query tokens, `mask` additive and broadcastable
    /// to [B, H, T, T]. Query rows cross-attend `memory` on cross-attention layers (the caller guarantees it is
    /// present when queryLength > 0, and that the text feed-forward exists when T > queryLength).
    func callAsFunction(
        _ hidden: Tensor, queryLength: Int, mask: Tensor?, memory: Blip2QFormerImageMemory?
    ) -> Tensor {
        let t = hidden.shape[1]
        let attended = attention(hidden, mask: mask)  // [B, T, C]
        guard queryLength > 0 else { return feedForwardText(attended) }
        var queries = queryLength == t ? attended : attended.slice(axis: 1, 0..<queryLength)  // [B, Q, C]
        if let crossattention {
            guard let memory else { preconditionFailure("cross-attention layer without image memory") }
            let (keys, values) = memory.keysAndValues(for: crossattention.attention)  // [B, P, C] each
            queries = crossattention(queries, keys: keys, values: values)
        }
        let queryOut = outputQuery(intermediateQuery(queries), input: queries)
        guard t > queryLength else { return queryOut }
        let textOut = feedForwardText(attended.slice(axis: 1, queryLength..<t))  // [B, L, C]
        return Tensor.concatenate([queryOut, textOut], axis: 1)
    }

    /// The text rows' feed-forward: [B, L, C] -> [B, L, C].
    private func feedForwardText(_ x: Tensor) -> Tensor {
        guard let intermediate, let output else { preconditionFailure("text rows on a Q-Former without text face") }
        return output(intermediate(x), input: x)
    }
}
