// Follows `Blip2QFormerOutput` in transformers/models/blip_2/modeling_blip_2.py (5.23.0) (BERT's
// BertOutput): dense back to the width, then a post-LN residual. Shapes: see Blip2QFormerMultiHeadAttention.

import SafeTensors
import Tensors

/// Second half of a Q-Former feed-forward (`output` or `output_query`):
/// `LayerNorm(dense(h) + input)`, h [B, T, F], input [B, T, C] -> [B, T, C].
struct Blip2QFormerOutput: Sendable {
    let dense: Blip2Linear
    let layerNorm: Blip2LayerNorm

    init(config: Blip2QFormerConfig, weights: WeightScope) throws(Blip2ModelError) {
        dense = try Blip2Linear(
            weights.scope("dense"), inFeatures: config.intermediateSize, outFeatures: config.hiddenSize)
        layerNorm = try Blip2LayerNorm(weights.scope("LayerNorm"), width: config.hiddenSize, eps: config.layerNormEps)
    }

    func callAsFunction(_ h: Tensor, input: Tensor) -> Tensor {
        var out = dense(h)
        Kernels.addInPlace(&out, input)
        return layerNorm(out)
    }
}
