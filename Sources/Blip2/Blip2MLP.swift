// Follows `Blip2MLP` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): fc1, activation, fc2.
// Shapes: see Blip2VisionEmbeddings.

import SafeTensors
import Tensors

/// The feed-forward block of a vision layer: x [B, P, C] -> [B, P, F] -> [B, P, C].
struct Blip2MLP: Sendable {
    let fc1: Blip2Linear
    let fc2: Blip2Linear
    let activation: ActivationFunction

    init(config: Blip2VisionConfig, weights: WeightScope) throws(Blip2ModelError) {
        fc1 = try Blip2Linear(weights.scope("fc1"), inFeatures: config.hiddenSize, outFeatures: config.intermediateSize)
        fc2 = try Blip2Linear(weights.scope("fc2"), inFeatures: config.intermediateSize, outFeatures: config.hiddenSize)
        activation = config.hiddenAct
    }

    /// x: [B, P, C] -> [B, P, C].
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = fc1(x)  // [B, P, F]
        activation.applyInPlace(&h)
        return fc2(h)
    }
}
