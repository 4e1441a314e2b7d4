// Follows `Blip2QFormerAttention` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): multi-head
// attention (`attention.*`) plus its post-LN output block (`output.*`). Shapes: see
// Blip2QFormerMultiHeadAttention.

import SafeTensors
import Tensors

/// Self- or cross-attention sub-layer of a Q-Former layer, residual and LayerNorm included.
struct Blip2QFormerAttention: Sendable {
    let attention: Blip2QFormerMultiHeadAttention
    let output: Blip2QFormerSelfOutput

    init(config: Blip2QFormerConfig, weights: WeightScope, isCrossAttention: Bool) throws(Blip2ModelError) {
        attention = try Blip2QFormerMultiHeadAttention(
            config: config, weights: weights.scope("attention"), isCrossAttention: isCrossAttention)
        output = try Blip2QFormerSelfOutput(config: config, weights: weights.scope("output"))
    }

    /// Self-attention: hidden [B, T, C] under an additive mask broadcastable to [B, H, T, T] -> [B, T, C].
    func callAsFunction(_ hidden: Tensor, mask: Tensor?) -> Tensor {
        output(attention(hidden, mask: mask), input: hidden)
    }

    /// Cross-attention: hidden [B, Tq, C] attends precomputed image keys/values [B, P, C] (every image
    /// token is valid in BLIP-2, so there is no mask) -> [B, Tq, C].
    func callAsFunction(_ hidden: Tensor, keys: Tensor, values: Tensor) -> Tensor {
        output(attention.attend(hidden, keys: keys, values: values, mask: nil), input: hidden)
    }
}
