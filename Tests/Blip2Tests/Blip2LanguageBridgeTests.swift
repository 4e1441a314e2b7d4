// language_projection and the image-token stitch against transformers.

import Blip2
import Tensors
import Testing
import TestSupport

@Suite("Blip2LanguageBridge")
struct Blip2LanguageBridgeTests {
    @Test("language_projection of the query output matches transformers", arguments: OPTFixture.names)
    func projectionMatchesTransformers(name: String) throws {
        let f = try OPTFixture(name)
        let projected = f.bridge.project(try f.tensor("query_output"))
        #expect(maxAbsDifference(projected, try f.tensor("language_projection")) < 1e-5)
    }

    @Test("input ids put the Q placeholders first, then the prompt or BOS alone")
    func inputIDsPutPlaceholdersFirst() throws {
        let f = try OPTFixture("tiny-pre")
        let q = f.config.numQueryTokens
        let image = try #require(f.config.imageTokenIndex)
        #expect(try f.bridge.inputIDs(prompt: nil) == [Int](repeating: image, count: q) + [2])
        #expect(try f.bridge.inputIDs(prompt: [2, 40, 41]) == [Int](repeating: image, count: q) + [2, 40, 41])
        // The fixture's caption ids are exactly what the bridge builds.
        #expect(try f.intRows("caption.input_ids")[0] == (try f.bridge.inputIDs(prompt: nil)))
    }

    @Test("the stitch replaces placeholder rows in order and keeps the other token embeddings")
    func stitchReplacesPlaceholders() throws {
        let f = try OPTFixture("tiny-pre")
        let projected = try f.tensor("language_projection")     // [B, Q, W]
        let inputs = try f.inputs("prompt")
        let ids = try f.intRows("prompt.input_ids")
        let q = f.config.numQueryTokens
        let w = f.text.wordEmbedProjDim
        for (b, input) in inputs.enumerated() {
            let queries = projected.slice(axis: 0, b..<(b + 1)).reshaped([q, w])
            #expect(maxAbsDifference(input.embeddings.slice(axis: 0, 0..<q), queries) < 1e-5)
            let text = Array(ids[b][q...])
            let expected = try f.model.decoder.embed(text)
            #expect(input.embeddings.slice(axis: 0, q..<ids[b].count).scalars == expected.scalars)
        }
    }

    @Test("a row without exactly Q placeholders, or an id off the vocabulary, is a typed error")
    func badRowsAreTypedErrors() throws {
        let f = try OPTFixture("tiny-pre")
        let projected = try f.tensor("language_projection")
        var ids = try f.intRows("caption.input_ids")
        ids[1].removeFirst()
        let q = f.config.numQueryTokens
        #expect(throws: GenerationError.placeholderCount(row: 1, got: q - 1, expected: q)) {
            try f.bridge.inputs(ids: ids, projected: projected, decoder: f.model.decoder)
        }
        ids = try f.intRows("caption.input_ids")
        ids[0][q] = -3
        #expect(throws: GenerationError.tokenOutOfRange(id: -3, vocabSize: f.text.vocabSize)) {
            try f.bridge.inputs(ids: ids, projected: projected, decoder: f.model.decoder)
        }
        #expect(throws: GenerationError.self) {
            try f.bridge.inputs(ids: [ids[0]], projected: projected, decoder: f.model.decoder)
        }
    }

    @Test("unpadded prompts of different lengths generate transformers' ids for the left-padded batch",
          arguments: OPTFixture.names, ["caption", "prompt", "beam_prompt"])
    func unpaddedPromptsMatchThePaddedBatch(name: String, caseName: String) throws {
        let f = try OPTFixture(name)
        let q = f.config.numQueryTokens
        let ids = try f.intRows("\(caseName).input_ids")
        let masks = try f.intRows("\(caseName).attention_mask")
        let prompts: [[Int]?] = zip(ids, masks).map { row, mask in
            caseName == "caption" ? nil : (q..<row.count).filter { mask[$0] != 0 }.map { row[$0] }
        }
        let output = try f.bridge.generate(queryOutput: try f.tensor("query_output"), prompts: prompts,
                                           model: f.model, options: try f.options(caseName))
        // transformers' rows keep their padding; drop it to compare.
        let golden = try f.intRows("\(caseName).sequences")
        let perInput = golden.count / ids.count
        let pad = try #require(f.options(caseName).padTokenID)
        for (r, goldenRow) in golden.enumerated() {
            let b = r / perInput
            let padding = masks[b].filter { $0 == 0 }.count
            let mine = output.sequences[b][r % perInput]
            let expected = Array(goldenRow[..<q] + goldenRow[(q + padding)...])
            // Same tokens, then only the padding transformers adds to finished rows.
            #expect(Array(expected.prefix(mine.count)) == mine)
            #expect(expected.dropFirst(mine.count).allSatisfy { $0 == pad })
        }
    }
}
