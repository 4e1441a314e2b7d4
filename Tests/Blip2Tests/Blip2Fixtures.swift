// Locating the committed fixtures, reading them through `SafeTensors`, comparing tensors against goldens,
// collecting traces, and writing (broken) checkpoints for the strict-loading tests.

import Blip2
import Foundation
import SafeTensors
import Tensors
import Testing
import TestSupport

/// Paths of the fixtures this test target reads.
enum Blip2Fixtures {
    /// `Tests/Fixtures`, found from this source file's path.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../Fixtures")
        .standardizedFileURL

    /// A published config.json copy under `Tests/Fixtures/configs/`.
    static func publishedConfig(_ name: String) -> URL {
        root.appendingPathComponent("configs/\(name).json")
    }

    /// The tiny fixture shapes written by `Tests/Reference/make_blip2_fixtures.py`.
    static let tinyNames = ["tiny-a", "tiny-b"]

    /// `Tests/Fixtures/blip2/<name>/<sub>`.
    static func tiny(_ name: String, _ sub: String) -> URL {
        root.appendingPathComponent("blip2/\(name)/\(sub)")
    }

    /// `Tests/Fixtures/blip2/images/<file>`.
    static func image(_ file: String) -> URL {
        root.appendingPathComponent("blip2/images/\(file)")
    }

    /// The reference tensors of a tiny configuration (`outputs.safetensors` or `opt-outputs.safetensors`).
    static func outputs(_ name: String, _ file: String = "outputs.safetensors") throws -> SafeTensorsFile {
        try SafeTensorsFile(path: tiny(name, file).path)
    }
}

/// Tensor shapes from a safetensors header, read with the `SafeTensors` module.
struct SafeTensorsShapes {
    let shapes: [String: [Int]]

    init(contentsOf url: URL) throws {
        shapes = try SafeTensorsFile(path: url.path).header.entries.mapValues(\.shape)
    }
}

extension SafeTensorsFile {
    /// A fixture tensor of exact small integers stored as F32 (ids, masks, indices), as rows of Ints.
    func integerRows(_ name: String) throws -> [[Int]] {
        let t = try tensor(named: name)
        let (rows, columns) = (t.shape[0], t.shape[1])
        let values = t.scalars.map { Int($0) }
        return (0..<rows).map { Array(values[($0 * columns)..<(($0 + 1) * columns)]) }
    }
}

/// Expects `actual` within `atol` (absolute) of `expected` everywhere, naming the stage on failure.
func expectClose(
    _ actual: Tensor, _ expected: Tensor, atol: Float, _ stage: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.shape == expected.shape, "\(stage): shape \(actual.shape) vs \(expected.shape)",
            sourceLocation: sourceLocation)
    let diff = maxAbsDifference(actual, expected)
    #expect(diff <= atol, "\(stage): max |diff| \(diff) > \(atol)", sourceLocation: sourceLocation)
}

/// Collects what a forward pass reports to a `Blip2Trace`, in order.
final class TraceRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(String, Tensor)] = []

    /// A trace that records into this recorder.
    var trace: Blip2Trace { Blip2Trace { [self] name, tensor in record(name, tensor) } }

    private func record(_ name: String, _ tensor: Tensor) {
        lock.lock()
        entries.append((name, tensor))
        lock.unlock()
    }

    /// Names in the order they were recorded.
    var names: [String] { lock.withLock { entries.map(\.0) } }

    /// The last tensor recorded under `name`.
    subscript(name: String) -> Tensor? { lock.withLock { entries.last { $0.0 == name }?.1 } }

    /// Compares every recorded stage that the reference file also holds, in computation order, so the first
    /// failure names the first stage that diverges; returns the names compared.
    @discardableResult
    func compare(
        to reference: SafeTensorsFile, atol: Float, tolerances: [String: Float] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String] {
        var compared: [String] = []
        for (name, tensor) in lock.withLock({ entries }) where reference.entry(name) != nil {
            expectClose(tensor, try reference.tensor(named: name), atol: tolerances[name] ?? atol, name,
                        sourceLocation: sourceLocation)
            compared.append(name)
        }
        return compared
    }
}

/// A fresh empty directory under the system temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("blip2-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes an F32 safetensors file holding `tensors` (sorted by name, 8-byte aligned header).
func writeSafeTensors(_ tensors: [String: Tensor], to url: URL) throws {
    var header = "{"
    var data: [UInt8] = []
    for (i, name) in tensors.keys.sorted().enumerated() {
        guard let t = tensors[name] else { continue }
        let begin = data.count
        for v in t.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
        let shape = t.shape.map(String.init).joined(separator: ",")
        header += (i == 0 ? "" : ",") + "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape)],"
            + "\"data_offsets\":[\(begin),\(data.count)]}"
    }
    header += "}"
    var headerBytes = Array(header.utf8)
    while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { bytes += $0 }
    bytes += headerBytes + data
    try Data(bytes).write(to: url)
}

/// Every tensor of a safetensors file, by name.
func readAllTensors(_ url: URL) throws -> [String: Tensor] {
    let file = try SafeTensorsFile(path: url.path)
    var out: [String: Tensor] = [:]
    for name in file.names { out[name] = try file.tensor(named: name) }
    return out
}
