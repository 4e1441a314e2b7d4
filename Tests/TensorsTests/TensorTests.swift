import Testing
@testable import Tensors

@Suite("Tensor storage, views and copy-on-write")
struct TensorTests {
    @Test("a tensor made from scalars reads them back in row-major order")
    func scalarsRoundTrip() {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.count == 6)
        #expect(t[1, 0] == 4)
        #expect(t[0, 2] == 3)
        #expect(t.scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test("writing through a copy leaves the original untouched")
    func copyOnWrite() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        var b = a
        b[0, 0] = 9
        #expect(a[0, 0] == 1)
        #expect(b[0, 0] == 9)
    }

    @Test("reshape shares storage and infers one -1 dimension")
    func reshapeIsAView() {
        let a = Tensor(shape: [2, 6], scalars: (0..<12).map(Float.init))
        let b = a.reshaped([3, -1])
        #expect(b.shape == [3, 4])
        #expect(b.storage === a.storage)
        #expect(b[2, 3] == 11)
    }

    @Test("slicing leading rows is zero-copy and slicing an inner axis copies the right elements")
    func slices() {
        let a = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        let rows = a.slice(axis: 0, 1..<2)
        #expect(rows.storage === a.storage)
        #expect(rows.scalars == [6, 7, 8, 9, 10, 11])
        let inner = a.slice(axis: 1, 1..<3)
        #expect(inner.shape == [2, 2, 2])
        #expect(inner.scalars == [2, 3, 4, 5, 8, 9, 10, 11])
        let empty = a.slice(axis: 1, 2..<2)
        #expect(empty.count == 0)
    }

    @Test("a written view of shared storage copies only its own elements")
    func writingAViewCopiesIt() {
        let a = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        var row = a.slice(axis: 0, 1..<2)
        row[0, 1] = -1
        #expect(row.scalars == [3, -1])
        #expect(a.scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test("concatenation along an inner axis interleaves the parts per outer index")
    func concatenate() {
        let a = Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 2, 2], scalars: [5, 6, 7, 8, 9, 10, 11, 12])
        let c = Tensor.concatenate([a, b], axis: 1)
        #expect(c.shape == [2, 3, 2])
        #expect(c.scalars == [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12])
    }

    @Test("updating a slice along an inner axis writes only those elements, and not into copies")
    func updateSlice() {
        let original = Tensor(zeros: [2, 3, 2])
        var cache = original
        cache.update(axis: 1, at: 1, from: Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 4]))
        #expect(cache.scalars == [0, 0, 1, 2, 0, 0, 0, 0, 3, 4, 0, 0])
        #expect(original.scalars.allSatisfy { $0 == 0 })
    }

    @Test("borrowed memory is read in place and copied before the first write")
    func borrowedStorage() {
        final class Owner: @unchecked Sendable {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 4)
            init() { buffer.initialize(from: [1, 2, 3, 4], count: 4) }
            deinit { buffer.deallocate() }
        }
        let owner = Owner()
        var t = Tensor(borrowing: owner.buffer, shape: [2, 2], owner: owner)
        #expect(t.isBorrowed)
        #expect(t[1, 1] == 4)
        t[1, 1] = 0
        #expect(!t.isBorrowed)
        #expect(owner.buffer[3] == 4)
    }

    @Test("gathering rows rejects an id outside the table instead of trapping")
    func gatherRows() throws {
        let table = Tensor(shape: [3, 2], scalars: [0, 1, 10, 11, 20, 21])
        let rows = try Kernels.gatherRows(table, indices: [2, 0, 2])
        #expect(rows.scalars == [20, 21, 0, 1, 20, 21])
        #expect(throws: TensorError.indexOutOfRange(index: 3, rows: 3)) { try Kernels.gatherRows(table, indices: [3]) }
        #expect(throws: TensorError.indexOutOfRange(index: -1, rows: 3)) {
            try Kernels.gatherRows(table, indices: [-1])
        }
    }
}

@Suite("Mask builders, argmax and broadcast copies")
struct MaskAndHelperTests {
    @Test("a causal mask over a cache lets query i see keys up to Tk − Tq + i")
    func causalMask() {
        let m = Kernels.causalMask(queryLength: 2, keyLength: 4)
        #expect(m.shape == [1, 1, 2, 4])
        let inf = -Float.infinity
        #expect(m.scalars == [0, 0, 0, inf, 0, 0, 0, 0])
    }

    @Test("a padding mask hides the zero positions of an attention mask")
    func paddingMask() {
        let m = Kernels.paddingMask(Tensor(shape: [2, 3], scalars: [1, 1, 0, 0, 1, 1]))
        #expect(m.shape == [2, 1, 1, 3])
        #expect(m.scalars == [0, 0, -.infinity, -.infinity, 0, 0])
    }

    @Test("argmax picks the first largest value per row")
    func argmax() {
        let x = Tensor(shape: [3, 3], scalars: [1, 5, 5, -1, -3, -2, .nan, 0, 2])
        #expect(Kernels.argmaxLastDim(x) == [1, 0, 2])
    }

    @Test("broadcast copies a class embedding over the batch")
    func broadcast() {
        let cls = Tensor(shape: [1, 1, 2], scalars: [3, 4])
        #expect(cls.broadcast(to: [2, 1, 2]).scalars == [3, 4, 3, 4])
    }
}
