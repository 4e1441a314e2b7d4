// Forward-pass parity of the OPT decoder with transformers, and the KV cache against full recomputation.

import Blip2
import Foundation
import SafeTensors
import Tensors
import Testing
import TestSupport

@Suite("OPTForCausalLM")
struct OPTForCausalLMTests {
    /// Logits of every attended position of `input` in one pass.
    static func allLogits(_ model: OPTForCausalLM, _ input: GenerationInput) throws -> (Tensor, [Int]) {
        let attended = input.attentionMask.indices.filter { input.attentionMask[$0] != 0 }
        let rows = attended.map { input.embeddings.slice(axis: 0, $0..<($0 + 1)) }
        var caches = [model.decoder.makeCache(capacity: attended.count)]
        let hidden = try model.decoder(Tensor.concatenate(rows, axis: 0), caches: &caches, counts: [attended.count])
        return (model.logits(hidden), attended)
    }

    @Test("the stitched prompt batch gives transformers' logits at every attended position",
          arguments: OPTFixture.names)
    func forwardLogitsMatchTransformers(name: String) throws {
        let f = try OPTFixture(name)
        let expected = try f.tensor("prompt.forward_logits")   // [B, T, V]
        let v = f.text.vocabSize
        for (b, input) in try f.inputs("prompt").enumerated() {
            let (logits, attended) = try Self.allLogits(f.model, input)
            #expect(logits.shape == [attended.count, v])
            let t = expected.shape[1]
            let rows = expected.slice(axis: 0, b..<(b + 1)).reshaped([t, v])
            for (i, position) in attended.enumerated() {
                let diff = maxAbsDifference(row(logits, i), row(rows, position))
                #expect(diff < 1e-4, "\(name) row \(b) position \(position): max |diff| \(diff)")
            }
        }
    }

    @Test("decoding with the KV cache equals recomputing the whole sequence", arguments: OPTFixture.names)
    func cacheEqualsFullRecomputation(name: String) throws {
        let f = try OPTFixture(name)
        let input = try f.inputs("caption")[1]
        let tokens = [5, 17, 42, 9]
        // Cached: prefill, then one token per step.
        var caches = [f.model.decoder.makeCache(capacity: 4)]   // small on purpose: it must grow
        var cached: [Tensor] = [try f.model.nextTokenLogits(input.embeddings, caches: &caches,
                                                            counts: [input.ids.count])]
        for token in tokens {
            cached.append(try f.model.nextTokenLogits(try f.model.decoder.embed([token]), caches: &caches, counts: [1]))
        }
        #expect(caches[0].length == input.ids.count + tokens.count)
        // Full: the whole sequence at once, no cache reuse.
        let full = Tensor.concatenate([input.embeddings, try f.model.decoder.embed(tokens)], axis: 0)
        let (logits, _) = try Self.allLogits(
            f.model, GenerationInput(ids: input.ids + tokens, attentionMask: [Int](repeating: 1, count: full.shape[0]),
                                     embeddings: full))
        for (step, c) in cached.enumerated() {
            let position = input.ids.count - 1 + step
            let diff = maxAbsDifference(row(c, 0), row(logits, position))
            #expect(diff < 1e-5, "step \(step): max |diff| \(diff)")
        }
    }

    @Test("a standalone OPT with word_embed_proj_dim != hidden_size (project_in/out, post-LN) matches")
    func projectedOPTMatchesTransformers() throws {
        let dir = OPTFixture.root.appendingPathComponent("tiny-proj")
        let configData = try Data(contentsOf: dir.appendingPathComponent("model/config.json"))
        let config = try JSONDecoder().decode(OPTConfig.self, from: configData)
        #expect(config.hasEmbeddingProjection)
        let store = try WeightStore(directory: dir.appendingPathComponent("model").path)
        let model = try OPTForCausalLM(config: config, weights: store.scope(""))
        #expect(store.unusedKeys.isEmpty, "unused: \(store.unusedKeys)")
        let outputs = try SafeTensorsFile(path: dir.appendingPathComponent("outputs.safetensors").path)
        let ids = try outputs.tensor(named: "input_ids")
        let mask = try outputs.tensor(named: "attention_mask")
        let expected = try outputs.tensor(named: "logits")       // [B, T, V]
        let (b, t, v) = (expected.shape[0], expected.shape[1], expected.shape[2])
        var inputs: [GenerationInput] = []
        for r in 0..<b {
            let rowIDs = (0..<t).map { Int(ids[r, $0]) }
            let rowMask = (0..<t).map { Int(mask[r, $0]) }
            let input = GenerationInput(ids: rowIDs, attentionMask: rowMask,
                                        embeddings: try model.decoder.embed(rowIDs))
            inputs.append(input)
            let (logits, attended) = try Self.allLogits(model, input)
            let rows = expected.slice(axis: 0, r..<(r + 1)).reshaped([t, v])
            for (i, position) in attended.enumerated() {
                #expect(maxAbsDifference(row(logits, i), row(rows, position)) < 1e-4, "row \(r) position \(position)")
            }
        }
        let output = try OPTGenerator(model: model).generate(
            inputs, options: GenerationOptions(maxNewTokens: 6, padTokenID: 1))
        let golden = try outputs.tensor(named: "greedy.sequences")
        let goldenRows = (0..<golden.shape[0]).map { r in (0..<golden.shape[1]).map { Int(golden[r, $0]) } }
        #expect(output.padded(with: 1) == goldenRows)
    }

    @Test("every checkpoint tensor of the language half is used, and lm_head falls back to embed_tokens")
    func loadingIsStrictAndTied() throws {
        let f = try OPTFixture("tiny-pre")
        #expect(!f.store.contains("language_model.lm_head.weight"))
        #expect(f.model.lmHead.scalars == f.model.decoder.embedTokens.scalars)
        let languageKeys = f.store.keys.filter {
            $0.hasPrefix("language_model.") || $0.hasPrefix("language_projection.")
        }
        let unused = Set(f.store.unusedKeys)
        #expect(languageKeys.allSatisfy { !unused.contains($0) })
    }
}
