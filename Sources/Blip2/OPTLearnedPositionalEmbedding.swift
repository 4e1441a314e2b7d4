// Mirrors transformers `OPTLearnedPositionalEmbedding` (models/opt/modeling_opt.py, 5.23.0).
// Legend: N = positions looked up, C = model width, P = max_position_embeddings.

import SafeTensors
import Tensors

/// OPT's learned position table, indexed by position + 2 (a fairseq legacy: rows 0 and 1 were reserved).
///
/// Positions count only attended tokens (upstream: `cumsum(attention_mask) - 1`), so left padding never
/// shifts them; callers pass the positions of real tokens only.
public struct OPTLearnedPositionalEmbedding: Sendable {
    /// `weight` [P + 2, C].
    public let weight: Tensor

    /// Loads `weight` from `weights` (the `embed_positions` scope).
    public init(config: OPTConfig, weights: WeightScope) throws(SafeTensorsError) {
        weight = try weights.tensor(
            "weight", shape: [config.maxPositionEmbeddings + OPTConfig.positionOffset, config.hiddenSize])
    }

    /// Highest position the table covers.
    public var maxPosition: Int { weight.shape[0] - OPTConfig.positionOffset - 1 }

    /// The embeddings [N, C] of `positions` (0-based, each ≤ `maxPosition`).
    public func callAsFunction(positions: [Int]) throws(TensorError) -> Tensor {
        try Kernels.gatherRows(weight, indices: positions.map { $0 + OPTConfig.positionOffset })
    }
}
