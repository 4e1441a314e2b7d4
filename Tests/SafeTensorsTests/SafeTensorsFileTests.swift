import Foundation
import Testing
import Tensors
@testable import SafeTensors

@Suite("Safetensors files written by Python load exactly")
struct SafeTensorsFileTests {
    @Test("F32, F16 and BF16 tensors widen to the same f32 values torch produces, specials included")
    func dtypesRoundTrip() throws {
        let file = try SafeTensorsFile(path: safetensorsFixture("dtypes.safetensors"))
        #expect(file.entry("a_f16")?.dtype == .f16)
        #expect(file.entry("a_bf16")?.dtype == .bf16)
        for name in ["a_f16", "a_bf16", "special_f16", "special_bf16", "odd_f16"] {
            let got = try file.tensor(named: name)
            let want = try file.tensor(named: name + "_as_f32")
            #expect(got.shape == want.shape, "\(name)")
            // Exact bits, except NaN payloads: torch's CPU half→float gives 0x7FFFFFFF for the
            // half NaN 0x7E00 where IEEE widening (ours, numpy's) gives the quiet NaN 0x7FC00000.
            let bits = { (t: Tensor) in t.scalars.map { $0.isNaN ? UInt32.max : $0.bitPattern } }
            #expect(bits(got) == bits(want), "\(name)")
        }
        let special = try file.tensor(named: "special_f32").scalars
        #expect(special[7] == .infinity && special[8] == -.infinity && special[9].isNaN)
        #expect(special[1].sign == .minus && special[1] == 0)
    }

    @Test("an aligned F32 tensor is borrowed from the mapping without a copy")
    func f32IsZeroCopy() throws {
        let file = try SafeTensorsFile(path: safetensorsFixture("dtypes.safetensors"))
        let a = try file.tensor(named: "a_f32")
        #expect(a.shape == [3, 5])
        #expect(a.isBorrowed)
        var b = a
        b[0, 0] = 42
        #expect(!b.isBorrowed && a[0, 0] != 42)
    }

    @Test("scalars, empty tensors and metadata come through")
    func scalarEmptyMetadata() throws {
        let file = try SafeTensorsFile(path: safetensorsFixture("dtypes.safetensors"))
        let s = try file.tensor(named: "scalar_f32")
        #expect(s.shape == [] && s.scalars == [3.25])
        let e = try file.tensor(named: "empty_f32")
        #expect(e.shape == [0, 4] && e.count == 0)
        #expect(file.metadata["generator"] == "Tests/Reference/make_kernel_fixtures.py")
        #expect(file.metadata["torch"]?.hasPrefix("2.13.0") == true)
    }

    @Test("an F32 tensor at a misaligned offset is copied and reads correctly")
    func misalignedF32() throws {
        // A 1-byte U8 tensor first pushes the F32 data off 4-byte alignment.
        var header = #"{"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"#
        header += #""x":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}"#
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        let bytes = safetensorsBytes(header: header, data: [7] + f32Bytes([1.5, -2]))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let file = try SafeTensorsFile(path: path)
        let x = try file.tensor(named: "x")
        #expect(x.scalars == [1.5, -2])
        #expect(!x.isBorrowed)
        #expect(throws: SafeTensorsError.unsupportedDType(key: "b", dtype: "U8")) { try file.tensor(named: "b") }
    }

    @Test("opening something that is not a readable regular file is an error, and a FIFO does not hang")
    func ioErrors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: dir.appendingPathComponent("absent").path) }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: dir.path) }
        let fifo = dir.appendingPathComponent("fifo.safetensors").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: SafeTensorsError.io(path: fifo, reason: "not a regular file")) {
            try SafeTensorsFile(path: fifo)
        }
        let tiny = dir.appendingPathComponent("tiny.safetensors")
        try Data([1, 2, 3]).write(to: tiny)
        #expect(throws: SafeTensorsError.fileTooSmall(path: tiny.path, size: 3)) {
            try SafeTensorsFile(path: tiny.path)
        }
    }
}
