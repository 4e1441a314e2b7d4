// The whole captioning model loaded from a directory: pixels → vision → Q-Former → projection → OPT → ids,
// against the transformers goldens of Tests/Reference/make_opt_fixtures.py.

import Blip2
import Foundation
import SafeTensors
import Tensors
import Testing
import TestSupport

@Suite("Blip2ForConditionalGeneration")
struct Blip2ForConditionalGenerationTests {
    @Test("pixels to caption ids equal transformers' generate()", arguments: OPTFixture.names)
    func pixelsToCaptionIDs(name: String) throws {
        let f = try OPTFixture(name)
        let model = try Blip2ForConditionalGeneration.load(
            directory: OPTFixture.root.appendingPathComponent("\(name)/model").path)
        let query = try model.queryOutput(try f.tensor("pixel_values"))
        #expect(maxAbsDifference(query, try f.tensor("query_output")) < 1e-4)
        let options = try f.options("caption")
        let output = try model.generate(queryOutput: query, prompts: Array(repeating: nil, count: query.shape[0]),
                                        options: options)
        #expect(output.padded(with: try #require(options.padTokenID)) == (try f.intRows("caption.sequences")))
    }

    @Test("the checkpoint's generation config gives the decoding defaults")
    func defaultsComeFromGenerationConfig() throws {
        let model = try Blip2ForConditionalGeneration.load(
            directory: OPTFixture.root.appendingPathComponent("tiny-pre/model").path)
        let config = try #require(model.generationConfig)
        let options = model.defaultOptions()
        if let eos = config.eosTokenID { #expect(options.eosTokenIDs == eos.values) }
        #expect(options.numBeams == config.numBeams)
    }

    @Test("a retrieval checkpoint is refused with a clear error")
    func retrievalCheckpointIsRefused() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/blip2/tiny-a/model").standardizedFileURL.path
        #expect(throws: Blip2ModelError.self) { try Blip2ForConditionalGeneration.load(directory: directory) }
    }
}
