// The per-sequence KV cache: growth, in-place appends, and copy-on-write forks for beam search.

@testable import Blip2
import Tensors
import Testing

@Suite("KVCache")
struct KVCacheTests {
    static func base(_ t: Tensor) -> UnsafePointer<Float>? { t.withUnsafeBufferPointer { $0.baseAddress } }

    static func step(_ cache: inout KVCache, _ value: Float) {
        cache.reserve(1)
        let row = Tensor(shape: [1, cache.width], repeating: value)
        for layer in 0..<cache.layerCount { cache.write(layer: layer, keys: row, values: row) }
        cache.advance(by: 1)
    }

    @Test("appending grows the buffers by doubling and keeps what was stored")
    func growsAndKeepsContents() {
        var cache = KVCache(layers: 2, width: 3, capacity: 2)
        for v in 1...5 { Self.step(&cache, Float(v)) }
        #expect(cache.length == 5 && cache.capacity == 8)
        for layer in 0..<2 {
            let keys = cache.keys[layer]
            #expect((0..<5).map { keys[0, $0, 1] } == [1, 2, 3, 4, 5])
        }
    }

    @Test("a uniquely owned cache is written in place by a decoder step")
    func decoderStepWritesInPlace() throws {
        let f = try OPTFixture("tiny-pre")
        var caches = [f.model.decoder.makeCache(capacity: 16)]
        _ = try f.model.nextTokenLogits(try f.model.decoder.embed([2, 5]), caches: &caches, counts: [2])
        let before = caches[0].keys.map { Self.base($0) }
        _ = try f.model.nextTokenLogits(try f.model.decoder.embed([7]), caches: &caches, counts: [1])
        #expect(caches[0].keys.map { Self.base($0) } == before)
        #expect(caches[0].length == 3)
    }

    @Test("a forked copy shares storage until one side writes, then they diverge")
    func forksCopyOnWrite() {
        var original = KVCache(layers: 1, width: 2, capacity: 4)
        Self.step(&original, 1)
        var fork = original
        #expect(Self.base(fork.keys[0]) == Self.base(original.keys[0]))
        Self.step(&fork, 2)
        #expect(Self.base(fork.keys[0]) != Self.base(original.keys[0]))
        #expect(original.length == 1 && fork.length == 2)
        #expect(original.keys[0][0, 1, 0] == 0 && fork.keys[0][0, 1, 0] == 2)
    }
}
