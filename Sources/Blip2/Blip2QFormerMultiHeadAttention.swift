// Follows `Blip2QFormerMultiHeadAttention` in transformers/models/blip_2/modeling_blip_2.py (5.23.0):
// BERT-style attention with separate query/key/value Linears, used both as self-attention and (keys and
// values from the image tokens) as cross-attention.
//
// Legend for shape comments in the Q-Former files: B = sequences in the batch, T = tokens per sequence
// (Q query tokens first, then L text tokens), C = Q-Former width, Bi = images, P = image tokens,
// Cv = vision width (the cross-attention memory), F = feed-forward width.

import SafeTensors
import Tensors

/// Multi-head attention of the Q-Former: hidden [B, T, C] attends keys/values [B, Tk, C].
struct Blip2QFormerMultiHeadAttention: Sendable {
    let query: Blip2Linear
    let key: Blip2Linear
    let value: Blip2Linear
    let heads: Int
    /// head_dim^-0.5, as upstream's `self.scaling`.
    let scale: Float

    /// `isCrossAttention`: keys and values read the image tokens (width `encoderHiddenSize`).
    init(config: Blip2QFormerConfig, weights: WeightScope, isCrossAttention: Bool) throws(Blip2ModelError) {
        let c = config.hiddenSize
        let source = isCrossAttention ? config.encoderHiddenSize : c
        query = try Blip2Linear(weights.scope("query"), inFeatures: c, outFeatures: c)
        key = try Blip2Linear(weights.scope("key"), inFeatures: source, outFeatures: c)
        value = try Blip2Linear(weights.scope("value"), inFeatures: source, outFeatures: c)
        heads = config.numAttentionHeads
        scale = Float(1 / Double(config.headDim).squareRoot())
    }

    /// Keys and values of `source` [B, Tk, Cv or C] -> ([B, Tk, C], [B, Tk, C]).
    func keysAndValues(_ source: Tensor) -> (Tensor, Tensor) {
        (key(source), value(source))
    }

    /// hidden [B, T, C] attending `keys`/`values` [B, Tk, C] under an additive `mask` broadcastable to
    /// [B, H, T, Tk] -> context [B, T, C] (heads merged, before the output projection).
    func attend(_ hidden: Tensor, keys: Tensor, values: Tensor, mask: Tensor?) -> Tensor {
        Kernels.attention(query: query(hidden), key: keys, value: values, heads: heads, scale: scale, mask: mask)
    }

    /// Self-attention: hidden [B, T, C] -> [B, T, C].
    func callAsFunction(_ hidden: Tensor, mask: Tensor?) -> Tensor {
        let (k, v) = keysAndValues(hidden)
        return attend(hidden, keys: k, values: v, mask: mask)
    }
}
