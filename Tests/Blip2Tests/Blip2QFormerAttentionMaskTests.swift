// The Q-Former's attention masks have the shapes and values of each regime, and the generation (ITG)
// regime behaves as LAVIS defines it: queries never see text, text is causal.

import Blip2
import Foundation
import Tensors
import Testing
import TestSupport

@Suite("Blip2QFormerAttentionMask builds each regime's mask")
struct Blip2QFormerAttentionMaskTests {
    static let tokens: Blip2TokenBatch = {
        // Two texts: lengths 3 and 2 (one padding position).
        (try? Blip2TokenBatch(sequences: [[7, 8, 9], [7, 8]], padID: 0)) ?? { preconditionFailure() }()
    }()

    static func hidden(_ v: Float) -> Bool { v == -Float.infinity }

    @Test("Text-only (ITC): padding keys hidden, [T, 1, 1, L]")
    func padding() {
        let mask = Blip2QFormerAttentionMask.padding(Self.tokens)
        #expect(mask.shape == [2, 1, 1, 3])
        #expect(mask.scalars.map(Self.hidden) == [false, false, false, false, false, true])
    }

    @Test("Joint (ITM): Q visible queries in front of the text padding mask, [T, 1, 1, Q + L]")
    func joint() {
        let mask = Blip2QFormerAttentionMask.joint(queryLength: 2, text: Self.tokens)
        #expect(mask.shape == [2, 1, 1, 5])
        #expect(mask.scalars.map(Self.hidden) == [false, false, false, false, false,
                                                  false, false, false, false, true])
    }

    @Test("Generation (ITG): queries see only queries; text sees queries and earlier text, [T, 1, Q + L, Q + L]")
    func generation() {
        let q = 2
        let mask = Blip2QFormerAttentionMask.generation(queryLength: q, text: Self.tokens)
        #expect(mask.shape == [2, 1, 5, 5])
        let visible = mask.scalars.map { !Self.hidden($0) }
        func row(_ b: Int, _ r: Int) -> [Bool] { Array(visible[((b * 5 + r) * 5)..<((b * 5 + r) * 5 + 5)]) }
        // Text 0 (no padding): a lower-triangular text block after a fully visible query block.
        #expect(row(0, 0) == [true, true, false, false, false])
        #expect(row(0, 1) == [true, true, false, false, false])
        #expect(row(0, 2) == [true, true, true, false, false])
        #expect(row(0, 3) == [true, true, true, true, false])
        #expect(row(0, 4) == [true, true, true, true, true])
        // Text 1: its last position is padding, hidden from every row.
        #expect(row(1, 4) == [true, true, true, true, false])
        #expect(row(1, 3) == [true, true, true, true, false])
    }
}

@Suite("The Q-Former in the generation (ITG) regime")
struct Blip2QFormerGenerationRegimeTests {
    @Test("Query rows never see the text: they equal the image-only query pass; text rows are causal",
          arguments: Blip2Fixtures.tinyNames)
    func queriesIgnoreTextAndTextIsCausal(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let model = tiny.model
        let images = try model.encodeImages(try tiny.pixels)
        let q = model.numQueryTokens
        func run(_ tokens: Blip2TokenBatch) throws -> Tensor {
            let x = try model.embeddings(tokens, queryEmbeds: model.imageQueryEncoder.queryEmbeddings(batch: 1))
            return try model.qformer(
                x, queryLength: q, attentionMask: Blip2QFormerAttentionMask.generation(queryLength: q, text: tokens),
                imageMemory: Blip2QFormerImageMemory(hiddenStates: images.vision.lastHiddenState, imageIndex: [1]))
        }
        let full = try run(try Blip2TokenBatch(sequences: [[2, 40, 41, 42, 3]], padID: 0))
        let changedTail = try run(try Blip2TokenBatch(sequences: [[2, 40, 41, 7, 8]], padID: 0))
        expectClose(full.slice(axis: 1, 0..<q), images.queryOutput.slice(axis: 0, 1..<2), atol: 1e-5, "query rows")
        // Rows up to the first changed token (query rows and text positions 0...2) do not depend on it.
        expectClose(changedTail.slice(axis: 1, 0..<(q + 3)), full.slice(axis: 1, 0..<(q + 3)), atol: 1e-6,
                    "rows before the change")
        #expect(maxAbsDifference(changedTail.slice(axis: 1, (q + 3)..<(q + 5)), full.slice(axis: 1, (q + 3)..<(q + 5)))
            > 1e-3)
    }
}
