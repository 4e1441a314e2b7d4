// Follows `Blip2QFormerIntermediate` in transformers/models/blip_2/modeling_blip_2.py (5.23.0) (BERT's
// BertIntermediate): dense then activation. Shapes: see Blip2QFormerMultiHeadAttention.

import SafeTensors
import Tensors

/// First half of a Q-Former feed-forward (`intermediate` or `intermediate_query`): [B, T, C] -> [B, T, F].
struct Blip2QFormerIntermediate: Sendable {
    let dense: Blip2Linear
    let activation: ActivationFunction

    init(config: Blip2QFormerConfig, weights: WeightScope) throws(Blip2ModelError) {
        dense = try Blip2Linear(
            weights.scope("dense"), inFeatures: config.hiddenSize, outFeatures: config.intermediateSize)
        activation = config.hiddenAct
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = dense(x)
        activation.applyInPlace(&h)
        return h
    }
}
