// The per-sequence key/value cache of a decoder-only model, the Swift counterpart of one batch row of
// transformers' `DynamicCache` (cache_utils.py, 5.23.0): every layer keeps the keys and values of every
// position seen so far, so a decoding step only projects the new token.
//
// Legend: L = layers, S = capacity (positions the buffers hold), C = model width (heads × head width).

import Tensors

/// Keys and values of every past position of one sequence, for every layer.
///
/// One cache per sequence (not one padded cache per batch) lets sequences of different lengths decode
/// together without padding, and lets a finished sequence drop out of the batch by simply being released.
/// Buffers are preallocated `[1, S, C]` and grow by doubling; a copy (beam search forking a hypothesis)
/// shares storage until one side writes (`Tensor` is copy-on-write).
public struct KVCache: Sendable {
    /// Positions whose keys and values are stored (the past length of the next step).
    public private(set) var length: Int
    /// Positions the buffers hold before they must grow.
    public private(set) var capacity: Int
    /// Width of one position's keys (all heads).
    public let width: Int
    // per layer: [1, S, C]
    private(set) var keys: [Tensor]
    // per layer: [1, S, C]
    private(set) var values: [Tensor]

    /// An empty cache for `layers` layers of width `width`, with room for `capacity` positions.
    public init(layers: Int, width: Int, capacity: Int) {
        precondition(layers >= 1 && width >= 1, "KVCache: \(layers) layers of width \(width)")
        let room = max(capacity, 1)
        length = 0
        self.capacity = room
        self.width = width
        // Separate buffers: `values = keys` would share storage and make the first write copy.
        keys = (0..<layers).map { _ in Tensor(zeros: [1, room, width]) }
        values = (0..<layers).map { _ in Tensor(zeros: [1, room, width]) }
    }

    /// Number of layers.
    public var layerCount: Int { keys.count }

    /// Makes room for `count` more positions, doubling the buffers as needed.
    public mutating func reserve(_ count: Int) {
        let needed = length + count
        guard needed > capacity else { return }
        var room = capacity
        while room < needed { room *= 2 }
        for layer in 0..<keys.count {
            var k = Tensor(zeros: [1, room, width])
            k.update(axis: 1, at: 0, from: keys[layer])
            keys[layer] = k
            var v = Tensor(zeros: [1, room, width])
            v.update(axis: 1, at: 0, from: values[layer])
            values[layer] = v
        }
        capacity = room
    }

    /// Writes the keys and values `[n, C]` of the next `n` positions of `layer` after the stored ones.
    /// Call `reserve(n)` before the first layer and `advance(by: n)` after the last.
    mutating func write(layer: Int, keys newKeys: Tensor, values newValues: Tensor) {
        let n = newKeys.shape[0]
        precondition(newKeys.shape == [n, width] && newValues.shape == [n, width] && length + n <= capacity,
                     "KVCache.write: \(newKeys.shape) at \(length) of \(capacity)")
        keys[layer].update(axis: 1, at: length, from: newKeys.reshaped([1, n, width]))
        values[layer].update(axis: 1, at: length, from: newValues.reshaped([1, n, width]))
    }

    /// Commits `n` positions written to every layer.
    mutating func advance(by n: Int) {
        precondition(length + n <= capacity, "KVCache.advance: \(length) + \(n) of \(capacity)")
        length += n
    }
}
