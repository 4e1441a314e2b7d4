// Row gathers: token embeddings and position embeddings (`nn.Embedding` lookups).

extension Kernels {
    /// Rows `indices` of `table`, in order: table [V, C], indices (N ids) -> [N, C].
    /// Ids come from requests, so an id outside `0..<V` throws instead of trapping.
    public static func gatherRows(_ table: Tensor, indices: [Int]) throws(TensorError) -> Tensor {
        precondition(table.rank == 2, "gatherRows wants a [V, C] table, got \(table.shape)")
        let (v, c) = (table.shape[0], table.shape[1])
        for i in indices where i < 0 || i >= v { throw .indexOutOfRange(index: i, rows: v) }
        var out = Tensor(zeros: [indices.count, c])
        table.withUnsafeBufferPointer { tb in
            out.withUnsafeMutableBufferPointer { ob in
                guard let tp = tb.baseAddress, let op = ob.baseAddress else { return }
                for (r, i) in indices.enumerated() { (op + r * c).update(from: tp + i * c, count: c) }
            }
        }
        return out
    }
}
