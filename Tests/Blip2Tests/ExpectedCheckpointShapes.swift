// The tensor names and shapes a checkpoint must have according to its config (model-reference §1.2–1.4).
// Test-only: it proves the config types carry what a loader needs, by matching checkpoints HF wrote.

import Blip2

/// Every tensor `save_pretrained` writes for `config`, with its shape. C = vision width, H = Q-Former
/// width, E = cross-attention memory width, D = ITC width, T = language-model width.
func expectedCheckpointShapes(for config: Blip2Config) -> [String: [Int]] {
    var shapes: [String: [Int]] = [:]
    let vision = config.visionConfig
    let c = vision.hiddenSize
    let v = "vision_model."
    shapes[v + "embeddings.class_embedding"] = [1, 1, c]
    shapes[v + "embeddings.position_embedding"] = [1, vision.numPositions, c]
    shapes[v + "embeddings.patch_embedding.weight"] = [c, Blip2VisionConfig.channelCount,
                                                        vision.patchSize, vision.patchSize]
    shapes[v + "embeddings.patch_embedding.bias"] = [c]
    for i in 0..<vision.numHiddenLayers {
        let l = v + "encoder.layers.\(i)."
        shapes[l + "self_attn.qkv.weight"] = [3 * c, c]
        if vision.qkvBias { shapes[l + "self_attn.qkv.bias"] = [3 * c] }
        shapes[l + "self_attn.projection.weight"] = [c, c]
        shapes[l + "self_attn.projection.bias"] = [c]
        for norm in ["layer_norm1", "layer_norm2"] {
            shapes[l + norm + ".weight"] = [c]
            shapes[l + norm + ".bias"] = [c]
        }
        shapes[l + "mlp.fc1.weight"] = [vision.intermediateSize, c]
        shapes[l + "mlp.fc1.bias"] = [vision.intermediateSize]
        shapes[l + "mlp.fc2.weight"] = [c, vision.intermediateSize]
        shapes[l + "mlp.fc2.bias"] = [c]
    }
    shapes[v + "post_layernorm.weight"] = [c]
    shapes[v + "post_layernorm.bias"] = [c]

    let q = config.qformerConfig
    let h = q.hiddenSize
    shapes["query_tokens"] = [1, config.numQueryTokens, h]
    shapes["qformer.layernorm.weight"] = [h]
    shapes["qformer.layernorm.bias"] = [h]
    func attention(_ prefix: String, memoryWidth: Int) {
        shapes[prefix + "attention.query.weight"] = [h, h]
        shapes[prefix + "attention.key.weight"] = [h, memoryWidth]
        shapes[prefix + "attention.value.weight"] = [h, memoryWidth]
        for name in ["query", "key", "value"] { shapes[prefix + "attention.\(name).bias"] = [h] }
        shapes[prefix + "output.dense.weight"] = [h, h]
        shapes[prefix + "output.dense.bias"] = [h]
        shapes[prefix + "output.LayerNorm.weight"] = [h]
        shapes[prefix + "output.LayerNorm.bias"] = [h]
    }
    func feedForward(_ prefix: String, _ suffix: String) {
        shapes[prefix + "intermediate\(suffix).dense.weight"] = [q.intermediateSize, h]
        shapes[prefix + "intermediate\(suffix).dense.bias"] = [q.intermediateSize]
        shapes[prefix + "output\(suffix).dense.weight"] = [h, q.intermediateSize]
        shapes[prefix + "output\(suffix).dense.bias"] = [h]
        shapes[prefix + "output\(suffix).LayerNorm.weight"] = [h]
        shapes[prefix + "output\(suffix).LayerNorm.bias"] = [h]
    }
    for i in 0..<q.numHiddenLayers {
        let l = "qformer.encoder.layer.\(i)."
        attention(l + "attention.", memoryWidth: h)
        if q.hasCrossAttention(layer: i) { attention(l + "crossattention.", memoryWidth: q.encoderHiddenSize) }
        feedForward(l, "_query")
        if q.useQFormerTextInput { feedForward(l, "") }
    }

    if config.architecture.hasRetrievalHeads {
        shapes["embeddings.word_embeddings.weight"] = [q.vocabSize, h]
        shapes["embeddings.position_embeddings.weight"] = [q.maxPositionEmbeddings, h]
        for head in ["vision_projection", "text_projection"] {
            shapes[head + ".weight"] = [config.imageTextHiddenSize, h]
            shapes[head + ".bias"] = [config.imageTextHiddenSize]
        }
        shapes["itm_head.weight"] = [2, h]
        shapes["itm_head.bias"] = [2]
    }
    if let text = config.textConfig, config.architecture.hasLanguageModel {
        shapes["language_projection.weight"] = [text.hiddenSize, h]
        shapes["language_projection.bias"] = [text.hiddenSize]
        if case let .opt(opt) = text { addOPTShapes(opt, to: &shapes) }
    }
    return shapes
}

private func addOPTShapes(_ opt: OPTConfig, to shapes: inout [String: [Int]]) {
    let d = "language_model.model.decoder."
    let w = opt.hiddenSize
    shapes[d + "embed_tokens.weight"] = [opt.vocabSize, opt.wordEmbedProjDim]
    shapes[d + "embed_positions.weight"] = [opt.maxPositionEmbeddings + OPTConfig.positionOffset, w]
    if opt.doLayerNormBefore, !opt.removeFinalLayerNorm {
        shapes[d + "final_layer_norm.weight"] = [w]
        shapes[d + "final_layer_norm.bias"] = [w]
    }
    for i in 0..<opt.numHiddenLayers {
        let l = d + "layers.\(i)."
        for projection in ["q_proj", "k_proj", "v_proj", "out_proj"] {
            shapes[l + "self_attn.\(projection).weight"] = [w, w]
            shapes[l + "self_attn.\(projection).bias"] = [w]
        }
        for norm in ["self_attn_layer_norm", "final_layer_norm"] {
            shapes[l + norm + ".weight"] = [w]
            shapes[l + norm + ".bias"] = [w]
        }
        shapes[l + "fc1.weight"] = [opt.ffnDim, w]
        shapes[l + "fc1.bias"] = [opt.ffnDim]
        shapes[l + "fc2.weight"] = [w, opt.ffnDim]
        shapes[l + "fc2.bias"] = [w]
    }
    // A tied lm_head is not saved (model-reference addenda); an untied one is.
    if !opt.tieWordEmbeddings { shapes["language_model.lm_head.weight"] = [opt.vocabSize, opt.wordEmbedProjDim] }
}
