// Inputs from requests are checked and refused with typed errors, never trapped on.

import Blip2
import Foundation
import SafeTensors
import Tensors
import Testing

@Suite("Blip2 refuses bad inputs with typed errors")
struct Blip2InputValidationTests {
    static func invalid(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return false
        } catch let error as Blip2ModelError {
            if case .invalidInput = error { return true }
            return false
        } catch {
            return false
        }
    }

    @Test("Pixels of the wrong size, channel count or rank are refused")
    func wrongPixelShapes() throws {
        let tiny = try TinyRetrievalCase("tiny-a")
        let s = tiny.model.config.visionConfig.imageSize
        for shape in [[1, 3, s + 8, s + 8], [1, 4, s, s], [3, s, s], [0, 3, s, s], [1, 3, s, s - 8]] {
            #expect(Self.invalid { _ = try tiny.model.encodeImages(Tensor(zeros: shape)) }, "\(shape)")
        }
    }

    @Test("Token ids outside the vocabulary and texts longer than the position table are refused")
    func badTokens() throws {
        let tiny = try TinyRetrievalCase("tiny-a")
        let vocab = tiny.model.config.qformerConfig.vocabSize
        #expect(Self.invalid { _ = try tiny.model.encodeTexts(try Blip2TokenBatch(sequences: [[2, vocab]], padID: 0)) })
        #expect(Self.invalid { _ = try tiny.model.encodeTexts(try Blip2TokenBatch(sequences: [[2, -1]], padID: 0)) })
        let tooLong = [Int](repeating: 5, count: tiny.model.embeddings.maxLength + 1)
        #expect(Self.invalid { _ = try tiny.model.encodeTexts(try Blip2TokenBatch(sequences: [tooLong], padID: 0)) })
        let longest = [Int](repeating: 5, count: tiny.model.embeddings.maxLength)
        _ = try tiny.model.encodeTexts(try Blip2TokenBatch(sequences: [longest], padID: 0))
    }

    @Test("Ragged batches, non-binary masks and empty batches are refused")
    func badBatches() {
        #expect(Self.invalid { _ = try Blip2TokenBatch(ids: [[1, 2], [3]], attentionMask: [[1, 1], [1]]) })
        #expect(Self.invalid { _ = try Blip2TokenBatch(ids: [[1, 2]], attentionMask: [[1, 2]]) })
        #expect(Self.invalid { _ = try Blip2TokenBatch(ids: [[1, 2]], attentionMask: []) })
        #expect(Self.invalid { _ = try Blip2TokenBatch(ids: [], attentionMask: []) })
        #expect(Self.invalid { _ = try Blip2TokenBatch(sequences: [[]], padID: 0) })
    }

    @Test("Pairs that point outside the images or texts, and an empty pair list, are refused")
    func badPairs() throws {
        let tiny = try TinyRetrievalCase("tiny-a")
        let images = try tiny.model.encodeImages(try tiny.pixels)
        let tokens = try tiny.tokens
        #expect(Self.invalid { _ = try tiny.model.match(images: images, texts: tokens, pairs: [(image: 2, text: 0)]) })
        #expect(Self.invalid { _ = try tiny.model.match(images: images, texts: tokens, pairs: [(image: 0, text: -1)]) })
        #expect(Self.invalid { _ = try tiny.model.match(images: images, texts: tokens, pairs: []) })
    }

    @Test("The Q-Former refuses a query pass without image memory and a mask that does not broadcast")
    func qformerContracts() throws {
        let tiny = try TinyRetrievalCase("tiny-a")
        let qformer = tiny.model.qformer
        let c = qformer.config.hiddenSize
        #expect(Self.invalid { _ = try qformer(Tensor(zeros: [1, 4, c]), queryLength: 4) })
        #expect(Self.invalid { _ = try qformer(Tensor(zeros: [1, 4, c]), queryLength: 5) })
        #expect(Self.invalid { _ = try qformer(Tensor(zeros: [1, 4, c + 1]), queryLength: 0) })
        #expect(Self.invalid {
            _ = try qformer(Tensor(zeros: [1, 4, c]), queryLength: 0, attentionMask: Tensor(zeros: [1, 1, 1, 3]))
        })
        let memory = Blip2QFormerImageMemory(hiddenStates: Tensor(zeros: [2, 5, qformer.config.encoderHiddenSize]),
                                             imageIndex: [0, 2])
        #expect(Self.invalid { _ = try qformer(Tensor(zeros: [2, 4, c]), queryLength: 4, imageMemory: memory) })
    }
}
