// Mirrors transformers `OPTDecoderLayer` (models/opt/modeling_opt.py, 5.23.0).
// Legend: N = new positions of all rows of a step, C = model width, F = ffn_dim.

import Foundation
import SafeTensors
import Tensors

/// One OPT block: self-attention and a two-layer feed-forward, each in a residual, with the LayerNorms
/// before (`do_layer_norm_before`, every released size but 350m) or after the residual add.
public struct OPTDecoderLayer: Sendable {
    /// The self-attention.
    public let selfAttn: OPTAttention
    /// `self_attn_layer_norm` weight and bias [C] (absent without `layer_norm_elementwise_affine`).
    public let selfAttnLayerNorm: (weight: Tensor, bias: Tensor)
    /// `fc1` [F, C] + [F], `fc2` [C, F] + [C].
    public let fc1: Tensor, fc1Bias: Tensor?, fc2: Tensor, fc2Bias: Tensor?
    /// `final_layer_norm` weight and bias [C].
    public let finalLayerNorm: (weight: Tensor, bias: Tensor)
    /// Pre-LN (true) or post-LN.
    public let doLayerNormBefore: Bool
    /// The FFN nonlinearity (ReLU for OPT).
    public let activation: ActivationFunction

    /// Loads the block from `weights` (the `layers.{i}` scope).
    public init(config: OPTConfig, weights: WeightScope) throws(SafeTensorsError) {
        let (c, f) = (config.hiddenSize, config.ffnDim)
        selfAttn = try OPTAttention(config: config, weights: weights.scope("self_attn"))
        selfAttnLayerNorm = try Self.layerNorm(config, weights.scope("self_attn_layer_norm"))
        finalLayerNorm = try Self.layerNorm(config, weights.scope("final_layer_norm"))
        fc1 = try weights.tensor("fc1.weight", shape: [f, c])
        fc2 = try weights.tensor("fc2.weight", shape: [c, f])
        fc1Bias = config.enableBias ? try weights.tensor("fc1.bias", shape: [f]) : nil
        fc2Bias = config.enableBias ? try weights.tensor("fc2.bias", shape: [c]) : nil
        doLayerNormBefore = config.doLayerNormBefore
        activation = config.activationFunction
    }

    /// A LayerNorm's affine parameters; without `layer_norm_elementwise_affine` the identity (ones, zeros).
    static func layerNorm(
        _ config: OPTConfig, _ weights: WeightScope, width: Int? = nil
    ) throws(SafeTensorsError) -> (weight: Tensor, bias: Tensor) {
        let c = width ?? config.hiddenSize
        guard config.layerNormElementwiseAffine else {
            return (Tensor(shape: [c], repeating: 1), Tensor(zeros: [c]))
        }
        return (try weights.tensor("weight", shape: [c]), try weights.tensor("bias", shape: [c]))
    }

    /// `hidden` [N, C] → [N, C]; see `OPTAttention.callAsFunction` for `caches` and `counts`.
    func callAsFunction(_ hidden: Tensor, layer: Int, caches: inout [KVCache], counts: [Int]) -> Tensor {
        let eps = Float(OPTConfig.layerNormEps)
        var h = hidden
        var x = doLayerNormBefore
            ? Kernels.layerNorm(h, weight: selfAttnLayerNorm.weight, bias: selfAttnLayerNorm.bias, eps: eps) : h
        x = selfAttn(x, layer: layer, caches: &caches, counts: counts)
        Kernels.addInPlace(&h, x)
        if !doLayerNormBefore {
            h = Kernels.layerNorm(h, weight: selfAttnLayerNorm.weight, bias: selfAttnLayerNorm.bias, eps: eps)
        }
        x = doLayerNormBefore
            ? Kernels.layerNorm(h, weight: finalLayerNorm.weight, bias: finalLayerNorm.bias, eps: eps) : h
        x = Kernels.linear(x, weight: fc1, bias: fc1Bias)
        Self.activate(&x, activation)
        x = Kernels.linear(x, weight: fc2, bias: fc2Bias)
        Kernels.addInPlace(&h, x)
        if !doLayerNormBefore {
            h = Kernels.layerNorm(h, weight: finalLayerNorm.weight, bias: finalLayerNorm.bias, eps: eps)
        }
        return h
    }

    static func activate(_ x: inout Tensor, _ activation: ActivationFunction) {
        switch activation {
        case .relu: Kernels.reluInPlace(&x)
        case .gelu: Kernels.geluInPlace(&x)
        case .geluNew:
            // transformers `NewGELUActivation`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
            let k = (2 / Double.pi).squareRoot()
            x.withUnsafeMutableBufferPointer { xs in
                for i in xs.indices {
                    let v = Double(xs[i])
                    xs[i] = Float(0.5 * v * (1 + tanh(k * (v + 0.044715 * v * v * v))))
                }
            }
        }
    }
}
