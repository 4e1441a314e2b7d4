// Hostile and malformed headers, built in the test: each must be a typed error, never a crash.
import Foundation
import Testing
@testable import SafeTensors

@Suite("Malformed safetensors headers are errors, never crashes")
struct SafeTensorsHeaderTests {
    /// One F32 tensor "x" of 2 elements over 8 data bytes.
    static let good = #"{"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    static let data8 = f32Bytes([1, 2])

    @Test("a well-formed header parses with its metadata")
    func wellFormed() throws {
        let h = try parseHeader(safetensorsBytes(header: Self.good, data: Self.data8))
        #expect(h.names == ["x"])
        #expect(h.metadata == ["format": "pt"])
        #expect(h.entries["x"] == SafeTensorsHeader.Entry(name: "x", dtype: .f32, shape: [2], byteRange: 0..<8))
    }

    @Test("a declared header length larger than the file is rejected")
    func headerLongerThanFile() {
        let bytes = safetensorsBytes(header: Self.good, data: Self.data8, declaredLength: 10_000)
        #expect(throws: SafeTensorsError.headerLengthInvalid(path: "mem", declared: 10_000, fileSize: bytes.count)) {
            try parseHeader(bytes)
        }
    }

    @Test("an absurd header length is rejected before anything is read", arguments: [
        UInt64(SafeTensorsHeader.maxHeaderBytes) + 1, UInt64(Int.max), UInt64.max,
    ])
    func absurdHeaderLength(declared: UInt64) {
        let bytes = safetensorsBytes(header: Self.good, data: Self.data8, declaredLength: declared)
        #expect(throws: SafeTensorsError.headerLengthInvalid(path: "mem", declared: declared, fileSize: bytes.count)) {
            try parseHeader(bytes)
        }
    }

    @Test("a file shorter than the length prefix is rejected")
    func tooSmall() {
        #expect(throws: SafeTensorsError.fileTooSmall(path: "mem", size: 5)) { try parseHeader([1, 2, 3, 4, 5]) }
    }

    @Test("every truncation of a valid file is an error, and none crashes")
    func everyTruncatedPrefix() throws {
        let path = safetensorsFixture("dtypes.safetensors")
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect((try? parseHeader(whole)) != nil)
        for n in 0..<whole.count {
            #expect(throws: SafeTensorsError.self, "prefix \(n)") { try parseHeader(Array(whole[0..<n])) }
        }
    }

    @Test("seeded byte flips in a header give a header or an error, never a crash")
    func byteFlips() throws {
        let whole = safetensorsBytes(header: Self.good, data: Self.data8)
        var state: UInt64 = 0x5EED
        for _ in 0..<2000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var bytes = whole
            let at = 8 + Int((state >> 33) % UInt64(Self.good.utf8.count))
            bytes[at] = UInt8(truncatingIfNeeded: state >> 17)
            _ = try? parseHeader(bytes)
        }
    }

    /// Header JSON → the error it must produce (data section: `data8`, 8 bytes).
    static let cases: [(String, SafeTensorsError)] = [
        (#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]"#,
         .invalidHeader(path: "mem", reason: "expected ',' or '}' in an object at byte 52")),
        (#"[1,2]"#, .invalidHeader(path: "mem", reason: "the header is an array, not an object")),
        (#""text""#, .invalidHeader(path: "mem", reason: "the header is a string, not an object")),
        (#"{"x":[]}"#, .invalidHeader(path: "mem", reason: "tensor 'x' is an array, not an object")),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"# +
            #""b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
         .overlappingTensors(path: "mem", first: "a", second: "b")),
        (#"{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#,
         .invalidOffsets(path: "mem", key: "x", reason: "data_offsets [0, 16) exceed the 8-byte data section")),
        (#"{"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#,
         .invalidOffsets(path: "mem", key: "x", reason: "data_offsets end 0 is before begin 8")),
        (#"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
         .invalidOffsets(path: "mem", key: "x", reason: "shape [3] of F32 needs 12 bytes but data_offsets span 8")),
        (#"{"x":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,8]}}"#,
         .unknownDType(path: "mem", key: "x", dtype: "Q4_K")),
        (#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"# +
            #""x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
         .duplicateKey(path: "mem", key: "x")),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, .uncoveredData(path: "mem", from: 0, to: 4)),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, .uncoveredData(path: "mem", from: 4, to: 8)),
        (#"{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
         .invalidHeader(path: "mem", reason: "tensor 'x': shape entries must be non-negative integers")),
        (#"{"x":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#,
         .invalidHeader(path: "mem", reason: "tensor 'x': shape entries must be non-negative integers")),
        (#"{"x":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}}"#,
         .invalidOffsets(path: "mem", key: "x", reason: "shape 3-D overflows")),
        (#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999999]}}"#,
         .invalidOffsets(path: "mem", key: "x", reason: "data_offsets must be two non-negative integers")),
        (#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#,
         .invalidOffsets(path: "mem", key: "x", reason: "data_offsets must be two non-negative integers")),
        (#"{"x":{"shape":[2],"data_offsets":[0,8]}}"#,
         .invalidHeader(path: "mem", reason: "tensor 'x' needs exactly one 'dtype' field")),
        (#"{"__metadata__":{"format":1},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
         .invalidHeader(path: "mem", reason: "__metadata__['format'] is a number, not a string")),
        (#"{"__metadata__":[],"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
         .invalidHeader(path: "mem", reason: "__metadata__ is an array, not an object")),
        (String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
         .invalidHeader(path: "mem", reason: "nesting deeper than 32 at byte 32")),
        (#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} trailing"#,
         .invalidHeader(path: "mem", reason: "trailing characters after the JSON value at byte 55")),
        (#"{"\ud800x":{}}"#, .invalidHeader(path: "mem", reason: "lone high surrogate at byte 8")),
    ]

    @Test("each malformed header yields its specific error", arguments: 0..<cases.count)
    func malformed(index: Int) {
        let (header, expected) = Self.cases[index]
        #expect(throws: expected) { try parseHeader(safetensorsBytes(header: header, data: Self.data8)) }
    }

    @Test("a recognised but unsupported dtype opens, and loading it names key and dtype")
    func unsupportedDTypeOnLoad() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("i64.safetensors").path
        let header = #"{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#
        try Data(safetensorsBytes(header: header, data: Self.data8)).write(to: URL(fileURLWithPath: path))
        let file = try SafeTensorsFile(path: path)
        #expect(throws: SafeTensorsError.unsupportedDType(key: "ids", dtype: "I64")) { try file.tensor(named: "ids") }
    }
}
