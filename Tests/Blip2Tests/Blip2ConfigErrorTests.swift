// Broken or unsupported configs fail once, at load, with an error that names the field.

import Blip2
import Foundation
import Testing

/// The published blip2-opt-2.7b config with one edit applied, as JSON bytes.
private func editedOPTConfig(_ edit: (inout [String: Any]) -> Void) throws -> Data {
    let data = try Data(contentsOf: Blip2Fixtures.publishedConfig("blip2-opt-2.7b"))
    var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    edit(&object)
    return try JSONSerialization.data(withJSONObject: object)
}

/// Applies `edit` to the nested object at `key` (creating it when absent).
private func editing(_ key: String, _ edit: @escaping (inout [String: Any]) -> Void) -> (inout [String: Any]) -> Void {
    { root in
        var nested = root[key] as? [String: Any] ?? [:]
        edit(&nested)
        root[key] = nested
    }
}

/// Decodes and returns the error, failing the test when decoding succeeds.
private func decodingError(_ data: Data) -> Blip2ConfigError? {
    do {
        let config = try Blip2Config.decode(from: data)
        Issue.record("decoded a broken config: \(config)")
        return nil
    } catch {
        return error
    }
}

@Suite("Blip2Config: broken configs")
struct Blip2ConfigErrorTests {
    @Test("A missing model_type is reported as a missing field")
    func missingModelTypeFails() throws {
        let data = try editedOPTConfig { $0["model_type"] = nil }
        #expect(decodingError(data) == .missingField("model_type"))
    }

    @Test("A missing architectures list is reported as a missing field")
    func missingArchitecturesFails() throws {
        let data = try editedOPTConfig { $0["architectures"] = nil }
        #expect(decodingError(data) == .missingField("architectures"))
    }

    @Test("A captioning head without text_config is reported as a missing field")
    func missingTextConfigFails() throws {
        let data = try editedOPTConfig { $0["text_config"] = nil }
        #expect(decodingError(data) == .missingField("text_config"))
    }

    @Test("A text_config without model_type names the nested field")
    func missingTextModelTypeFails() throws {
        let data = try editedOPTConfig(editing("text_config") { $0["model_type"] = nil })
        #expect(decodingError(data) == .missingField("text_config.model_type"))
    }

    @Test("A width written as a string is a wrong type naming the field")
    func stringWidthFails() throws {
        let data = try editedOPTConfig(editing("vision_config") { $0["hidden_size"] = "1408" })
        let error = decodingError(data)
        #expect(error == .wrongType(field: "vision_config.hidden_size", expected: "integer"))
        #expect(error?.description.contains("vision_config.hidden_size") == true)
    }

    @Test("A flag written as a string is a wrong type")
    func stringFlagFails() throws {
        let data = try editedOPTConfig(editing("qformer_config") { $0["use_qformer_text_input"] = "yes" })
        #expect(decodingError(data) == .wrongType(field: "qformer_config.use_qformer_text_input", expected: "boolean"))
    }

    @Test("A null where a number belongs is a wrong type, not a silent default")
    func nullQueryCountFails() throws {
        let data = try editedOPTConfig { $0["num_query_tokens"] = NSNull() }
        #expect(decodingError(data) == .wrongType(field: "num_query_tokens", expected: "integer"))
    }

    @Test("A sub-config that is not an object is a wrong type")
    func arrayVisionConfigFails() throws {
        let data = try editedOPTConfig { $0["vision_config"] = [1, 2] }
        #expect(decodingError(data)?.field == "vision_config")
    }

    @Test("Zero attention heads are refused")
    func zeroHeadsFail() throws {
        let data = try editedOPTConfig(editing("vision_config") { $0["num_attention_heads"] = 0 })
        let error = decodingError(data)
        #expect(error?.field == "vision_config.num_attention_heads")
        #expect(error?.description.contains("at least 1") == true)
    }

    @Test("Heads that do not divide the width are refused")
    func headsNotDividingWidthFail() throws {
        let data = try editedOPTConfig(editing("qformer_config") { $0["num_attention_heads"] = 7 })
        let error = decodingError(data)
        #expect(error?.field == "qformer_config.num_attention_heads")
        #expect(error?.description.contains("768") == true)
    }

    @Test("OPT heads that do not divide the OPT width are refused")
    func optHeadsNotDividingWidthFail() throws {
        let data = try editedOPTConfig(editing("text_config") { $0["num_attention_heads"] = 30 })
        #expect(decodingError(data)?.field == "text_config.num_attention_heads")
    }

