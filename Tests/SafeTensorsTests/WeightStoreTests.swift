import Foundation
import Testing
import Tensors
@testable import SafeTensors

@Suite("WeightStore loads model directories strictly")
struct WeightStoreTests {
    static let expectedShapes: [String: [Int]] = [
        "encoder.layers.0.fc.weight": [4, 3], "encoder.layers.0.fc.bias": [4],
        "encoder.layers.1.fc.weight": [4, 4], "encoder.layers.1.fc.bias": [4],
        "decoder.embed_tokens.weight": [6, 4], "decoder.final_layer_norm.weight": [4],
    ]

    @Test("sharded and single-file directories hold the same weights as torch wrote them",
          arguments: ["sharded", "single"])
    func loadsEveryWeight(layout: String) throws {
        let store = try WeightStore(directory: safetensorsFixture(layout))
        let expected = try SafeTensorsFile(path: safetensorsFixture("model_expected_f32.safetensors"))
        #expect(store.keys == Self.expectedShapes.keys.sorted())
        for (key, shape) in Self.expectedShapes {
            let got = try store.tensor(key, shape: shape)
            #expect(got.scalars == (try expected.tensor(named: key)).scalars, "\(key)")
        }
        #expect(store.unusedKeys.isEmpty)
    }

    @Test("scopes prefix relative names, and errors name the full key")
    func scopes() throws {
        let store = try WeightStore(directory: safetensorsFixture("sharded"))
        let layer = store.scope("encoder").scope("layers.1")
        #expect(layer.key("fc.weight") == "encoder.layers.1.fc.weight")
        #expect(layer.contains("fc.weight") && !layer.contains("fc.nope"))
        let w = try layer.tensor("fc.weight", shape: [4, 4])
        #expect(w.shape == [4, 4])
        #expect(throws: SafeTensorsError.missingTensor(key: "encoder.layers.1.fc.nope")) {
            try layer.tensor("fc.nope", shape: [4])
        }
        #expect(throws: SafeTensorsError.shapeMismatch(key: "encoder.layers.1.fc.bias", got: [4], expected: [5])) {
            try layer.tensor("fc.bias", shape: [5])
        }
        #expect(try layer.optionalTensor("fc.missing_bias", shape: [4]) == nil)
        #expect(try layer.optionalTensor("fc.bias", shape: [4]) != nil)
    }

    @Test("unused keys list exactly the tensors never loaded")
    func unusedKeys() throws {
        let store = try WeightStore(directory: safetensorsFixture("sharded"))
        _ = try store.scope("encoder.layers.0").tensor("fc.weight", shape: [4, 3])
        _ = try? store.tensor("decoder.embed_tokens.weight", shape: [1])  // a failed load is not a use
        #expect(store.usedKeys == ["encoder.layers.0.fc.weight"])
        #expect(store.unusedKeys == Self.expectedShapes.keys.filter { $0 != "encoder.layers.0.fc.weight" }.sorted())
    }

    @Test("a tied weight omitted from the checkpoint falls back to its source key")
    func tiedWeights() throws {
        let store = try WeightStore(directory: safetensorsFixture("sharded"))
        let head = try store.scope("decoder").tensor("lm_head.weight", shape: [6, 4],
                                                     tiedTo: "decoder.embed_tokens.weight")
        #expect(head.scalars == (try store.tensor("decoder.embed_tokens.weight", shape: [6, 4])).scalars)
        #expect(!store.usedKeys.contains("decoder.lm_head.weight"))
        // present key wins over the fallback
        let bias = try store.tensor("encoder.layers.0.fc.bias", shape: [4], tiedTo: "decoder.final_layer_norm.weight")
        #expect(bias.scalars != Array(repeating: 1, count: 4))
        #expect(throws: SafeTensorsError.missingTensor(key: "a")) { try store.tensor("a", shape: [1], tiedTo: "b") }
        let tiedMismatch = SafeTensorsError.shapeMismatch(key: "decoder.embed_tokens.weight", got: [6, 4],
                                                          expected: [7, 4])
        #expect(throws: tiedMismatch) {
            try store.tensor("lm_head.weight", shape: [7, 4], tiedTo: "decoder.embed_tokens.weight")
        }
    }

    /// Writes `index` as the shard index of a temp directory holding one real shard.
    func directoryWithIndex(_ index: String) throws -> URL {
        let dir = try temporaryDirectory()
        let shard = safetensorsFixture("sharded/model-00001-of-00002.safetensors")
        try FileManager.default.copyItem(atPath: shard, toPath: dir.appendingPathComponent("a.safetensors").path)
        try Data(index.utf8).write(to: dir.appendingPathComponent(WeightStore.indexFileName))
        return dir
    }

    @Test("a malformed or unsafe shard index is an error", arguments: [
        #"{"metadata":{}}"#,
        #"{"weight_map":{"encoder.layers.0.fc.bias":"../a.safetensors"}}"#,
        #"{"weight_map":{"encoder.layers.0.fc.bias":""}}"#,
        #"{"weight_map":{"encoder.layers.0.fc.bias":3}}"#,
        #"{"weight_map":{"encoder.layers.0.fc.bias":"missing.safetensors"}}"#,
        #"{"weight_map":{"decoder.embed_tokens.weight":"a.safetensors"}}"#,
        #"{"weight_map":{"encoder.layers.0.fc.bias":"a.safetensors","encoder.layers.0.fc.bias":"a.safetensors"}}"#,
        #"{"weight_map":"#,
        #"[]"#,
    ])
    func badIndex(index: String) throws {
        let dir = try directoryWithIndex(index)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: SafeTensorsError.self) { try WeightStore(directory: dir.path) }
    }

    @Test("a valid hand-written index over one shard loads")
    func goodIndex() throws {
        let dir = try directoryWithIndex(#"{"weight_map":{"encoder.layers.0.fc.bias":"a.safetensors"}}"#)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try WeightStore(directory: dir.path)
        #expect(store.contains("encoder.layers.1.fc.weight"))
    }

    @Test("a directory without weights, and the same key in two files, are errors")
    func noWeightsAndDuplicates() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: SafeTensorsError.noWeightFiles(directory: dir.path)) { try WeightStore(directory: dir.path) }
        let single = try SafeTensorsFile(path: safetensorsFixture("single/model.safetensors"))
        let shard = try SafeTensorsFile(path: safetensorsFixture("sharded/model-00002-of-00002.safetensors"))
        #expect(throws: SafeTensorsError.self) { try WeightStore(files: [single, shard]) }
    }

    @Test("loads from several threads at once all succeed and are all recorded")
    func concurrentLoads() async throws {
        let store = try WeightStore(directory: safetensorsFixture("single"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (key, shape) in Self.expectedShapes {
                group.addTask { _ = try store.tensor(key, shape: shape) }
            }
            try await group.waitForAll()
        }
        #expect(store.unusedKeys.isEmpty)
    }
}
