// Follows `Blip2EncoderLayer` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): a pre-LN ViT
// block. Shapes: see Blip2VisionEmbeddings.

import SafeTensors
import Tensors

/// One vision block: `h = x + attn(LN1(x))`, `out = h + mlp(LN2(h))`. x: [B, P, C] -> [B, P, C].
struct Blip2EncoderLayer: Sendable {
    let layerNorm1: Blip2LayerNorm
    let selfAttn: Blip2Attention
    let layerNorm2: Blip2LayerNorm
    let mlp: Blip2MLP

    init(config: Blip2VisionConfig, weights: WeightScope) throws(Blip2ModelError) {
        let c = config.hiddenSize
        layerNorm1 = try Blip2LayerNorm(weights.scope("layer_norm1"), width: c, eps: config.layerNormEps)
        selfAttn = try Blip2Attention(config: config, weights: weights.scope("self_attn"))
        layerNorm2 = try Blip2LayerNorm(weights.scope("layer_norm2"), width: c, eps: config.layerNormEps)
        mlp = try Blip2MLP(config: config, weights: weights.scope("mlp"))
    }

    /// x: [B, P, C] -> [B, P, C].
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = selfAttn(layerNorm1(x))
        Kernels.addInPlace(&h, x)  // residual
        var out = mlp(layerNorm2(h))
        Kernels.addInPlace(&out, h)  // residual
        return out
    }
}
