// Follows `Blip2Encoder` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): the stack of vision
// blocks under `encoder.layers.{i}`. Shapes: see Blip2VisionEmbeddings.

import SafeTensors
import Tensors

/// The vision blocks in order. x: [B, P, C] -> [B, P, C]; records `layer.{i}` (each block's output).
struct Blip2Encoder: Sendable {
    let layers: [Blip2EncoderLayer]

    init(config: Blip2VisionConfig, weights: WeightScope) throws(Blip2ModelError) {
        var layers: [Blip2EncoderLayer] = []
        layers.reserveCapacity(config.numHiddenLayers)
        for i in 0..<config.numHiddenLayers {
            layers.append(try Blip2EncoderLayer(config: config, weights: weights.scope("layers.\(i)")))
        }
        self.layers = layers
    }

    func callAsFunction(_ x: Tensor, trace: Blip2Trace?) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            trace?.record("layer.\(i)", h)
        }
        return h
    }
}
