// Loads the OPT parity fixtures written by Tests/Reference/make_opt_fixtures.py.

import Blip2
import Foundation
import SafeTensors
import Tensors
import Testing

/// One tiny BLIP-2 OPT fixture: the language half of the model and the transformers goldens.
struct OPTFixture {
    static let names = ["tiny-pre", "tiny-post"]
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/opt").standardizedFileURL

    let name: String
    let config: Blip2Config
    let text: OPTConfig
    let store: WeightStore
    let model: OPTForCausalLM
    let bridge: Blip2LanguageBridge
    let outputs: SafeTensorsFile

    init(_ name: String) throws {
        self.name = name
        let dir = Self.root.appendingPathComponent(name)
        config = try Blip2Config.load(from: dir.appendingPathComponent("model"))
        guard case let .opt(text)? = config.textConfig else { throw FixtureError("\(name) is not OPT") }
        self.text = text
        store = try WeightStore(directory: dir.appendingPathComponent("model").path)
        model = try OPTForCausalLM(config: text, weights: store.scope("language_model"))
        bridge = try Blip2LanguageBridge(config: config, weights: store.scope(""))
        outputs = try SafeTensorsFile(path: dir.appendingPathComponent("outputs.safetensors").path)
    }

    func tensor(_ key: String) throws -> Tensor { try outputs.tensor(named: key) }

    /// A [R, T] float tensor of exact small integers as rows of ints.
    func intRows(_ key: String) throws -> [[Int]] {
        let t = try tensor(key)
        let (r, c) = (t.shape[0], t.shape[1])
        let s = t.scalars
        return (0..<r).map { i in (0..<c).map { Int(s[i * c + $0]) } }
    }

    /// The generation inputs of a case: its ids and mask with the fixture's projected query outputs.
    func inputs(_ caseName: String) throws -> [GenerationInput] {
        let projected = bridge.project(try tensor("query_output"))
        return try bridge.inputs(ids: try intRows("\(caseName).input_ids"),
                                 mask: try intRows("\(caseName).attention_mask"),
                                 projected: projected, decoder: model.decoder)
    }

    /// The options the case passed to transformers' generate, from the outputs' metadata.
    func options(_ caseName: String) throws -> GenerationOptions {
        let json = try #require(outputs.metadata["cases"]).data(using: .utf8) ?? Data()
        let all = try #require(try JSONSerialization.jsonObject(with: json) as? [String: [String: Any]])
        let o = try #require(all[caseName], "no case \(caseName)")
        var options = GenerationOptions()
        options.maxNewTokens = o["max_new_tokens"] as? Int ?? options.maxNewTokens
        options.minNewTokens = o["min_new_tokens"] as? Int ?? 0
        options.doSample = o["do_sample"] as? Bool ?? false
        options.numBeams = o["num_beams"] as? Int ?? 1
        options.lengthPenalty = o["length_penalty"] as? Double ?? 1
        options.repetitionPenalty = o["repetition_penalty"] as? Double ?? 1
        options.noRepeatNgramSize = o["no_repeat_ngram_size"] as? Int ?? 0
        options.numReturnSequences = o["num_return_sequences"] as? Int ?? 1
        options.eosTokenIDs = o["eos_token_id"] as? [Int] ?? []
        options.padTokenID = o["pad_token_id"] as? Int
        switch o["early_stopping"] {
        case let flag as Bool: options.earlyStopping = flag ? .whenBeamsDone : .heuristic
        case let text as String where text == "never": options.earlyStopping = .never
        default: break
        }
        return options
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Row `r` of a [R, V] tensor.
func row(_ t: Tensor, _ r: Int) -> Tensor {
    t.slice(axis: 0, r..<(r + 1)).reshaped([t.shape[1]])
}
