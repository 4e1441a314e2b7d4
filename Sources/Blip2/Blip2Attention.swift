// Follows `Blip2Attention` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): the ViT's
// self-attention with one fused `qkv` Linear and an output `projection`. Shapes: see Blip2VisionEmbeddings.

import SafeTensors
import Tensors

/// Multi-head self-attention of a vision block: x [B, P, C] -> [B, P, C].
///
/// The checkpoint stores one `qkv.weight` [3C, C] and one `qkv.bias` [3C] (transformers' conversion
/// concatenates LAVIS's `q_bias | 0 | v_bias`; model-reference §1.2). q, k and v are the contiguous thirds
/// of the fused output, so each is a zero-copy row slice of the weight and bias, run as its own GEMM:
/// that feeds `Kernels.attention` three [B, P, C] operands without splitting a [B, P, 3C] result. The K
/// third of the bias is used as stored (zero in the released weights, not in our fixtures).
struct Blip2Attention: Sendable {
    let query: Blip2Linear
    let key: Blip2Linear
    let value: Blip2Linear
    let projection: Blip2Linear
    let heads: Int
    /// head_dim^-0.5, as upstream's `self.scale`.
    let scale: Float

    init(config: Blip2VisionConfig, weights: WeightScope) throws(Blip2ModelError) {
        let c = config.hiddenSize
        let fused = try Blip2Linear(weights.scope("qkv"), inFeatures: c, outFeatures: 3 * c, hasBias: config.qkvBias)
        func third(_ i: Int) -> Blip2Linear {
            let rows = (i * c)..<((i + 1) * c)
            return Blip2Linear(weight: fused.weight.slice(axis: 0, rows), bias: fused.bias?.slice(axis: 0, rows))
        }
        query = third(0)
        key = third(1)
        value = third(2)
        projection = try Blip2Linear(weights.scope("projection"), inFeatures: c, outFeatures: c)
        heads = config.numAttentionHeads
        scale = Float(1 / Double(config.headDim).squareRoot())
    }

    /// x: [B, P, C] -> [B, P, C].
    func callAsFunction(_ x: Tensor) -> Tensor {
        let context = Kernels.attention(query: query(x), key: key(x), value: value(x), heads: heads, scale: scale)
        return projection(context)
    }
}
