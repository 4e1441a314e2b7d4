// The f32 tensor every layer of the model works on. Row-major and always contiguous: a view is
// an offset and a shape into shared storage, nothing more, so every kernel can hand a plain
// pointer to BLAS or a loop.

/// A dense, row-major, contiguous f32 tensor with value semantics.
///
/// Copies are cheap (they share storage) and a write through a copy that is not the only owner
/// copies the storage first (copy-on-write, like `Array`). Why a value type: model code passes
/// activations between layers and threads, and value semantics make "who may write this buffer"
/// a compile-time fact instead of a convention. Weights borrowed from a memory-mapped checkpoint
/// are read-only storage: reading them is zero-copy; writing to such a tensor copies it first.
///
/// Shape checks in kernels are `precondition`s: shapes coming from files are validated when the
/// weights are loaded (see `SafeTensors.WeightStore`), so a mismatch here is a programming error.
public struct Tensor: Sendable {
    /// The extent of each dimension, outermost first. `[]` is a scalar (one element).
    public private(set) var shape: [Int]
    /// Number of elements (the product of `shape`).
    public private(set) var count: Int
    var storage: TensorStorage
    /// Index of this tensor's first element in `storage`.
    var offset: Int

    /// Product of `shape`, checking each dimension is non-negative.
    @usableFromInline
    static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "negative dimension in shape \(shape)")
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            precondition(!overflow, "element count of \(shape) overflows Int")
            n = p
        }
        return n
    }

    init(storage: TensorStorage, offset: Int, shape: [Int]) {
        let n = Self.elementCount(shape)
        precondition(offset >= 0 && offset + n <= storage.count, "view out of storage bounds")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        count = n
    }

    /// A tensor of the given shape filled with zeros.
    public init(zeros shape: [Int]) {
        let n = Self.elementCount(shape)
        self.init(storage: TensorStorage(zeroedCount: n), offset: 0, shape: shape)
    }

    /// A tensor of the given shape with every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(zeros: shape)
        if value != 0 { storage.base.update(repeating: value, count: count) }
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        self.init(zeros: shape)
        precondition(scalars.count == count, "\(scalars.count) scalars for shape \(shape)")
        scalars.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { storage.base.update(from: s, count: count) }
        }
    }

    /// A tensor of the given shape whose (zero-initialised) elements are written by `fill`,
    /// e.g. to widen f16 data without an intermediate array.
    public init(shape: [Int], fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        self.init(zeros: shape)
        try fill(UnsafeMutableBufferPointer(start: storage.base, count: count))
    }

    /// A read-only tensor over `count(shape)` floats at `pointer`, which `owner` keeps alive (e.g.
    /// a memory-mapped file). Zero-copy; the first write to the tensor copies it.
    /// `pointer` must be aligned for `Float`.
    public init(borrowing pointer: UnsafePointer<Float>, shape: [Int], owner: AnyObject & Sendable) {
        let n = Self.elementCount(shape)
        precondition(Int(bitPattern: pointer) % MemoryLayout<Float>.alignment == 0, "misaligned f32 data")
        self.init(storage: TensorStorage(borrowing: pointer, count: n, owner: owner), offset: 0, shape: shape)
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// True when the tensor reads memory it does not own (a checkpoint mapping) and has not been
    /// written to since.
    public var isBorrowed: Bool { !storage.isWritable }

    /// All elements in row-major order (a copy; for tests and small outputs).
    public var scalars: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// Reads the elements without copying. The buffer is valid only inside `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base + offset, count: count))
    }

    /// Writes the elements in place, copying shared or borrowed storage first. The buffer is
    /// valid only inside `body`.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUniqueAndWritable()
        return try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: count))
    }

    mutating func makeUniqueAndWritable() {
        if storage.isWritable && isKnownUniquelyReferenced(&storage) { return }
        let fresh = TensorStorage(zeroedCount: count)
        fresh.base.update(from: storage.base + offset, count: count)
        storage = fresh
        offset = 0
    }

    /// Row-major flat index of `indices`, checked against the shape.
    func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "\(indices.count) indices for rank \(shape.count)")
        var flat = 0
        for (i, d) in zip(indices, shape) {
            precondition(i >= 0 && i < d, "index \(indices) out of bounds for shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }

    /// One element, by its index along each dimension (bounds-checked; for tests and small reads,
    /// not for kernels).
    public subscript(_ indices: Int...) -> Float {
        get { storage.base[offset + flatIndex(indices)] }
        set {
            let i = flatIndex(indices)
            makeUniqueAndWritable()
            storage.base[offset + i] = newValue
        }
    }

    /// The same elements under another shape with the same element count (zero-copy).
    /// One dimension may be `-1`, meaning "whatever makes the count match".
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let hole = newShape.firstIndex(of: -1) {
            precondition(newShape.filter { $0 == -1 }.count == 1, "at most one -1 in \(newShape)")
            var rest = newShape
            rest.remove(at: hole)
            let known = Self.elementCount(rest)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[hole] = count / known
        }
        precondition(Self.elementCount(resolved) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(storage: storage, offset: offset, shape: resolved)
    }

    /// Elements `range` along `axis`, all of every other axis (like `x[:, a:b]` in torch).
    /// Zero-copy when the result is contiguous (every axis before `axis` has extent 1, e.g.
    /// rows of a matrix, or axis 0); otherwise a copy.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for rank \(rank)")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis], "slice \(range) of \(shape[axis])")
        var newShape = shape
        newShape[axis] = range.count
        let outer = Self.elementCount(Array(shape[..<axis]))
        let inner = Self.elementCount(Array(shape[(axis + 1)...]))
        if outer == 1 {
            return Tensor(storage: storage, offset: offset + range.lowerBound * inner, shape: newShape)
        }
        var out = Tensor(zeros: newShape)
        let src = storage.base + offset
        let dst = out.storage.base
        let chunk = range.count * inner
        for o in 0..<outer {
            (dst + o * chunk).update(from: src + (o * shape[axis] + range.lowerBound) * inner, count: chunk)
        }
        out.offset = 0
        return out
    }

    /// Overwrites elements `start..<(start + source.shape[axis])` along `axis` with `source`,
    /// whose other extents must match (like `x[:, a:b] = source` in torch): appending a step to
    /// a preallocated KV cache, or placing projected image tokens among text embeddings.
    public mutating func update(axis: Int, at start: Int, from source: Tensor) {
        precondition(axis >= 0 && axis < rank && source.rank == rank,
                     "update: axis \(axis), \(source.shape) into \(shape)")
        for d in 0..<rank where d != axis {
            precondition(source.shape[d] == shape[d], "update: \(source.shape) into \(shape) along \(axis)")
        }
        let n = source.shape[axis]
        precondition(start >= 0 && start + n <= shape[axis], "update: rows \(start)..<\(start + n) of \(shape[axis])")
        let outer = Self.elementCount(Array(shape[..<axis]))
        let inner = Self.elementCount(Array(shape[(axis + 1)...]))
        let extent = shape[axis]
        source.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                for o in 0..<outer {
                    (d + (o * extent + start) * inner).update(from: s + o * n * inner, count: n * inner)
                }
            }
        }
    }

    /// The tensors joined along `axis` (a copy). All other extents must agree.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenate needs at least one tensor")
        let first = parts[0]
        precondition(axis >= 0 && axis < first.rank, "axis \(axis) out of range for rank \(first.rank)")
        var newShape = first.shape
        newShape[axis] = 0
        for p in parts {
            precondition(p.rank == first.rank, "concatenate: ranks differ")
            for d in 0..<p.rank where d != axis {
                precondition(p.shape[d] == first.shape[d], "concatenate: \(p.shape) vs \(first.shape) off axis \(axis)")
            }
            newShape[axis] += p.shape[axis]
        }
        let outer = elementCount(Array(first.shape[..<axis]))
        let inner = elementCount(Array(first.shape[(axis + 1)...]))
        let out = Tensor(zeros: newShape)
        let rowOut = newShape[axis] * inner
        var column = 0
        for p in parts {
            let chunk = p.shape[axis] * inner
            let src = p.storage.base + p.offset
            for o in 0..<outer {
                (out.storage.base + o * rowOut + column).update(from: src + o * chunk, count: chunk)
            }
            column += chunk
        }
        return out
    }
}

extension Tensor: CustomStringConvertible {
    /// Shape and the first few values, for debugging.
    public var description: String {
        let preview = withUnsafeBufferPointer { $0.prefix(8).map { "\($0)" }.joined(separator: ", ") }
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}
