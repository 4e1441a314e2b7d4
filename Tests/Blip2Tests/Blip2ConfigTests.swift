// Published and fixture config.json files parse into the right shapes; the shapes match real checkpoints.

import Blip2
import Foundation
import Testing

@Suite("Blip2Config: published checkpoints")
struct Blip2PublishedConfigTests {
    @Test("blip2-opt-2.7b gives the ViT-g, Q-Former and OPT-2.7b shapes")
    func optConfigGivesPublishedShapes() throws {
        let config = try Blip2Config.load(from: Blip2Fixtures.publishedConfig("blip2-opt-2.7b"))
        #expect(config.architecture == .conditionalGeneration)
        let vision = config.visionConfig
        #expect(vision.hiddenSize == 1408)
        #expect(vision.intermediateSize == 6144)
        #expect(vision.numHiddenLayers == 39)
        #expect(vision.numAttentionHeads == 16)
        #expect(vision.headDim == 88)
        #expect(vision.patchSize == 14)
        #expect(vision.imageSize == 224)
        #expect(vision.numPositions == 257)
        #expect(vision.layerNormEps == 1e-6)
        #expect(vision.hiddenAct == .gelu)
        #expect(vision.qkvBias)

        let qformer = config.qformerConfig
        #expect(qformer.hiddenSize == 768)
        #expect(qformer.numHiddenLayers == 12)
        #expect(qformer.numAttentionHeads == 12)
        #expect(qformer.intermediateSize == 3072)
        #expect(qformer.crossAttentionFrequency == 2)
        #expect(qformer.encoderHiddenSize == 1408)
        #expect(qformer.layerNormEps == 1e-12)
        #expect(qformer.vocabSize == 30522)
        #expect(!qformer.useQFormerTextInput)
        #expect((0..<12).filter(qformer.hasCrossAttention(layer:)) == [0, 2, 4, 6, 8, 10])

        #expect(config.numQueryTokens == 32)
        #expect(config.imageTextHiddenSize == 256)
        #expect(config.imageTokenIndex == 50265)
        #expect(config.useDecoderOnlyLanguageModel)
        #expect(!config.isEncoderDecoder)
        guard case let .opt(opt) = config.textConfig else {
            Issue.record("text_config should be OPT, got \(String(describing: config.textConfig))")
            return
        }
        #expect(opt.hiddenSize == 2560)
        #expect(opt.numHiddenLayers == 32)
        #expect(opt.numAttentionHeads == 32)
        #expect(opt.headDim == 80)
        #expect(opt.ffnDim == 10240)
        // The published file says 50304 (resized for <image>, padded to a multiple of 64), not the
        // OPTConfig default 50272.
        #expect(opt.vocabSize == 50304)
        #expect(opt.maxPositionEmbeddings == 2048)
        #expect(opt.wordEmbedProjDim == 2560)
        #expect(!opt.hasEmbeddingProjection)
        #expect(opt.eosTokenID == 50118)
        #expect(opt.bosTokenID == 2)
        #expect(opt.padTokenID == 1)
        #expect(opt.activationFunction == .relu)
        #expect(opt.doLayerNormBefore)
        #expect(opt.tieWordEmbeddings)
    }

    @Test("blip2-opt-2.7b shapes add up to the published 3.74 B parameters")
    func optConfigParameterCountMatchesPublishedCount() throws {
        let config = try Blip2Config.load(from: Blip2Fixtures.publishedConfig("blip2-opt-2.7b"))
        let shapes = expectedCheckpointShapes(for: config)
        func count(_ prefix: String) -> Int {
            shapes.filter { $0.key.hasPrefix(prefix) }.values.reduce(0) { $0 + $1.reduce(1, *) }
        }
        // model-reference §1.5, computed from the published tensor list.
        #expect(count("") == 3_744_761_856)
        #expect(count("vision_model.") == 985_952_256)
        #expect(count("qformer.") == 105_137_664)  // without query_tokens
        #expect(count("query_tokens") == 32 * 768)
    }

