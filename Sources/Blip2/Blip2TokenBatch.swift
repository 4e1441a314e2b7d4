// A padded batch of token ids for the Q-Former's text face. `Blip2` never sees strings: the tokenizer
// (another module) turns text into ids; this type only checks that the batch is rectangular and the mask
// binary.

import Tensors

/// T token sequences padded to one length L, with Hugging Face's `attention_mask` (1 = token, 0 = padding).
///
/// Ids are checked against the vocabulary when embedded (`Blip2TextEmbeddings`), since only the checkpoint
/// knows its size.
public struct Blip2TokenBatch: Sendable, Equatable {
    /// Number of sequences T.
    public let count: Int
    /// Padded length L of every sequence.
    public let length: Int
    /// Ids, row-major [T, L].
    public let ids: [Int]
    /// Attention mask, row-major [T, L], each 0 or 1.
    public let mask: [Int]

    /// A batch from padded rows and their masks (as a tokenizer with `padding=True` returns them).
    public init(ids: [[Int]], attentionMask: [[Int]]) throws(Blip2ModelError) {
        guard let first = ids.first, !first.isEmpty else { throw .invalidInput("empty token batch") }
        guard attentionMask.count == ids.count else {
            throw .invalidInput("\(attentionMask.count) attention masks for \(ids.count) sequences")
        }
        for (i, (row, maskRow)) in zip(ids, attentionMask).enumerated() {
            guard row.count == first.count, maskRow.count == first.count else {
                throw .invalidInput("sequence \(i) has \(row.count) ids and \(maskRow.count) mask entries, "
                    + "expected \(first.count) (pad the batch to one length)")
            }
            if let bad = maskRow.first(where: { $0 != 0 && $0 != 1 }) {
                throw .invalidInput("attention mask of sequence \(i) holds \(bad); only 0 and 1 are allowed")
            }
        }
        count = ids.count
        length = first.count
        self.ids = ids.flatMap { $0 }
        mask = attentionMask.flatMap { $0 }
    }

    /// A batch from unpadded sequences, right-padded with `padID` to the longest (mask 0 on padding).
    public init(sequences: [[Int]], padID: Int) throws(Blip2ModelError) {
        let longest = sequences.map(\.count).max() ?? 0
        try self.init(
            ids: sequences.map { $0 + Array(repeating: padID, count: longest - $0.count) },
            attentionMask: sequences.map {
                Array(repeating: 1, count: $0.count) + Array(repeating: 0, count: longest - $0.count)
            })
    }

    /// The ids of sequence `i`, padding included (empty when `i` is not in 0..<count).
    public func row(_ i: Int) -> ArraySlice<Int> {
        guard (0..<count).contains(i) else { return [] }
        return ids[(i * length)..<((i + 1) * length)]
    }

    /// The sequences `indices` (each in 0..<count, checked by the caller), in that order.
    func rows(_ indices: [Int]) -> Blip2TokenBatch {
        var ids: [Int] = []
        var mask: [Int] = []
        ids.reserveCapacity(indices.count * length)
        mask.reserveCapacity(indices.count * length)
        for i in indices {
            ids += self.ids[(i * length)..<((i + 1) * length)]
            mask += self.mask[(i * length)..<((i + 1) * length)]
        }
        return Blip2TokenBatch(count: indices.count, length: length, ids: ids, mask: mask)
    }

    private init(count: Int, length: Int, ids: [Int], mask: [Int]) {
        self.count = count
        self.length = length
        self.ids = ids
        self.mask = mask
    }

    /// The mask as a [T, L] tensor of 0/1.
    var maskTensor: Tensor { Tensor(shape: [count, length], scalars: mask.map(Float.init)) }
}