    @Test("An unknown language model type is refused with the supported list")
    func unknownTextModelTypeFails() throws {
        let data = try editedOPTConfig(editing("text_config") { $0["model_type"] = "llama" })
        #expect(
            decodingError(data)
                == .unknownModelType(field: "text_config.model_type", value: "llama", expected: ["opt", "t5"]))
    }

    @Test("A config of another model family is refused")
    func otherTopLevelModelTypeFails() throws {
        let data = try editedOPTConfig { $0["model_type"] = "blip" }
        #expect(decodingError(data) == .unknownModelType(field: "model_type", value: "blip", expected: ["blip-2"]))
    }

    @Test("A vision sub-config of another model type is refused")
    func otherVisionModelTypeFails() throws {
        let data = try editedOPTConfig(editing("vision_config") { $0["model_type"] = "clip_vision_model" })
        #expect(decodingError(data)?.field == "vision_config.model_type")
    }

    @Test("A cross-attention frequency of zero is refused")
    func zeroCrossAttentionFrequencyFails() throws {
        let data = try editedOPTConfig(editing("qformer_config") { $0["cross_attention_frequency"] = 0 })
        #expect(decodingError(data)?.field == "qformer_config.cross_attention_frequency")
    }

    @Test("Zero query tokens are refused")
    func zeroQueryTokensFail() throws {
        let data = try editedOPTConfig { $0["num_query_tokens"] = 0 }
        #expect(decodingError(data)?.field == "num_query_tokens")
    }

    @Test("A zero vocabulary is refused")
    func zeroVocabularyFails() throws {
        let data = try editedOPTConfig(editing("text_config") { $0["vocab_size"] = 0 })
        #expect(decodingError(data)?.field == "text_config.vocab_size")
    }

    @Test("An image token outside the language vocabulary is refused")
    func imageTokenOutsideVocabularyFails() throws {
        let data = try editedOPTConfig { $0["image_token_index"] = 50304 }
        #expect(decodingError(data)?.field == "image_token_index")
    }

    @Test("An unknown head class is refused with the supported list")
    func unknownArchitectureFails() throws {
        let data = try editedOPTConfig { $0["architectures"] = ["Blip2VisionModelWithProjection"] }
        let error = decodingError(data)
        #expect(error?.field == "architectures[0]")
        #expect(error?.description.contains("Blip2ForImageTextRetrieval") == true)
    }

    @Test("The base Blip2Model class is accepted and has a language model")
    func baseModelArchitectureIsAccepted() throws {
        let data = try editedOPTConfig { $0["architectures"] = ["Blip2Model"] }
        let config = try Blip2Config.decode(from: data)
        #expect(config.architecture == .model)
        #expect(config.architecture.hasLanguageModel)
        #expect(config.useDecoderOnlyLanguageModel)
    }

    @Test("An empty architectures list is refused")
    func emptyArchitecturesFails() throws {
        let data = try editedOPTConfig { $0["architectures"] = [String]() }
        #expect(decodingError(data)?.field == "architectures")
    }

    @Test("An activation this port does not implement is refused at load")
    func unsupportedActivationFails() throws {
        let data = try editedOPTConfig(editing("vision_config") { $0["hidden_act"] = "swish" })
        #expect(decodingError(data)?.field == "vision_config.hidden_act")
    }

    @Test("An image size that is not a whole number of patches is refused")
    func partialPatchFails() throws {
        let data = try editedOPTConfig(editing("vision_config") { $0["image_size"] = 225 })
        #expect(decodingError(data)?.field == "vision_config.image_size")
    }

    @Test("A non-square image size is refused; a square pair is accepted")
    func imageSizePairs() throws {
        let rectangle = try editedOPTConfig(editing("vision_config") { $0["image_size"] = [224, 196] })
        #expect(decodingError(rectangle)?.field == "vision_config.image_size")
        let square = try editedOPTConfig(editing("vision_config") { $0["image_size"] = [364, 364] })
        #expect(try Blip2Config.decode(from: square).visionConfig.numPositions == 26 * 26 + 1)
    }

    @Test("A retrieval head without the Q-Former text face is refused")
    func retrievalWithoutTextInputFails() throws {
        let data = try editedOPTConfig { $0["architectures"] = ["Blip2ForImageTextRetrieval"] }
        #expect(decodingError(data)?.field == "qformer_config.use_qformer_text_input")
    }

    @Test("image_token_id is read as an alias of image_token_index, and a contradiction is refused")
    func imageTokenAlias() throws {
        let alias = try editedOPTConfig {
            $0["image_token_index"] = nil
            $0["image_token_id"] = 50265
        }
        #expect(try Blip2Config.decode(from: alias).imageTokenIndex == 50265)
        let contradiction = try editedOPTConfig { $0["image_token_id"] = 50264 }
        #expect(decodingError(contradiction)?.field == "image_token_id")
    }

    @Test("An eos list is kept whole and every id is checked against the vocabulary")
    func eosList() throws {
        let list = try editedOPTConfig(editing("text_config") { $0["eos_token_id"] = [50118, 2] })
        guard case let .opt(opt) = try Blip2Config.decode(from: list).textConfig else {
            Issue.record("expected OPT")
            return
        }
        #expect(opt.eosTokenID?.values == [50118, 2])
        let outside = try editedOPTConfig(editing("text_config") { $0["eos_token_id"] = [50118, 99999] })
        #expect(decodingError(outside)?.field == "text_config.eos_token_id")
    }

    @Test("Unknown keys anywhere are ignored")
    func unknownKeysAreIgnored() throws {
        let data = try editedOPTConfig {
            $0["some_future_field"] = ["nested": true]
            editing("vision_config") { $0["another_one"] = 3.5 }(&$0)
        }
        let published = try Blip2Config.load(from: Blip2Fixtures.publishedConfig("blip2-opt-2.7b"))
        #expect(try Blip2Config.decode(from: data) == published)
    }

    @Test("Bytes that are not JSON are reported as such")
    func notJSONFails() {
        let error = decodingError(Data("{\"model_type\": ".utf8))
        guard case .invalidJSON = error else {
            Issue.record("expected invalidJSON, got \(String(describing: error))")
            return
        }
    }

    @Test("A missing file is reported as unreadable with its path")
    func missingFileFails() {
        let url = Blip2Fixtures.root.appendingPathComponent("configs/does-not-exist.json")
        do {
            _ = try Blip2Config.load(from: url)
            Issue.record("loaded a missing file")
        } catch {
            guard case let .unreadable(path, _) = error else {
                Issue.record("expected unreadable, got \(error)")
                return
            }
            #expect(path == url.path)
        }
    }
}