    @Test("blip2-flan-t5-xl gives the Flan-T5-XL shapes with exact GELU")
    func flanT5ConfigGivesPublishedShapes() throws {
        let config = try Blip2Config.load(from: Blip2Fixtures.publishedConfig("blip2-flan-t5-xl"))
        #expect(config.architecture == .conditionalGeneration)
        #expect(config.visionConfig.numPositions == 257)
        #expect(config.qformerConfig.encoderHiddenSize == 1408)
        #expect(config.imageTokenIndex == 32100)
        #expect(config.isEncoderDecoder)
        #expect(!config.useDecoderOnlyLanguageModel)
        guard case let .t5(t5) = config.textConfig else {
            Issue.record("text_config should be T5, got \(String(describing: config.textConfig))")
            return
        }
        #expect(t5.dModel == 2048)
        #expect(t5.dKV == 64)
        #expect(t5.numHeads == 32)
        #expect(t5.innerDim == 2048)
        #expect(t5.dFF == 5120)
        #expect(t5.numLayers == 24)
        #expect(t5.numDecoderLayers == 24)
        #expect(t5.vocabSize == 32128)
        #expect(t5.isGatedAct)
        #expect(t5.denseActFn == .gelu)  // BLIP-2 overrides flan's gelu_new (model-reference §2.7)
        #expect(t5.layerNormEpsilon == 1e-6)
        #expect(t5.relativeAttentionNumBuckets == 32)
        #expect(t5.relativeAttentionMaxDistance == 128)
        #expect(!t5.tieWordEmbeddings)
        #expect(!t5.scalesDecoderOutput)
        #expect(t5.decoderStartTokenID == 0)
        #expect(t5.eosTokenID == 1)
        #expect(t5.padTokenID == 0)
        #expect(t5.bosTokenID == 1)
        #expect(config.textConfig?.hiddenSize == 2048)
    }

    @Test("blip2-itm-vit-g is a retrieval head with the [DEC]-extended Q-Former vocabulary")
    func itmConfigIsRetrievalHead() throws {
        let config = try Blip2Config.load(from: Blip2Fixtures.publishedConfig("blip2-itm-vit-g"))
        #expect(config.architecture == .imageTextRetrieval)
        #expect(config.architecture.hasRetrievalHeads)
        #expect(!config.architecture.hasLanguageModel)
        #expect(config.textConfig == nil)
        #expect(config.imageTokenIndex == nil)
        #expect(config.qformerConfig.vocabSize == 30523)
        #expect(config.qformerConfig.useQFormerTextInput)
        #expect(config.qformerConfig.encoderHiddenSize == 1408)
        #expect(config.imageTextHiddenSize == 256)
        #expect(config.numQueryTokens == 32)
        #expect(config.visionConfig.numPositions == 257)
    }

    @Test("A checkpoint directory is read through its config.json", arguments: Blip2Fixtures.tinyNames)
    func loadAcceptsCheckpointDirectory(name: String) throws {
        let fromDirectory = try Blip2Config.load(from: Blip2Fixtures.tiny(name, "model"))
        let fromFile = try Blip2Config.load(from: Blip2Fixtures.tiny(name, "model/config.json"))
        #expect(fromDirectory == fromFile)
    }

    @Test(
        "Encoding then decoding gives the same config",
        arguments: ["blip2-opt-2.7b", "blip2-flan-t5-xl", "blip2-itm-vit-g"])
    func encodingRoundTrips(name: String) throws {
        let config = try Blip2Config.load(from: Blip2Fixtures.publishedConfig(name))
        let data = try JSONEncoder().encode(config)
        #expect(try Blip2Config.decode(from: data) == config)
    }
}

@Suite("Blip2Config: tiny fixtures written by transformers")
struct Blip2TinyFixtureConfigTests {
    @Test("The retrieval fixture's config predicts every tensor of its checkpoint", arguments: Blip2Fixtures.tinyNames)
    func retrievalConfigPredictsCheckpoint(name: String) throws {
        let config = try Blip2Config.load(from: Blip2Fixtures.tiny(name, "model/config.json"))
        #expect(config.architecture == .imageTextRetrieval)
        #expect(config.textConfig == nil)
        let checkpoint = try SafeTensorsShapes(contentsOf: Blip2Fixtures.tiny(name, "model/model.safetensors"))
        expectSameShapes(expectedCheckpointShapes(for: config), checkpoint.shapes)
    }

    @Test("The OPT fixture's config predicts every tensor of its checkpoint", arguments: Blip2Fixtures.tinyNames)
    func generationConfigPredictsCheckpoint(name: String) throws {
        let config = try Blip2Config.load(from: Blip2Fixtures.tiny(name, "opt-model/config.json"))
        #expect(config.architecture == .conditionalGeneration)
        #expect(config.useDecoderOnlyLanguageModel)
        let checkpoint = try SafeTensorsShapes(contentsOf: Blip2Fixtures.tiny(name, "opt-model/model.safetensors"))
        expectSameShapes(expectedCheckpointShapes(for: config), checkpoint.shapes)
    }

