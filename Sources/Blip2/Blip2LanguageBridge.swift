// The part of transformers `Blip2ForConditionalGeneration` (models/blip_2/modeling_blip_2.py, 5.23.0)
// between the Q-Former and the language model: `language_projection`, the processor's image-placeholder
// expansion, and the `masked_scatter` stitch in `generate`/`forward`.
// Legend: B = images, Q = query tokens, Cq = Q-Former width, T = input length, W = language model embedding
// width.

import SafeTensors
import Tensors

/// Turns Q-Former query outputs into language-model inputs: projects them, builds the input ids with
/// the `<image>` placeholders first, and puts the projected queries where the placeholders are.
public struct Blip2LanguageBridge: Sendable {
    /// `language_projection.weight` [W, Cq] and `.bias` [W].
    public let projectionWeight: Tensor, projectionBias: Tensor
    /// Id of `<image>` (`image_token_index`).
    public let imageTokenIndex: Int
    /// Q.
    public let numQueryTokens: Int
    /// BOS appended after the placeholders when there is no prompt (the text config's `bos_token_id`).
    public let bosTokenID: Int?

    /// Loads `language_projection` from the checkpoint root `weights`; `config` must have an OPT text config
    /// and an `image_token_index` (every checkpoint saved by transformers ≥ 4.47).
    public init(config: Blip2Config, weights: WeightScope) throws {
        guard case let .opt(text)? = config.textConfig else {
            throw GenerationError.unsupported("a language model other than OPT")
        }
        guard let image = config.imageTokenIndex else {
            throw GenerationError.unsupported("a checkpoint without image_token_index (saved before 4.47)")
        }
        let (w, cq) = (text.wordEmbedProjDim, config.qformerConfig.hiddenSize)
        projectionWeight = try weights.tensor("language_projection.weight", shape: [w, cq])
        projectionBias = try weights.tensor("language_projection.bias", shape: [w])
        imageTokenIndex = image
        numQueryTokens = config.numQueryTokens
        bosTokenID = text.bosTokenID
    }

    /// `language_projection(queryOutput)`: [B, Q, Cq] → [B, Q, W].
    public func project(_ queryOutput: Tensor) -> Tensor {
        Kernels.linear(queryOutput, weight: projectionWeight, bias: projectionBias)
    }

    /// The input ids of one image: Q placeholders, then the tokenized prompt (which starts with BOS), or
    /// BOS alone when there is no prompt, as `Blip2Processor` and `generate` build them.
    public func inputIDs(prompt: [Int]?) throws(GenerationError) -> [Int] {
        let placeholders = [Int](repeating: imageTokenIndex, count: numQueryTokens)
        if let prompt, !prompt.isEmpty { return placeholders + prompt }
        guard let bosTokenID else {
            throw .invalidOption(option: "bos_token_id", reason: "needed to generate without a prompt")
        }
        return placeholders + [bosTokenID]
    }

    /// The generation inputs of a batch: `ids[b]` (with `mask[b]`, all ones when nil) gets its embeddings
    /// from `decoder.embed_tokens`, and its Q placeholder rows replaced, in order, by `projected[b]` [Q, W].
    ///
    /// transformers scatters the projected queries over all placeholders of the batch in row-major order
    /// without checking counts; here each row must hold exactly Q placeholders, so no image can leak into
    /// another row.
    public func inputs(
        ids: [[Int]], mask: [[Int]]? = nil, projected: Tensor,
        decoder: OPTDecoder
    ) throws(GenerationError) -> [GenerationInput] {
        guard projected.rank == 3, projected.shape[0] == ids.count, projected.shape[1] == numQueryTokens,
              projected.shape[2] == projectionWeight.shape[0] else {
            throw .shapeMismatch("\(ids.count) id rows vs projected queries \(projected.shape)")
        }
        if let mask, mask.count != ids.count { throw .shapeMismatch("\(mask.count) mask rows, \(ids.count) id rows") }
        var result: [GenerationInput] = []
        for (b, row) in ids.enumerated() {
            let placeholders = row.indices.filter { row[$0] == imageTokenIndex }
            guard placeholders.count == numQueryTokens else {
                throw .placeholderCount(row: b, got: placeholders.count, expected: numQueryTokens)
            }
            let vocabSize = decoder.config.vocabSize
            if let bad = row.first(where: { $0 < 0 || $0 >= vocabSize }) {
                throw .tokenOutOfRange(id: bad, vocabSize: vocabSize)
            }
            // E: [T, W]; the ids are in range, so the gather cannot fail.
            guard var e = try? decoder.embed(row) else { throw .tokenOutOfRange(id: -1, vocabSize: vocabSize) }
            let queries = projected.slice(axis: 0, b..<(b + 1)).reshaped([numQueryTokens, projected.shape[2]])
            for (j, position) in placeholders.enumerated() {
                e.update(axis: 0, at: position, from: queries.slice(axis: 0, j..<(j + 1)))
            }
            let rowMask = mask?[b] ?? [Int](repeating: 1, count: row.count)
            result.append(GenerationInput(ids: row, attentionMask: rowMask, embeddings: e))
        }
        return result
    }
}
