// Mirrors transformers `OPTAttention` (models/opt/modeling_opt.py, 5.23.0) with the eager attention path.
// Legend: N = new positions of all rows of a step, n = new positions of one row, K = its cached plus new
// positions, C = model width, H = heads.

import SafeTensors
import Tensors

/// Causal multi-head self-attention with a per-sequence KV cache.
///
/// The four projections run once over the new positions of every sequence in the step (one GEMM each);
/// attention then runs per sequence against its own cache, so sequences of different lengths need no
/// padding or padding masks.
public struct OPTAttention: Sendable {
    /// `q_proj`, `k_proj`, `v_proj`, `out_proj` weights [C, C].
    public let qProj: Tensor, kProj: Tensor, vProj: Tensor, outProj: Tensor
    /// Their biases [C] (absent when `enable_bias` is false).
    public let qBias: Tensor?, kBias: Tensor?, vBias: Tensor?, outBias: Tensor?
    /// Attention heads.
    public let heads: Int
    /// `head_dim ** -0.5`; upstream multiplies the projected queries (after the bias) by it.
    public let scaling: Float

    /// Loads the projections from `weights` (the `self_attn` scope).
    public init(config: OPTConfig, weights: WeightScope) throws(SafeTensorsError) {
        let c = config.hiddenSize
        func linear(_ name: String) throws(SafeTensorsError) -> (Tensor, Tensor?) {
            let w = try weights.tensor(name + ".weight", shape: [c, c])
            let b = config.enableBias ? try weights.tensor(name + ".bias", shape: [c]) : nil
            return (w, b)
        }
        (qProj, qBias) = try linear("q_proj")
        (kProj, kBias) = try linear("k_proj")
        (vProj, vBias) = try linear("v_proj")
        (outProj, outBias) = try linear("out_proj")
        heads = config.numAttentionHeads
        scaling = 1 / Float(config.headDim).squareRoot()
    }

    /// Attends the new positions `hidden` [N, C] of every row; `counts[i]` rows of `hidden` belong to
    /// `caches[i]`, in order. Writes their keys and values into layer `layer` of each cache (the caller
    /// advances the caches after the last layer). Returns [N, C].
    func callAsFunction(_ hidden: Tensor, layer: Int, caches: inout [KVCache], counts: [Int]) -> Tensor {
        // q, k, v: [N, C]
        var q = Kernels.linear(hidden, weight: qProj, bias: qBias)
        Kernels.scaleInPlace(&q, by: scaling)
        let k = Kernels.linear(hidden, weight: kProj, bias: kBias)
        let v = Kernels.linear(hidden, weight: vProj, bias: vBias)
        let width = hidden.shape[1]
        var merged = Tensor(zeros: hidden.shape)
        var start = 0
        for (row, n) in counts.enumerated() {
            let rows = start..<(start + n)
            caches[row].write(layer: layer, keys: k.slice(axis: 0, rows), values: v.slice(axis: 0, rows))
            let past = caches[row].length
            let total = past + n
            // The new positions are the last n of K: query i sees keys 0...past + i.
            let out = Kernels.attention(
                query: q.slice(axis: 0, rows).reshaped([1, n, width]),
                key: caches[row].keys[layer], value: caches[row].values[layer], heads: heads, scale: 1,
                mask: n > 1 ? Kernels.causalMask(queryLength: n, keyLength: total) : nil, keyLength: total)
            merged.update(axis: 0, at: start, from: out.reshaped([n, width]))
            start += n
        }
        return Kernels.linear(merged, weight: outProj, bias: outBias)
    }
}
