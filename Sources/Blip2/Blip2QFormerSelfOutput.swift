// Follows `Blip2QFormerSelfOutput` in transformers/models/blip_2/modeling_blip_2.py (5.23.0) (BERT's
// BertSelfOutput): dense, then a post-LN residual. Shapes: see Blip2QFormerMultiHeadAttention.

import SafeTensors
import Tensors

/// `LayerNorm(dense(context) + input)`: context, input [B, T, C] -> [B, T, C].
struct Blip2QFormerSelfOutput: Sendable {
    let dense: Blip2Linear
    let layerNorm: Blip2LayerNorm

    init(config: Blip2QFormerConfig, weights: WeightScope) throws(Blip2ModelError) {
        let c = config.hiddenSize
        dense = try Blip2Linear(weights.scope("dense"), inFeatures: c, outFeatures: c)
        layerNorm = try Blip2LayerNorm(weights.scope("LayerNorm"), width: c, eps: config.layerNormEps)
    }

    func callAsFunction(_ context: Tensor, input: Tensor) -> Tensor {
        var h = dense(context)
        Kernels.addInPlace(&h, input)
        return layerNorm(h)
    }
}
