// Generation parity with transformers' generate(): ids of greedy, beam and penalised runs, per-step logits,
// and the behaviours around them (streaming, finished sequences leaving the batch, seeded sampling).

import Blip2
import Foundation
import SafeTensors
import Tensors
import Testing
import TestSupport

@Suite("OPTGenerator")
struct OPTGeneratorTests {
    static let greedyCases = ["caption", "prompt", "repetition", "ngram", "min_new"]
    static let beamCases = ["beam", "beam_prompt", "beam_lp", "beam_early", "beam_early_lp", "beam_never",
                            "beam_heuristic_lp", "beam_negative_lp", "beam_ngram"]

    static func run(_ f: OPTFixture, _ caseName: String, observer: GenerationObserver = GenerationObserver()) throws
        -> GenerationOutput
    {
        try OPTGenerator(model: f.model).generate(try f.inputs(caseName), options: try f.options(caseName),
                                                  observer: observer)
    }

    @Test("greedy, prompt-batch and penalised runs give transformers' ids",
          arguments: OPTFixture.names, greedyCases)
    func greedyIDsMatchTransformers(name: String, caseName: String) throws {
        let f = try OPTFixture(name)
        let output = try Self.run(f, caseName)
        #expect(output.padded(with: try #require(f.options(caseName).padTokenID))
                == (try f.intRows("\(caseName).sequences")))
    }

    @Test("beam search gives transformers' ids (lengths, penalties, early stopping, several returns)",
          arguments: OPTFixture.names, beamCases)
    func beamIDsMatchTransformers(name: String, caseName: String) throws {
        let f = try OPTFixture(name)
        let output = try Self.run(f, caseName)
        #expect(output.padded(with: try #require(f.options(caseName).padTokenID))
                == (try f.intRows("\(caseName).sequences")))
    }

    @Test("every step's logits are within 1e-4 of transformers' for each live row",
          arguments: OPTFixture.names, greedyCases)
    func stepLogitsMatchTransformers(name: String, caseName: String) throws {
        let f = try OPTFixture(name)
        let expected = try f.tensor("\(caseName).logits")   // [S, B, V]
        let (s, b, v) = (expected.shape[0], expected.shape[1], expected.shape[2])
        var steps: [GenerationStep] = []
        _ = try Self.run(f, caseName, observer: GenerationObserver(onStep: { steps.append($0) }))
        #expect(steps.count == s)
        var compared = 0
        for step in steps {
            #expect(step.logits.shape == [step.rows.count, v])
            for (r, rowID) in step.rows.enumerated() {
                let golden = expected.slice(axis: 0, step.step..<(step.step + 1)).reshaped([b, v])
                let diff = maxAbsDifference(row(step.logits, r), row(golden, rowID.input))
                #expect(diff < 1e-4, "\(name) \(caseName) step \(step.step) input \(rowID.input): \(diff)")
                compared += 1
            }
        }
        #expect(compared >= s)
    }

    @Test("greedy decoding with the KV cache gives the ids of recomputing every step from scratch",
          arguments: OPTFixture.names)
    func cachedGreedyEqualsRecomputation(name: String) throws {
        let f = try OPTFixture(name)
        let inputs = try f.inputs("prompt")
        var options = try f.options("prompt")
        options.eosTokenIDs = []
        options.maxNewTokens = 6
        let cached = try OPTGenerator(model: f.model).generate(inputs, options: options)
        for (i, input) in inputs.enumerated() {
            var embeddings = input.embeddings
            var mask = input.attentionMask
            var ids = input.ids
            for _ in 0..<options.maxNewTokens {
                let (logits, _) = try OPTForCausalLMTests.allLogits(
                    f.model, GenerationInput(ids: ids, attentionMask: mask, embeddings: embeddings))
                let next = Kernels.argmaxLastDim(row(logits, logits.shape[0] - 1))[0]
                ids.append(next)
                mask.append(1)
                embeddings = Tensor.concatenate([embeddings, try f.model.decoder.embed([next])], axis: 0)
            }
            #expect(cached.sequences[i][0] == ids)
        }
    }

    @Test("a finished sequence leaves the batch while the other keeps decoding")
    func finishedSequenceFreesItsSlot() throws {
        let f = try OPTFixture("tiny-pre")
        var rowsPerStep: [[Int]] = []
        let output = try Self.run(f, "caption", observer: GenerationObserver(onStep: { step in
            rowsPerStep.append(step.rows.map(\.input))
        }))
        let counts = output.newTokenCounts.map { $0[0] }
        #expect(counts[0] < counts[1], "the fixture's first caption stops early: \(counts)")
        // Row 0 takes part in exactly as many steps as it has tokens; after that only row 1 runs.
        #expect(rowsPerStep.filter { $0.contains(0) }.count == counts[0])
        #expect(rowsPerStep.count == counts[1])
        #expect(rowsPerStep.last == [1])
        // And the stopped row's last token is an EOS id.
        let eos = try f.options("caption").eosTokenIDs
        #expect(eos.contains(try #require(output.sequences[0][0].last)))
    }

    @Test("a stopped input leaves the batch at the next step while the other decodes exactly as before")
    func stoppedInputLeavesTheBatch() throws {
        let f = try OPTFixture("tiny-pre")
        let full = try Self.run(f, "caption")
        var steps = 0
        let stopped = try Self.run(f, "caption", observer: GenerationObserver(
            onStep: { _ in steps += 1 }, shouldStop: { input in input == 1 && steps > 2 }))
        // Input 1 chose a token at each of the first two steps, then stopped; input 0 is untouched.
        #expect(stopped.newTokenCounts[1][0] == 2)
        #expect(stopped.sequences[1][0] == Array(full.sequences[1][0].prefix(stopped.sequences[1][0].count)))
        #expect(stopped.sequences[0] == full.sequences[0])
    }

    @Test("a stopped beam-search input leaves at the next step with no sequence; the other searches as before")
    func stoppedBeamInputLeavesTheBatch() throws {
        let f = try OPTFixture("tiny-pre")
        let full = try Self.run(f, "beam")
        try #require(full.sequences.count >= 2)
        var steps = 0
        var inputsPerStep: [Set<Int>] = []
        let stopped = try Self.run(f, "beam", observer: GenerationObserver(
            onStep: { step in
                steps += 1
                inputsPerStep.append(Set(step.rows.map(\.input)))
            },
            shouldStop: { input in input == 1 && steps > 2 }))
        // Input 1 took part in the first three steps (the stop is asked after each step's hook), then left.
        #expect(inputsPerStep.prefix(3).allSatisfy { $0.contains(1) })
        #expect(inputsPerStep.count > 3)
        #expect(inputsPerStep.dropFirst(3).allSatisfy { !$0.contains(1) })
        #expect(stopped.sequences[1].isEmpty)
        #expect(stopped.newTokenCounts[1].isEmpty)
        #expect(stopped.sequences[0] == full.sequences[0])
    }

    @Test("an input that joins at a step boundary decodes as it would alone, and so does the running one",
          arguments: [false, true])
    func joinedInputDecodesAsAlone(sampled: Bool) throws {
        let f = try OPTFixture("tiny-pre")
        let inputs = try f.inputs("caption")
        var options = try f.options("caption")
        options.doSample = sampled
        options.seed = 7
        let generator = OPTGenerator(model: f.model)
        // Seeded sampling draws from a stream per input index, so "alone" means at the same index.
        let both = try generator.generate(inputs, options: options)
        let first = try generator.generate([inputs[0]], options: options)
        var offered = false
        let joined = try generator.generate([inputs[0]], options: options, observer: GenerationObserver(join: {
            guard !offered else { return [] }
            offered = true
            return [inputs[1]]
        }))
        #expect(joined.sequences.count == 2)
        #expect(joined.sequences[0] == first.sequences[0])
        #expect(joined.sequences[1] == both.sequences[1])
        #expect(joined.newTokenCounts[1] == both.newTokenCounts[1])
    }

    @Test("the streaming hook sees every generated token once, in order")
    func streamingCallbackSeesEveryTokenInOrder() throws {
        let f = try OPTFixture("tiny-pre")
        for caseName in ["prompt", "beam_lp"] {
            var streamed: [GenerationToken] = []
            let output = try Self.run(f, caseName, observer: GenerationObserver(onToken: { streamed.append($0) }))
            let prompts = try f.intRows("\(caseName).input_ids")
            for (i, perInput) in output.sequences.enumerated() {
                for (s, sequence) in perInput.enumerated() {
                    let mine = streamed.filter { $0.input == i && $0.sequence == s }
                    #expect(mine.map(\.token) == Array(sequence.dropFirst(prompts[i].count)))
                    #expect(mine.map(\.index) == Array(0..<mine.count))
                }
            }
        }
    }

    @Test("min_new_tokens keeps EOS ids out until that many tokens exist")
    func minNewTokensIsRespected() throws {
        let f = try OPTFixture("tiny-pre")
        let plain = try Self.run(f, "caption")
        let options = try f.options("min_new")
        let output = try OPTGenerator(model: f.model).generate(try f.inputs("min_new"), options: options)
        #expect(plain.newTokenCounts[0][0] < options.minNewTokens, "the plain run must stop before min_new_tokens")
        for (i, counts) in output.newTokenCounts.enumerated() {
            let tokens = output.sequences[i][0].suffix(counts[0])
            #expect(counts[0] >= options.minNewTokens)
            #expect(tokens.prefix(options.minNewTokens).allSatisfy { !options.eosTokenIDs.contains($0) })
        }
    }

    @Test("sampling is reproducible under a seed, and different seeds differ")
    func samplingIsSeeded() throws {
        let f = try OPTFixture("tiny-pre")
        let inputs = try f.inputs("prompt")
        var options = try f.options("prompt")
        options.doSample = true
        options.temperature = 1.5
        options.topK = 40
        options.topP = 0.95
        options.numReturnSequences = 2
        options.seed = 7
        let generator = OPTGenerator(model: f.model)
        let first = try generator.generate(inputs, options: options)
        let again = try generator.generate(inputs, options: options)
        #expect(first == again)
        // Batching does not change a sample: the first input alone gives the same two samples.
        let alone = try generator.generate([inputs[0]], options: options)
        #expect(alone.sequences[0] == first.sequences[0])
        var differ = false
        for seed: UInt64 in [8, 9, 10] {
            options.seed = seed
            let other = try generator.generate(inputs, options: options)
            differ = differ || other != first
        }
        #expect(differ)
    }

    @Test("a checkpoint's generation_config.json supplies the defaults")
    func checkpointGenerationConfigGivesDefaults() throws {
        let f = try OPTFixture("tiny-pre")
        let config = try GenerationConfig.load(from: OPTFixture.root.appendingPathComponent("tiny-pre/model"))
        let options = GenerationOptions(checkpoint: config, text: f.text)
        #expect(options.maxNewTokens == 12)
        #expect(options.eosTokenIDs == (try f.options("caption").eosTokenIDs))
        #expect(options.padTokenID == 1)
        #expect(options.numBeams == 1 && !options.doSample)
        let none = GenerationOptions(checkpoint: nil, text: f.text)
        #expect(none.maxNewTokens == GenerationOptions.defaultMaxNewTokens)
        #expect(none.eosTokenIDs == f.text.eosTokenID?.values)
    }
}
