// Each logits processor against its transformers class, on the same scores and token history.

import Blip2
import SafeTensors
import Tensors
import Testing

@Suite("GenerationLogitsProcessor")
struct GenerationLogitsProcessorTests {
    static func load() throws -> SafeTensorsFile {
        try SafeTensorsFile(path: OPTFixture.root.appendingPathComponent("processors.safetensors").path)
    }

    static func rows(_ t: Tensor) -> [[Float]] {
        let c = t.shape[1]
        let s = t.scalars
        return (0..<t.shape[0]).map { Array(s[($0 * c)..<(($0 + 1) * c)]) }
    }

    static let cases: [(String, any GenerationLogitsProcessor)] = [
        ("repetition_penalty", RepetitionPenaltyProcessor(penalty: 1.7)),
        ("no_repeat_ngram_2", NoRepeatNGramProcessor(size: 2)),
        ("no_repeat_ngram_3", NoRepeatNGramProcessor(size: 3)),
        ("min_new_tokens", MinNewTokensProcessor(minNewTokens: 8, eosTokenIDs: [3, 7])),
        ("temperature", TemperatureWarper(temperature: 0.7)),
        ("top_k", TopKWarper(k: 5)),
        ("top_p", TopPWarper(p: 0.8)),
        ("top_p_keep_3", TopPWarper(p: 0.1, minTokensToKeep: 3)),
    ]

    @Test("every processor rewrites the scores as its transformers class does", arguments: 0..<cases.count)
    func processorMatchesTransformers(index: Int) throws {
        let (name, processor) = Self.cases[index]
        let file = try Self.load()
        let scores = Self.rows(try file.tensor(named: "scores"))
        let ids = Self.rows(try file.tensor(named: "input_ids")).map { $0.map { Int($0) } }
        let expected = Self.rows(try file.tensor(named: name))
        for r in scores.indices {
            var row = scores[r]
            // min_new_tokens: upstream was told the prompt is 6 of the 11 ids
            let promptLength = name == "min_new_tokens" ? 6 : ids[r].count
            processor.process(&row, context: GenerationContext(tokens: ids[r], promptLength: promptLength))
            for (j, (got, want)) in zip(row, expected[r]).enumerated() {
                let same = got == want || abs(got - want) <= 1e-6 * max(1, abs(want))
                #expect(same, "\(name) row \(r) column \(j): \(got) vs \(want)")
            }
        }
    }

    @Test("transformers' order: penalties first, sampling warpers only when sampling")
    func chainFollowsTransformersOrder() {
        var options = GenerationOptions(minNewTokens: 2, temperature: 0.5, topK: 4, topP: 0.9, repetitionPenalty: 1.2,
                                        noRepeatNgramSize: 3, eosTokenIDs: [2])
        #expect(GenerationLogitsProcessors.make(options).map { "\(type(of: $0))" }
                == ["RepetitionPenaltyProcessor", "NoRepeatNGramProcessor", "MinNewTokensProcessor"])
        options.doSample = true
        #expect(GenerationLogitsProcessors.make(options).map { "\(type(of: $0))" }
                == ["RepetitionPenaltyProcessor", "NoRepeatNGramProcessor", "MinNewTokensProcessor",
                    "TemperatureWarper", "TopKWarper", "TopPWarper"])
    }
}