@Suite("T5Config: feed-forward rules")
struct T5ConfigTests {
    private func t5(_ fields: [String: Any]) throws -> T5Config {
        var object: [String: Any] = ["model_type": "t5"]
        object.merge(fields) { $1 }
        return try ConfigJSON.decode(T5Config.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test("gated-gelu without dense_act_fn means tanh GELU, as upstream derives it")
    func gatedGeluDefaultsToGeluNew() throws {
        let config = try t5(["feed_forward_proj": "gated-gelu"])
        #expect(config.isGatedAct)
        #expect(config.denseActFn == .geluNew)
    }

    @Test("An explicit dense_act_fn wins over the derived one")
    func explicitDenseActivationWins() throws {
        #expect(try t5(["feed_forward_proj": "gated-gelu", "dense_act_fn": "gelu"]).denseActFn == .gelu)
    }

    @Test("The T5 class defaults apply to an otherwise empty text_config")
    func classDefaults() throws {
        let config = try t5([:])
        #expect(config.dModel == 512)
        #expect(config.numDecoderLayers == config.numLayers)
        #expect(!config.isGatedAct)
        #expect(config.denseActFn == .relu)
        #expect(config.decoderStartTokenID == 0)
        #expect(config.scalesDecoderOutput)
    }

    @Test("A malformed feed_forward_proj is refused")
    func malformedFeedForwardFails() throws {
        #expect(throws: Blip2ConfigError.self) { try t5(["feed_forward_proj": "double-gated-gelu"]) }
        #expect(throws: Blip2ConfigError.self) { try t5(["feed_forward_proj": "gated-swish"]) }
    }
}

@Suite("ConfigJSON: file limits")
struct ConfigJSONLimitTests {
    @Test("A file larger than the config size limit is refused without decoding it")
    func oversizedFileIsRefused() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("blip2-oversized-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(repeating: UInt8(ascii: " "), count: ConfigJSON.maxConfigBytes + 1).write(to: url)
        do {
            _ = try Blip2Config.load(from: url)
            Issue.record("loaded an oversized config")
        } catch {
            guard case let .invalidJSON(reason) = error else {
                Issue.record("expected invalidJSON, got \(error)")
                return
            }
            #expect(reason.contains("limit"))
        }
    }
}
