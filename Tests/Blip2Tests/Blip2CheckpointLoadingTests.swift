// Strict loading: a checkpoint with a missing, unexpected or mis-shaped tensor fails with an error naming the
// key; deliberately ignored keys are reported; sharded checkpoints load like single files. Broken checkpoints
// are built in a temporary directory from the tiny fixture.

import Blip2
import Foundation
import SafeTensors
import Tensors
import Testing

@Suite("Blip2 checkpoints load strictly")
struct Blip2CheckpointLoadingTests {
    /// A copy of the tiny-b retrieval model in a temporary directory, with `edit` applied to its tensors.
    static func editedCheckpoint(_ edit: (inout [String: Tensor]) -> Void) throws -> URL {
        let source = Blip2Fixtures.tiny("tiny-b", "model")
        var tensors = try readAllTensors(source.appendingPathComponent("model.safetensors"))
        edit(&tensors)
        let dir = try temporaryDirectory()
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"),
                                         to: dir.appendingPathComponent("config.json"))
        try writeSafeTensors(tensors, to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    static func loadError(_ dir: URL) -> Blip2ModelError? {
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Blip2ForImageTextRetrieval.load(directory: dir.path)
            return nil
        } catch {
            return error
        }
    }

    @Test("An unchanged copy written by the test writer loads and reports nothing ignored")
    func unchangedCopyLoads() throws {
        let dir = try Self.editedCheckpoint { _ in }
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Blip2ForImageTextRetrieval.load(directory: dir.path)
        #expect(model.ignoredCheckpointKeys.isEmpty)
    }

    @Test("The model reads exactly the keys and shapes of the published layout (model-reference §1.4)",
          arguments: Blip2Fixtures.tinyNames)
    func readsThePublishedKeys(name: String) throws {
        let (config, store) = try Blip2Checkpoint.open(directory: Blip2Fixtures.tiny(name, "model").path)
        _ = try Blip2ForImageTextRetrieval(config: config, weights: store)
        let expected = expectedCheckpointShapes(for: config)
        #expect(store.usedKeys == expected.keys.sorted())
        for key in store.usedKeys { #expect(store.entry(key)?.shape == expected[key], "\(key)") }
    }

    @Test("A missing tensor fails naming its full key")
    func missingTensor() throws {
        let key = "qformer.encoder.layer.2.crossattention.attention.key.weight"
        let error = Self.loadError(try Self.editedCheckpoint { $0[key] = nil })
        #expect(error == .weights(.missingTensor(key: key)))
        #expect(error?.description.contains(key) == true)
    }

    @Test("An unexpected tensor fails naming its key")
    func unexpectedTensor() throws {
        let key = "qformer.encoder.layer.1.crossattention.attention.key.weight"  // layer 1 has none at frequency 2
        let error = Self.loadError(try Self.editedCheckpoint { $0[key] = Tensor(zeros: [32, 40]) })
        #expect(error == .unexpectedKeys([key]))
        #expect(error?.description.contains(key) == true)
    }

    @Test("LAVIS-style q_bias/v_bias instead of the fused qkv.bias are refused, naming qkv.bias")
    func lavisBiasesAreRefused() throws {
        let layer = "vision_model.encoder.layers.0.self_attn."
        let error = Self.loadError(try Self.editedCheckpoint {
            $0[layer + "qkv.bias"] = nil
            $0[layer + "q_bias"] = Tensor(zeros: [40])
            $0[layer + "v_bias"] = Tensor(zeros: [40])
        })
        #expect(error == .weights(.missingTensor(key: layer + "qkv.bias")))
    }

    @Test("A tensor of the wrong shape fails naming the key, the shape found and the shape expected")
    func wrongShape() throws {
        let key = "vision_model.encoder.layers.1.mlp.fc1.weight"
        let error = Self.loadError(try Self.editedCheckpoint { $0[key] = Tensor(zeros: [40, 56]) })
        #expect(error == .weights(.shapeMismatch(key: key, got: [40, 56], expected: [56, 40])))
        #expect(error?.description.contains(key) == true)
    }

    @Test("A stale position_ids buffer is accepted and reported as ignored")
    func ignoredKeyIsReported() throws {
        let dir = try Self.editedCheckpoint { $0["embeddings.position_ids"] = Tensor(zeros: [1, 24]) }
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Blip2ForImageTextRetrieval.load(directory: dir.path)
        #expect(model.ignoredCheckpointKeys == ["embeddings.position_ids"])
    }

    @Test("A captioning checkpoint is refused by the retrieval head")
    func wrongArchitecture() throws {
        let expected = Blip2ModelError.wrongArchitecture(found: .conditionalGeneration, expected: .imageTextRetrieval)
        #expect(throws: expected) {
            _ = try Blip2ForImageTextRetrieval.load(directory: Blip2Fixtures.tiny("tiny-a", "opt-model").path)
        }
    }

    @Test("A directory without config.json fails with a config error")
    func missingConfig() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = Self.loadError(dir)
        guard case .config = error else {
            Issue.record("expected a config error, got \(String(describing: error))")
            return
        }
    }

    @Test("A sharded checkpoint (index + two shards) loads and computes the same outputs")
    func shardedCheckpoint() throws {
        let source = Blip2Fixtures.tiny("tiny-a", "model")
        let tensors = try readAllTensors(source.appendingPathComponent("model.safetensors"))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"),
                                         to: dir.appendingPathComponent("config.json"))
        var shards: [[String: Tensor]] = [[:], [:]]
        var weightMap: [String: String] = [:]
        for name in tensors.keys.sorted() {
            let shard = name.hasPrefix("vision_model.") ? 0 : 1
            shards[shard][name] = tensors[name]
            weightMap[name] = "model-0000\(shard + 1)-of-00002.safetensors"
        }
        for (i, shard) in shards.enumerated() {
            try writeSafeTensors(shard, to: dir.appendingPathComponent("model-0000\(i + 1)-of-00002.safetensors"))
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": weightMap])
        try index.write(to: dir.appendingPathComponent("model.safetensors.index.json"))

        let sharded = try Blip2ForImageTextRetrieval.load(directory: dir.path)
        let single = try TinyRetrievalCase("tiny-a")
        let a = try sharded.encodeImages(try single.pixels)
        let b = try single.model.encodeImages(try single.pixels)
        #expect(a.imageEmbeds.scalars == b.imageEmbeds.scalars)
    }
}
