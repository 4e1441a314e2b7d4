// Where every BLIP-2 component's weights live in a Hugging Face checkpoint, and the strict-loading rule.
// The published checkpoints (model-reference §1.2–1.4) are saved by transformers with the module tree's own
// names: there are no renames, splits or transposes to apply (transformers 5.x has no BLIP-2 conversion
// mapping either, model-reference §7.1), so this file holds the top-level prefixes, the keys deliberately
// ignored, and the check that nothing else was left unread. The fused vision `qkv` weight and bias are split
// into thirds by `Blip2Attention` (zero-copy row slices), not here, because they stay one stored tensor.

import Foundation
import SafeTensors

/// Top-level key prefixes of BLIP-2 checkpoints, and loading a model directory strictly.
public enum Blip2Checkpoint {
    /// The vision tower (`Blip2VisionModel`).
    public static let visionModelPrefix = "vision_model"
    /// The learned query tokens [1, Q, C].
    public static let queryTokensKey = "query_tokens"
    /// The Q-Former (`Blip2QFormerModel`).
    public static let qformerPrefix = "qformer"
    /// The Q-Former's text embeddings (`Blip2TextEmbeddings`), at the top level in retrieval checkpoints.
    public static let textEmbeddingsPrefix = "embeddings"
    /// ITC image projection of the retrieval head.
    public static let visionProjectionPrefix = "vision_projection"
    /// ITC text projection of the retrieval head.
    public static let textProjectionPrefix = "text_projection"
    /// The 2-way image–text matching head.
    public static let itmHeadPrefix = "itm_head"
    /// Projection of the query output to the language model's width (generation checkpoints).
    public static let languageProjectionPrefix = "language_projection"
    /// The language model (generation checkpoints).
    public static let languageModelPrefix = "language_model"

    /// Keys accepted but not used, reported instead of failing: the `position_ids` buffer of the text
    /// embeddings, which transformers versions before it became non-persistent wrote into checkpoints (it is
    /// always `arange(max_positions)`, which `Blip2TextEmbeddings` uses implicitly).
    public static let ignoredKeys: Set<String> = [textEmbeddingsPrefix + ".position_ids"]

    /// Reads `config.json` and opens the weights (`model.safetensors`, or the shard index) of `directory`.
    public static func open(directory: String) throws(Blip2ModelError) -> (config: Blip2Config, weights: WeightStore) {
        let config: Blip2Config
        do {
            config = try Blip2Config.load(from: URL(fileURLWithPath: directory).appendingPathComponent("config.json"))
        } catch {
            throw .config(error)
        }
        let store = try Blip2ModelError.loading { () throws(SafeTensorsError) in try WeightStore(directory: directory) }
        return (config, store)
    }

    /// The strict-loading check, once every component has read its weights: returns the deliberately ignored
    /// keys present (`ignoredKeys`, for a warning), and throws `unexpectedKeys` listing every other key no
    /// component read.
    public static func finishLoading(_ store: WeightStore) throws(Blip2ModelError) -> [String] {
        let unused = store.unusedKeys
        let unexpected = unused.filter { !ignoredKeys.contains($0) }
        guard unexpected.isEmpty else { throw .unexpectedKeys(unexpected) }
        return unused
    }
}
