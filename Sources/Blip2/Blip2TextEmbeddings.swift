// Follows `Blip2TextEmbeddings` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): word plus
// absolute position embeddings (positions restart at 0 for the text), with the query tokens concatenated in
// front for the joint pass. No LayerNorm here: the Q-Former's input `layernorm` normalises the whole input.
// Shapes: see Blip2QFormerMultiHeadAttention.

import SafeTensors
import Tensors

/// Text embeddings of the retrieval checkpoints (top-level `embeddings.*`): ids [T, L] -> [T, L, C], or
/// [T, Q + L, C] with query tokens in front.
public struct Blip2TextEmbeddings: Sendable {
    /// [V, C]
    let wordEmbeddings: Tensor
    /// [maxPositions, C]
    let positionEmbeddings: Tensor

    /// Reads `word_embeddings.weight` and `position_embeddings.weight` under `weights`.
    public init(config: Blip2QFormerConfig, weights: WeightScope) throws(Blip2ModelError) {
        let c = config.hiddenSize
        (wordEmbeddings, positionEmbeddings) = try Blip2ModelError.loading { () throws(SafeTensorsError) in
            (try weights.tensor("word_embeddings.weight", shape: [config.vocabSize, c]),
             try weights.tensor("position_embeddings.weight", shape: [config.maxPositionEmbeddings, c]))
        }
    }

    /// Longest text the position table covers.
    public var maxLength: Int { positionEmbeddings.shape[0] }

    /// Embeds `tokens`; with `queryEmbeds` [T, Q, C] (the query tokens, one copy per sequence) in front.
    /// Throws `invalidInput` for an id outside the vocabulary or a text longer than `maxLength`.
    public func callAsFunction(
        _ tokens: Blip2TokenBatch, queryEmbeds: Tensor? = nil
    ) throws(Blip2ModelError) -> Tensor {
        let (t, l) = (tokens.count, tokens.length)
        let c = wordEmbeddings.shape[1]
        guard l <= maxLength else {
            throw .invalidInput("text of \(l) tokens is longer than the \(maxLength) positions of the Q-Former")
        }
        var words: Tensor
        do {
            words = try Kernels.gatherRows(wordEmbeddings, indices: tokens.ids)  // [T*L, C]
        } catch {
            throw .invalidInput("token id \(Self.badID(error)) is outside the vocabulary of "
                + "\(wordEmbeddings.shape[0]) ids")
        }
        words = words.reshaped([t, l, c])
        Kernels.addInPlace(&words, positionEmbeddings.slice(axis: 0, 0..<l))  // [L, C] broadcast over T
        guard let queryEmbeds else { return words }
        guard queryEmbeds.rank == 3, queryEmbeds.shape[0] == t, queryEmbeds.shape[2] == c else {
            throw .invalidInput("query embeddings have shape \(queryEmbeds.shape), expected [\(t), Q, \(c)]")
        }
        return Tensor.concatenate([queryEmbeds, words], axis: 1)
    }

    private static func badID(_ error: TensorError) -> Int {
        switch error { case let .indexOutOfRange(index, _): return index }
    }
}
