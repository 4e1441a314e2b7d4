import Blip2
import Foundation
import ImagePipeline
import Inference
import Tensors
import Testing
import Tokenizers

/// The embedded default model, run by the Swift pipeline on the held-out shapes scenes, gives what
/// transformers gives (Tests/Fixtures/shapes/heldout.json, written by Tests/Reference/shapes/evaluate.py).
@Suite(.serialized) struct DefaultModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL
    static let captionDirectory = root.appendingPathComponent("Sources/tiaoyu/Resources/DefaultModel/blip2-shapes-opt").path
    static let retrievalDirectory = root.appendingPathComponent("Sources/tiaoyu/Resources/DefaultModel/blip2-shapes-itm").path
    static let fixtures = root.appendingPathComponent("Tests/Fixtures/shapes")

    struct Scene: Decodable {
        var file: String
        var greedy_caption: String
        var greedy_ids: [Int]
        var canonical_caption: String
        var swapped_caption: String
        var qformer_ids_true: [Int]
        var qformer_ids_swapped: [Int]
        var itm_match_probability_true: Double
        var itm_match_probability_swapped: Double
        var itc_similarity_true: Double
        var itc_similarity_swapped: Double
    }

    static func scenes() throws -> [Scene] {
        struct File: Decodable { var scenes: [Scene] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: fixtures.appendingPathComponent("heldout.json")))
            .scenes
    }

    static func imageBytes(_ scene: Scene) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(scene.file)))
    }

    @Test func greedyCaptionsEqualTransformersOnEveryHeldOutScene() throws {
        let captioner = try CaptionModel(directory: Self.captionDirectory)
        let options = captioner.model.defaultOptions(promptLength: 1)
        let scenes = try Self.scenes()
        #expect(scenes.count == 40)
        // Batches of 8, as the server will run them: batching must not change any caption.
        for start in stride(from: 0, to: scenes.count, by: 8) {
            let batch = Array(scenes[start..<min(start + 8, scenes.count)])
            let pixels = Tensor.concatenate(try batch.map { try captioner.pixels(from: try Self.imageBytes($0)) }, axis: 0)
            let captions = try captioner.caption(pixels: pixels, prompts: Array(repeating: nil, count: batch.count),
                                                 options: options)
            for (scene, result) in zip(batch, captions) {
                let prefix = captioner.model.config.numQueryTokens + 1  // <image> placeholders + BOS
                // transformers pads finished rows of its batch with the pad id after their EOS.
                var expected = Array(scene.greedy_ids.dropFirst(prefix))
                while let last = expected.last, last == options.padTokenID, expected.count > 1,
                      !options.eosTokenIDs.contains(last) { expected.removeLast() }
                #expect(result[0].tokenIDs == expected, "\(scene.file)")
                #expect(result[0].text == scene.greedy_caption, "\(scene.file)")
            }
        }
    }

    @Test func matchAndSimilarityEqualTransformersOnEveryHeldOutScene() throws {
        let model = try Blip2ForImageTextRetrieval.load(directory: Self.retrievalDirectory)
        let tokenizer = try Tokenizer(directory: URL(fileURLWithPath: Self.retrievalDirectory))
        let preprocessor = try ImagePreprocessor(config: try ImageProcessorConfig.parse(
            Data(contentsOf: URL(fileURLWithPath: Self.retrievalDirectory).appendingPathComponent("preprocessor_config.json"))))
        var worstITM: Double = 0
        var worstITC: Double = 0
        for scene in try Self.scenes() {
            let values = try preprocessor.pixelValues(from: try Self.imageBytes(scene))
            let pixels = Tensor(shape: [1, values.channels, values.height, values.width], scalars: values.values)
            let encodings = try tokenizer.encodeBatch([scene.canonical_caption, scene.swapped_caption])
            #expect(encodings[0].ids.filter { $0 != 0 } == scene.qformer_ids_true.filter { $0 != 0 }, "\(scene.file)")
            #expect(encodings[1].ids.filter { $0 != 0 } == scene.qformer_ids_swapped.filter { $0 != 0 }, "\(scene.file)")
            let images = try model.encodeImages(pixels)
            let cases = [(scene.qformer_ids_true, scene.itm_match_probability_true, scene.itc_similarity_true),
                         (scene.qformer_ids_swapped, scene.itm_match_probability_swapped, scene.itc_similarity_swapped)]
            for (ids, itm, itc) in cases {
                let texts = try Blip2TokenBatch(ids: [ids], attentionMask: [ids.map { _ in 1 }])
                let match = try model.match(images: images, texts: texts, pairs: [(0, 0)])
                let similarity = model.similarity(images: images, texts: try model.encodeTexts(texts)).scalars
                worstITM = max(worstITM, abs(Double(match.probabilityMatch[0]) - itm))
                worstITC = max(worstITC, abs(Double(similarity[0]) - itc))
            }
        }
        // The fixture rounds to 6 decimals, so 1e-5 is the tightest meaningful bound.
        #expect(worstITM < 1e-5)
        #expect(worstITC < 1e-5)
    }
}
