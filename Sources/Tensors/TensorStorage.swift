// Storage behind `Tensor`: one contiguous block of f32, either owned (allocated here) or borrowed
// (e.g. a read-only memory-mapped checkpoint, kept alive through `owner`).

/// A block of f32 values shared by tensor views. Never mutated while shared: `Tensor` copies it
/// first (copy-on-write), and borrowed storage is never written at all.
final class TensorStorage: @unchecked Sendable {
    // 64 bytes: one cache line and one AVX-512 register, so kernels start rows aligned.
    static let alignment = 64

    let base: UnsafeMutablePointer<Float>
    let count: Int
    /// False for borrowed memory (a read-only mapping): writes must copy first.
    let isWritable: Bool
    /// Keeps borrowed memory alive (nil when this storage owns its allocation).
    private let owner: AnyObject?

    /// Owned, zero-filled storage.
    init(zeroedCount count: Int) {
        precondition(count >= 0, "negative element count")
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
        base = raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
        self.count = count
        isWritable = true
        owner = nil
    }

    /// Borrowed, read-only storage over memory that `owner` keeps alive.
    init(borrowing pointer: UnsafePointer<Float>, count: Int, owner: AnyObject) {
        base = UnsafeMutablePointer(mutating: pointer)
        self.count = count
        isWritable = false
        self.owner = owner
    }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(base).deallocate() }
    }
}
