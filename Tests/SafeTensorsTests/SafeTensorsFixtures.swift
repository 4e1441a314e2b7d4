// Helpers: fixture paths and hand-built safetensors files for hostile-input tests.
import Foundation
@testable import SafeTensors

/// `Tests/Fixtures/safetensors/<name>`, found relative to this source file.
func safetensorsFixture(_ name: String, filePath: String = #filePath) -> String {
    URL(fileURLWithPath: filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/safetensors/\(name)").standardizedFileURL.path
}

/// A safetensors file image: the length prefix (or `declaredLength`), `header`, then `data`.
func safetensorsBytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    let n = declaredLength ?? UInt64(json.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + json + data
}

/// Parses an in-memory file image the way `SafeTensorsFile` parses a mapping.
func parseHeader(_ bytes: [UInt8]) throws(SafeTensorsError) -> SafeTensorsHeader {
    let result: Result<SafeTensorsHeader, SafeTensorsError> = bytes.withUnsafeBytes { raw in
        do throws(SafeTensorsError) { return .success(try SafeTensorsHeader.parse(file: raw, path: "mem")) } catch {
            return .failure(error)
        }
    }
    return try result.get()
}

/// A fresh temporary directory, removed by the caller with `FileManager.removeItem`.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tiaoyu-st-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Little-endian bytes of f32 values.
func f32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32($0))) } }
}
