// Mirrors transformers `OPTDecoder` (models/opt/modeling_opt.py, 5.23.0).
// Legend: N = new positions of all rows of a step, C = hidden_size, W = word_embed_proj_dim, V = vocab.

import SafeTensors
import Tensors

/// The OPT stack: token + learned position embeddings, the blocks, the final LayerNorm (pre-LN models
/// only) and the optional `project_in`/`project_out` between the embedding width W and the model width C.
public struct OPTDecoder: Sendable {
    /// The validated configuration.
    public let config: OPTConfig
    /// `embed_tokens.weight` [V, W].
    public let embedTokens: Tensor
    /// `embed_positions`.
    public let embedPositions: OPTLearnedPositionalEmbedding
    /// `project_in` [C, W] and `project_out` [W, C], present only when W ≠ C (OPT-350m style).
    public let projectIn: Tensor?, projectOut: Tensor?
    /// `final_layer_norm` [C], absent in post-LN models and with `_remove_final_layer_norm`.
    public let finalLayerNorm: (weight: Tensor, bias: Tensor)?
    /// The blocks.
    public let layers: [OPTDecoderLayer]

    /// Loads the decoder from `weights` (the `model.decoder` scope of `OPTForCausalLM`).
    public init(config: OPTConfig, weights: WeightScope) throws(SafeTensorsError) {
        self.config = config
        let (c, w) = (config.hiddenSize, config.wordEmbedProjDim)
        embedTokens = try weights.tensor("embed_tokens.weight", shape: [config.vocabSize, w])
        embedPositions = try OPTLearnedPositionalEmbedding(config: config, weights: weights.scope("embed_positions"))
        if config.hasEmbeddingProjection {
            projectIn = try weights.tensor("project_in.weight", shape: [c, w])
            projectOut = try weights.tensor("project_out.weight", shape: [w, c])
        } else {
            (projectIn, projectOut) = (nil, nil)
        }
        finalLayerNorm = config.doLayerNormBefore && !config.removeFinalLayerNorm
            ? try OPTDecoderLayer.layerNorm(config, weights.scope("final_layer_norm")) : nil
        var layers: [OPTDecoderLayer] = []
        for i in 0..<config.numHiddenLayers {
            layers.append(try OPTDecoderLayer(config: config, weights: weights.scope("layers.\(i)")))
        }
        self.layers = layers
    }

    /// A fresh cache for one sequence with room for `capacity` positions.
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: config.numHiddenLayers, width: config.hiddenSize, capacity: capacity)
    }

    /// Token embeddings [N, W] of `ids`; an id outside the vocabulary throws.
    public func embed(_ ids: [Int]) throws(TensorError) -> Tensor {
        try Kernels.gatherRows(embedTokens, indices: ids)
    }

    /// Runs the new positions of several sequences in one pass.
    ///
    /// - inputsEmbeds: [N, W], the new positions of every row concatenated; `counts[i]` of them belong to
    ///   `caches[i]`, which holds that row's past (positions continue from its length).
    /// - returns: the last hidden state [N, W]; every cache has advanced by its count.
    /// - throws: when a position passes the position table.
    public func callAsFunction(
        _ inputsEmbeds: Tensor, caches: inout [KVCache], counts: [Int]
    ) throws(TensorError) -> Tensor {
        precondition(caches.count == counts.count && counts.reduce(0, +) == inputsEmbeds.shape[0],
                     "OPTDecoder: \(counts) rows for \(inputsEmbeds.shape)")
        var positions: [Int] = []
        positions.reserveCapacity(inputsEmbeds.shape[0])
        for (cache, n) in zip(caches, counts) { positions += cache.length..<(cache.length + n) }
        let positionEmbeds = try embedPositions(positions: positions)
        for i in caches.indices { caches[i].reserve(counts[i]) }
        // h: [N, C]
        var h = projectIn.map { Kernels.linear(inputsEmbeds, weight: $0) } ?? inputsEmbeds
        Kernels.addInPlace(&h, positionEmbeds)
        for (index, layer) in layers.enumerated() {
            h = layer(h, layer: index, caches: &caches, counts: counts)
        }
        for i in caches.indices { caches[i].advance(by: counts[i]) }
        if let finalLayerNorm {
            h = Kernels.layerNorm(h, weight: finalLayerNorm.weight, bias: finalLayerNorm.bias,
                                  eps: Float(OPTConfig.layerNormEps))
        }
        return projectOut.map { Kernels.linear(h, weight: $0) } ?? h
    }
}
