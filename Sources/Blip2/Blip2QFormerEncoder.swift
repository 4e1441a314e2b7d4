// Follows `Blip2QFormerEncoder` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): the layers
// under `encoder.layer.{i}`. Shapes: see Blip2QFormerMultiHeadAttention.

import SafeTensors
import Tensors

/// The Q-Former layers in order: [B, T, C] -> [B, T, C]; records `layer.{i}` (each layer's output).
struct Blip2QFormerEncoder: Sendable {
    let layers: [Blip2QFormerLayer]

    init(config: Blip2QFormerConfig, weights: WeightScope) throws(Blip2ModelError) {
        var layers: [Blip2QFormerLayer] = []
        layers.reserveCapacity(config.numHiddenLayers)
        for i in 0..<config.numHiddenLayers {
            layers.append(try Blip2QFormerLayer(config: config, index: i, weights: weights.scope("layer.\(i)")))
        }
        self.layers = layers
    }

    func callAsFunction(
        _ hidden: Tensor, queryLength: Int, mask: Tensor?, memory: Blip2QFormerImageMemory?, trace: Blip2Trace?
    ) -> Tensor {
        var h = hidden
        for (i, layer) in layers.enumerated() {
            h = layer(h, queryLength: queryLength, mask: mask, memory: memory)
            trace?.record("layer.\(i)", h)
        }
        return h
    }
}
