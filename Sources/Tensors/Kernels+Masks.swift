// Building additive attention masks, and picking the largest logit. Shapes as in Kernels.swift.

extension Kernels {
    /// The value masks add to hide a key: −inf. Softmax maps a row whose every key is hidden to
    /// zeros (see `softmaxInPlace`); a partly hidden row is exactly torch's softmax.
    public static let maskedScore = -Float.infinity

    /// A causal mask [1, 1, Tq, Tk] for queries that are the *last* Tq of Tk positions (a KV
    /// cache holds the first Tk − Tq): query i sees keys 0...(Tk − Tq + i).
    public static func causalMask(queryLength tq: Int, keyLength tk: Int) -> Tensor {
        precondition(tq >= 0 && tk >= tq, "causalMask: \(tq) queries over \(tk) keys")
        var mask = Tensor(zeros: [1, 1, tq, tk])
        mask.withUnsafeMutableBufferPointer { m in
            for i in 0..<tq {
                for j in (tk - tq + i + 1)..<tk { m[i * tk + j] = maskedScore }
            }
        }
        return mask
    }

    /// A padding mask [B, 1, 1, Tk] from an attention mask [B, Tk] of 1 (attend) and 0 (pad),
    /// as Hugging Face's `attention_mask`.
    public static func paddingMask(_ attentionMask: Tensor) -> Tensor {
        precondition(attentionMask.rank == 2, "paddingMask wants [B, Tk], got \(attentionMask.shape)")
        let (b, tk) = (attentionMask.shape[0], attentionMask.shape[1])
        return Tensor(shape: [b, 1, 1, tk], scalars: attentionMask.scalars.map { $0 == 0 ? maskedScore : 0 })
    }

    /// Index of the largest value along the last dim, per row (first one on ties, like torch):
    /// x: [..., C] -> one index per row. NaN never wins.
    public static func argmaxLastDim(_ x: Tensor) -> [Int] {
        let c = x.shape.last ?? 1
        precondition(c > 0, "argmax over an empty dimension")
        return x.withUnsafeBufferPointer { xs in
            (0..<(xs.count / c)).map { r in
                var best = 0
                for j in 1..<max(c, 1) where xs[r * c + j] > xs[r * c + best] || xs[r * c + best].isNaN { best = j }
                return best
            }
        }
    }
}

extension Tensor {
    /// A copy broadcast to `shape` (numpy rules), e.g. the [1, 1, C] class embedding to [B, 1, C].
    public func broadcast(to shape: [Int]) -> Tensor {
        var out = Tensor(zeros: shape)
        Kernels.addInPlace(&out, self)
        return out
    }
}
