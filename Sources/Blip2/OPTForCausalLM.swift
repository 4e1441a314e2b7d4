// Mirrors transformers `OPTForCausalLM` (models/opt/modeling_opt.py, 5.23.0).
// Legend: N = new positions of all rows of a step, R = rows (sequences), W = word_embed_proj_dim, V = vocab.

import SafeTensors
import Tensors

/// The OPT decoder with its language-model head: logits over the full (padded) vocabulary.
///
/// `lm_head` is tied to `embed_tokens` in every OPT checkpoint and transformers omits tied weights when
/// saving, so it is read from `lm_head.weight` when present and from the embedding table otherwise.
public struct OPTForCausalLM: Sendable {
    /// `model.decoder`.
    public let decoder: OPTDecoder
    /// `lm_head.weight` [V, W].
    public let lmHead: Tensor

    /// The configuration.
    public var config: OPTConfig { decoder.config }

    /// Loads the model from `weights`: the checkpoint root of a standalone OPT, or the `language_model`
    /// scope of a BLIP-2 checkpoint.
    public init(config: OPTConfig, weights: WeightScope) throws(SafeTensorsError) {
        let decoderScope = weights.scope("model.decoder")
        decoder = try OPTDecoder(config: config, weights: decoderScope)
        lmHead = try weights.tensor(
            "lm_head.weight", shape: [config.vocabSize, config.wordEmbedProjDim],
            tiedTo: decoderScope.key("embed_tokens.weight"))
    }

    /// Logits [N, V] of hidden states [N, W].
    public func logits(_ hidden: Tensor) -> Tensor {
        Kernels.linear(hidden, weight: lmHead)
    }

    /// One step for several sequences (see `OPTDecoder.callAsFunction`), returning only the logits of each
    /// row's last new position, [R, V]: all generation needs, and it keeps the largest GEMM to R rows.
    public func nextTokenLogits(
        _ inputsEmbeds: Tensor, caches: inout [KVCache], counts: [Int]
    ) throws(TensorError) -> Tensor {
        let hidden = try decoder(inputsEmbeds, caches: &caches, counts: counts)
        let width = hidden.shape[1]
        var last = Tensor(zeros: [counts.count, width])
        var end = 0
        for (row, n) in counts.enumerated() {
            end += n
            last.update(axis: 0, at: row, from: hidden.slice(axis: 0, (end - 1)..<end))
        }
        return logits(last)
    }
}