    @Test("The fixture configs differ where the parity tests need them to", arguments: [()])
    func fixtureConfigsCoverBothCrossAttentionFrequencies(_: Void) throws {
        let configs = try Blip2Fixtures.tinyNames.map {
            try Blip2Config.load(from: Blip2Fixtures.tiny($0, "model/config.json"))
        }
        #expect(Set(configs.map(\.qformerConfig.crossAttentionFrequency)) == [1, 2])
        #expect(Set(configs.map(\.numQueryTokens)).count == configs.count)
        #expect(Set(configs.map(\.visionConfig.numPositions)).count == configs.count)
        for config in configs {
            // Non-square cross-attention keys: a transposed weight cannot pass the parity tests.
            #expect(config.qformerConfig.encoderHiddenSize != config.qformerConfig.hiddenSize)
        }
    }

    @Test("The reference outputs have the shapes the config implies", arguments: Blip2Fixtures.tinyNames)
    func outputsMatchConfigShapes(name: String) throws {
        let config = try Blip2Config.load(from: Blip2Fixtures.tiny(name, "model/config.json"))
        let outputs = try SafeTensorsShapes(contentsOf: Blip2Fixtures.tiny(name, "outputs.safetensors")).shapes
        let vision = config.visionConfig
        let qformer = config.qformerConfig
        let images = try #require(outputs["pixel_values"]?.first)
        let ids = try #require(outputs["input_ids"])
        let (texts, length) = (ids[0], ids[1])
        #expect(outputs["pixel_values"] == [images, 3, vision.imageSize, vision.imageSize])
        let visionState = [images, vision.numPositions, vision.hiddenSize]
        #expect(outputs["vision.embeddings"] == visionState)
        #expect(outputs["vision.last_hidden_state"] == visionState)
        for i in 0..<vision.numHiddenLayers { #expect(outputs["vision.layer.\(i)"] == visionState) }
        #expect(outputs["vision.layer.\(vision.numHiddenLayers)"] == nil)
        let queries = [images, config.numQueryTokens, qformer.hiddenSize]
        for i in 0..<qformer.numHiddenLayers {
            #expect(outputs["qformer.query.layer.\(i)"] == queries)
            #expect(outputs["itc.text.layer.\(i)"] == [texts, length, qformer.hiddenSize])
            #expect(outputs["itm.layer.\(i)"] == [images * texts, config.numQueryTokens + length, qformer.hiddenSize])
        }
        #expect(outputs["itc.image_embeds"] == [images, config.numQueryTokens, config.imageTextHiddenSize])
        #expect(outputs["itc.text_embeds"] == [texts, config.imageTextHiddenSize])
        #expect(outputs["itc.text_embeds_all_rows"] == [texts, length, config.imageTextHiddenSize])
        #expect(outputs["itc.logits_per_image"] == [images, texts])
        #expect(outputs["itm.logits"] == [images * texts, 2])
    }

    @Test("The OPT fixture's generation_config.json agrees with its text_config", arguments: Blip2Fixtures.tinyNames)
    func generationConfigAgreesWithTextConfig(name: String) throws {
        let config = try Blip2Config.load(from: Blip2Fixtures.tiny(name, "opt-model"))
        let generation = try GenerationConfig.load(from: Blip2Fixtures.tiny(name, "opt-model"))
        let text = try #require(config.textConfig)
        #expect(generation.eosTokenID == text.eosTokenID)
        #expect(generation.bosTokenID == text.bosTokenID)
        #expect(generation.padTokenID == text.padTokenID)
        #expect(try GenerationConfig.defaults(for: text) == generation)
    }

    private func expectSameShapes(_ expected: [String: [Int]], _ actual: [String: [Int]]) {
        let missing = Set(expected.keys).subtracting(actual.keys).sorted()
        let unexpected = Set(actual.keys).subtracting(expected.keys).sorted()
        #expect(missing.isEmpty, "tensors the config implies but the checkpoint lacks")
        #expect(unexpected.isEmpty, "tensors in the checkpoint the config does not explain")
        for (name, shape) in expected where actual[name] != nil {
            #expect(actual[name] == shape, "\(name)")
        }
    }
}
