// Invalid generation options are typed errors, before any decoding.

import Blip2
import Tensors
import Testing

@Suite("GenerationOptions")
struct GenerationOptionsTests {
    static func rejection(_ change: (inout GenerationOptions) -> Void) -> GenerationError? {
        var options = GenerationOptions(eosTokenIDs: [2], padTokenID: 1)
        change(&options)
        do {
            try options.validate(vocabSize: 50)
            return nil
        } catch {
            return error
        }
    }

    static func option(_ error: GenerationError?) -> String? {
        if case let .invalidOption(option, _)? = error { return option }
        return nil
    }

    @Test("the defaults are valid: greedy, 30 new tokens")
    func defaultsAreValid() throws {
        #expect(Self.rejection { _ in } == nil)
        #expect(GenerationOptions().maxNewTokens == 30 && GenerationOptions().numBeams == 1)
    }

    @Test("num_beams 0 is rejected")
    func zeroBeamsIsRejected() {
        #expect(Self.option(Self.rejection { $0.numBeams = 0 }) == "num_beams")
        #expect(Self.option(Self.rejection { $0.numBeams = GenerationOptions.numBeamsLimit + 1 }) == "num_beams")
    }

    @Test("top_p above 1 or not above 0 is rejected")
    func topPOutOfRangeIsRejected() {
        #expect(Self.option(Self.rejection { $0.topP = 1.5 }) == "top_p")
        #expect(Self.option(Self.rejection { $0.doSample = true; $0.topP = 0 }) == "top_p")
    }

    @Test("temperature <= 0 is rejected when sampling, ignored otherwise")
    func nonPositiveTemperatureIsRejectedWhenSampling() {
        #expect(Self.option(Self.rejection { $0.doSample = true; $0.temperature = 0 }) == "temperature")
        #expect(Self.option(Self.rejection { $0.doSample = true; $0.temperature = -1 }) == "temperature")
        #expect(Self.option(Self.rejection { $0.doSample = true; $0.temperature = .nan }) == "temperature")
        #expect(Self.rejection { $0.temperature = 0 } == nil)
    }

    @Test("absurd or empty lengths are rejected")
    func absurdLengthsAreRejected() {
        #expect(Self.option(Self.rejection { $0.maxNewTokens = 0 }) == "max_new_tokens")
        #expect(Self.option(Self.rejection { $0.maxNewTokens = Int.max }) == "max_new_tokens")
        #expect(Self.option(Self.rejection { $0.minNewTokens = -1 }) == "min_new_tokens")
        #expect(Self.option(Self.rejection { $0.noRepeatNgramSize = -2 }) == "no_repeat_ngram_size")
    }

    @Test("penalties, return counts and EOS ids are checked")
    func otherOptionsAreChecked() {
        #expect(Self.option(Self.rejection { $0.repetitionPenalty = 0 }) == "repetition_penalty")
        #expect(Self.option(Self.rejection { $0.lengthPenalty = .infinity }) == "length_penalty")
        #expect(Self.option(Self.rejection { $0.topK = -1 }) == "top_k")
        #expect(Self.option(Self.rejection { $0.numReturnSequences = 2 }) == "num_return_sequences")
        #expect(Self.option(Self.rejection { $0.numBeams = 2; $0.numReturnSequences = 3 }) == "num_return_sequences")
        #expect(Self.option(Self.rejection { $0.eosTokenIDs = [50] }) == "eos_token_id")
        #expect(Self.rejection { $0.numBeams = 2; $0.doSample = true } == .unsupported(
            "beam sampling (do_sample with num_beams > 1)"))
        #expect(Self.rejection { $0.doSample = true; $0.numReturnSequences = 3 } == nil)
    }

    @Test("the generator refuses invalid options and over-long sequences with typed errors")
    func generatorRefusesBeforeDecoding() throws {
        let f = try OPTFixture("tiny-pre")
        let generator = OPTGenerator(model: f.model)
        let inputs = try f.inputs("caption")
        #expect(throws: GenerationError.invalidOption(option: "num_beams", reason: "must be in 1...64, got 0")) {
            try generator.generate(inputs, options: GenerationOptions(numBeams: 0))
        }
        let tooMany = f.text.maxPositionEmbeddings
        #expect(throws: GenerationError.sequenceTooLong(length: inputs[0].ids.count + tooMany - 1,
                                                        maxPositions: f.text.maxPositionEmbeddings)) {
            try generator.generate(inputs, options: GenerationOptions(maxNewTokens: tooMany))
        }
        let bad = GenerationInput(ids: [f.text.vocabSize], attentionMask: [1],
                                  embeddings: Tensors.Tensor(zeros: [1, f.text.wordEmbedProjDim]))
        #expect(throws: GenerationError.tokenOutOfRange(id: f.text.vocabSize, vocabSize: f.text.vocabSize)) {
            try generator.generate([bad], options: GenerationOptions())
        }
        let empty = GenerationInput(ids: [2], attentionMask: [0],
                                    embeddings: Tensors.Tensor(zeros: [1, f.text.wordEmbedProjDim]))
        #expect(throws: GenerationError.emptyInput(row: 0)) {
            try generator.generate([empty], options: GenerationOptions())
        }
    }
}
