// Parity of the Swift BLIP-2 retrieval model with transformers 5.23.0, stage by stage, on the tiny fixtures
// made by Tests/Reference/make_blip2_fixtures.py (tensor names as in that script's docstring).

import Blip2
import Foundation
import SafeTensors
import Tensors
import Testing

/// Tolerances asked of the port: hidden states and embeddings 1e-4 absolute; similarities and match
/// probabilities 1e-5.
enum ParityTolerance {
    static let hidden: Float = 1e-4
    static let similarity: Float = 1e-5
    static let probability: Float = 1e-5
}

/// The model and reference outputs of one tiny configuration.
struct TinyRetrievalCase {
    let name: String
    let model: Blip2ForImageTextRetrieval
    let reference: SafeTensorsFile

    init(_ name: String) throws {
        self.name = name
        model = try Blip2ForImageTextRetrieval.load(directory: Blip2Fixtures.tiny(name, "model").path)
        reference = try Blip2Fixtures.outputs(name)
    }

    var pixels: Tensor { get throws { try reference.tensor(named: "pixel_values") } }

    var tokens: Blip2TokenBatch {
        get throws {
            try Blip2TokenBatch(ids: reference.integerRows("input_ids"),
                                attentionMask: reference.integerRows("attention_mask"))
        }
    }
}

@Suite("Blip2ForImageTextRetrieval matches transformers stage by stage")
struct Blip2RetrievalParityTests {
    @Test("The vision tower reproduces the embeddings, every layer, the last hidden state and the pooled output",
          arguments: Blip2Fixtures.tinyNames)
    func visionTower(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let recorder = TraceRecorder()
        _ = try tiny.model.visionModel(try tiny.pixels, trace: recorder.trace.scoped("vision"))
        let compared = try recorder.compare(to: tiny.reference, atol: ParityTolerance.hidden)
        let layers = tiny.model.config.visionConfig.numHiddenLayers
        #expect(compared == ["vision.embeddings"] + (0..<layers).map { "vision.layer.\($0)" }
            + ["vision.last_hidden_state", "vision.pooler_output"])
    }

    @Test("The Q-Former's query pass with the image matches per layer, and so do the ITC image embeddings",
          arguments: Blip2Fixtures.tinyNames)
    func queryPass(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let recorder = TraceRecorder()
        _ = try tiny.model.encodeImages(try tiny.pixels, trace: recorder.trace)
        let compared = try recorder.compare(to: tiny.reference, atol: ParityTolerance.hidden)
        let layers = tiny.model.config.qformerConfig.numHiddenLayers
        for stage in ["qformer.query.embedding_output", "qformer.query.last_hidden_state", "itc.image_embeds"]
            + (0..<layers).map({ "qformer.query.layer.\($0)" }) {
            #expect(compared.contains(stage), "\(stage) was not compared")
        }
    }

    @Test("The text-only pass (padding masked) matches per layer, and so do the ITC text embeddings",
          arguments: Blip2Fixtures.tinyNames)
    func textPass(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let recorder = TraceRecorder()
        let texts = try tiny.model.encodeTexts(try tiny.tokens, trace: recorder.trace)
        let compared = try recorder.compare(to: tiny.reference, atol: ParityTolerance.hidden)
        let layers = tiny.model.config.qformerConfig.numHiddenLayers
        #expect(compared == ["itc.text.embeddings"] + (0..<layers).map { "itc.text.layer.\($0)" }
            + ["itc.text.last_hidden_state", "itc.text_embeds"])
        expectClose(tiny.model.projectedTextRows(texts), try tiny.reference.tensor(named: "itc.text_embeds_all_rows"),
                    atol: ParityTolerance.hidden, "itc.text_embeds_all_rows")
    }

    @Test("ITC similarities are the raw max-over-queries cosines transformers returns",
          arguments: Blip2Fixtures.tinyNames)
    func similarities(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let images = try tiny.model.encodeImages(try tiny.pixels)
        let texts = try tiny.model.encodeTexts(try tiny.tokens)
        let sim = tiny.model.similarity(images: images, texts: texts)
        expectClose(sim, try tiny.reference.tensor(named: "itc.logits_per_image"), atol: ParityTolerance.similarity,
                    "itc.logits_per_image")
        let perText = try tiny.reference.tensor(named: "itc.logits_per_text")
        for i in 0..<images.count {
            for j in 0..<texts.count { #expect(abs(sim[i, j] - perText[j, i]) <= ParityTolerance.similarity) }
        }
    }

    @Test("The joint ITM pass matches per layer, and the match probabilities within 1e-5",
          arguments: Blip2Fixtures.tinyNames)
    func imageTextMatching(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let images = try tiny.model.encodeImages(try tiny.pixels)
        let tokens = try tiny.tokens
        let pairImages = try tiny.reference.tensor(named: "itm.pair_image_index").scalars.map { Int($0) }
        let pairTexts = try tiny.reference.tensor(named: "itm.pair_text_index").scalars.map { Int($0) }
        let recorder = TraceRecorder()
        let output = try tiny.model.match(
            images: images, texts: tokens, pairs: zip(pairImages, pairTexts).map { (image: $0, text: $1) },
            trace: recorder.trace)
        let compared = try recorder.compare(to: tiny.reference, atol: ParityTolerance.hidden)
        let layers = tiny.model.config.qformerConfig.numHiddenLayers
        #expect(compared == ["itm.embeddings"] + (0..<layers).map { "itm.layer.\($0)" }
            + ["itm.last_hidden_state", "itm.query_logits", "itm.logits"])
        expectClose(Tensor(shape: [output.probabilityMatch.count], scalars: output.probabilityMatch),
                    try tiny.reference.tensor(named: "itm.probability_match"), atol: ParityTolerance.probability,
                    "itm.probability_match")
        // The fixture's pairs are image-major over all images and texts, which is what matchAll makes.
        let all = try tiny.model.matchAll(images: images, texts: tokens)
        #expect(all.probabilityMatch == output.probabilityMatch)
    }
}
