// Batching: a batch gives each item what it would get alone (images stacked, texts of different lengths
// padded), and the vision tower + Q-Former of a captioning checkpoint match transformers too.

import Blip2
import Foundation
import SafeTensors
import Tensors
import Testing

@Suite("Blip2 batches: padding and stacking do not change results")
struct Blip2BatchingTests {
    @Test("Each image of a batch gets the embeddings it gets alone", arguments: Blip2Fixtures.tinyNames)
    func imagesAloneEqualBatch(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let pixels = try tiny.pixels
        let batch = try tiny.model.encodeImages(pixels)
        for i in 0..<pixels.shape[0] {
            let alone = try tiny.model.encodeImages(pixels.slice(axis: 0, i..<(i + 1)))
            expectClose(alone.imageEmbeds, batch.imageEmbeds.slice(axis: 0, i..<(i + 1)), atol: 1e-5, "image \(i)")
        }
    }

    @Test("Each text of a padded batch gets the embedding it gets unpadded, alone", arguments: Blip2Fixtures.tinyNames)
    func textsAloneEqualPaddedBatch(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let tokens = try tiny.tokens
        let batch = try tiny.model.encodeTexts(tokens)
        for i in 0..<tokens.count {
            let length = tokens.mask[(i * tokens.length)..<((i + 1) * tokens.length)].reduce(0, +)
            let alone = try tiny.model.encodeTexts(
                try Blip2TokenBatch(sequences: [Array(tokens.row(i).prefix(length))], padID: 0))
            expectClose(alone.textEmbeds, batch.textEmbeds.slice(axis: 0, i..<(i + 1)), atol: 1e-5, "text \(i)")
        }
        #expect(Set((0..<tokens.count).map { i in tokens.mask[(i * tokens.length)..<((i + 1) * tokens.length)]
            .reduce(0, +) }).count > 1, "the fixture texts should have different lengths")
    }

    @Test("A single pair matches like it does inside the all-pairs batch", arguments: Blip2Fixtures.tinyNames)
    func onePairEqualsBatch(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let images = try tiny.model.encodeImages(try tiny.pixels)
        let tokens = try tiny.tokens
        let all = try tiny.model.matchAll(images: images, texts: tokens)
        let one = try tiny.model.match(images: images, texts: tokens, pairs: [(image: 1, text: 2)])
        let index = 1 * tokens.count + 2
        #expect(abs(one.probabilityMatch[0] - all.probabilityMatch[index]) <= 1e-6)
    }

    @Test("A captioning checkpoint's vision and query pass match its reference; only the language side is unread",
          arguments: Blip2Fixtures.tinyNames)
    func generationCheckpointQueryOutput(name: String) throws {
        let dir = Blip2Fixtures.tiny(name, "opt-model").path
        let (config, store) = try Blip2Checkpoint.open(directory: dir)
        let reference = try Blip2Fixtures.outputs(name, "opt-outputs.safetensors")
        let encoder = try Blip2ImageQueryEncoder(config: config, weights: store)
        let recorder = TraceRecorder()
        _ = try encoder(try reference.tensor(named: "pixel_values"), trace: recorder.trace)
        let compared = try recorder.compare(to: reference, atol: ParityTolerance.hidden)
        #expect(compared == ["vision.last_hidden_state", "qformer.query.last_hidden_state"])
        let qformer = encoder.qformer
        let c = config.qformerConfig.hiddenSize
        let languageSide = [Blip2Checkpoint.languageModelPrefix + ".", Blip2Checkpoint.languageProjectionPrefix + "."]
        #expect(store.unusedKeys.allSatisfy { key in languageSide.contains { key.hasPrefix($0) } })
        // Its Q-Former has no text face: text rows are refused, not run with missing weights.
        #expect(throws: Blip2ModelError.unsupported(
            "this Q-Former has no text feed-forward (use_qformer_text_input is false)")) {
            _ = try qformer(Tensor(zeros: [1, 3, c]), queryLength: 0)
        }
    }
}
