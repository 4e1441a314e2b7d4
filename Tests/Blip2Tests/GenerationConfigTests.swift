// generation_config.json: upstream defaults for absent fields, typed special ids, refused nonsense.

import Blip2
import Foundation
import Testing

@Suite("GenerationConfig")
struct GenerationConfigTests {
    private func decode(_ object: [String: Any]) throws -> GenerationConfig {
        try GenerationConfig.decode(from: JSONSerialization.data(withJSONObject: object))
    }

    @Test("An empty file gives upstream's greedy 20-token defaults")
    func emptyFileGivesDefaults() throws {
        let config = try decode([:])
        #expect(config.maxLength == 20)
        #expect(config.maxNewTokens == nil)
        #expect(config.minLength == 0)
        #expect(!config.doSample)
        #expect(config.numBeams == 1)
        #expect(config.temperature == 1.0)
        #expect(config.topK == 50)
        #expect(config.topP == 1.0)
        #expect(config.repetitionPenalty == 1.0)
        #expect(config.lengthPenalty == 1.0)
        #expect(config.earlyStopping == .heuristic)
        #expect(config.numReturnSequences == 1)
        #expect(config.useCache)
        #expect(config.eosTokenID == nil)
        #expect(try GenerationConfig() == config)
    }

    @Test("Beam settings, an eos list and early_stopping \"never\" are read")
    func beamSettingsAreRead() throws {
        let config = try decode([
            "num_beams": 5, "max_new_tokens": 30, "min_length": 8, "length_penalty": -1.0,
            "early_stopping": "never", "eos_token_id": [50118, 2], "pad_token_id": 1, "bos_token_id": 2,
            "transformers_version": "5.23.0", "_from_model_config": true,
        ])
        #expect(config.numBeams == 5)
        #expect(config.maxNewTokens == 30)
        #expect(config.minLength == 8)
        #expect(config.lengthPenalty == -1.0)
        #expect(config.earlyStopping == .never)
        #expect(config.eosTokenID?.values == [50118, 2])
        #expect(config.eosTokenID?.first == 50118)
        #expect(try decode(["early_stopping": true]).earlyStopping == .whenBeamsDone)
    }

    @Test("Encoding then decoding gives the same settings")
    func encodingRoundTrips() throws {
        let config = try decode(["num_beams": 3, "eos_token_id": 1, "early_stopping": "never", "do_sample": true])
        #expect(try GenerationConfig.decode(from: JSONEncoder().encode(config)) == config)
    }

    @Test("Defaults for Flan-T5 start the decoder at 0 and stop at 1")
    func flanDefaults() throws {
        let blip2 = try Blip2Config.load(from: Blip2Fixtures.publishedConfig("blip2-flan-t5-xl"))
        let text = try #require(blip2.textConfig)
        let config = try GenerationConfig.defaults(for: text)
        #expect(config.decoderStartTokenID == 0)
        #expect(config.eosTokenID == 1)
        #expect(config.padTokenID == 0)
        #expect(config.maxLength == 20)
    }

    @Test(
        "Nonsense values are refused with the field named",
        arguments: [
            ("num_beams", "0"), ("max_new_tokens", "0"), ("top_p", "1.5"), ("temperature", "0.0"),
            ("top_k", "-1"), ("num_return_sequences", "0"), ("early_stopping", "\"sometimes\""),
            ("eos_token_id", "\"x\""), ("max_length", "\"20\""), ("do_sample", "null"),
        ])
    func nonsenseIsRefused(field: String, json: String) {
        let data = Data("{\"\(field)\": \(json)}".utf8)
        do {
            let config = try GenerationConfig.decode(from: data)
            Issue.record("accepted \(field) = \(json): \(config)")
        } catch {
            #expect(error.field == field, "\(error)")
        }
    }
}
