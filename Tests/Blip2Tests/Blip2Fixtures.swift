// Locating the committed fixtures, and reading the shapes in a safetensors header (enough to cross-check
// configs against checkpoints without depending on the SafeTensors target's progress).

import Foundation
import Testing

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
}

/// Tensor shapes from a safetensors header: an 8-byte little-endian length, then a JSON object mapping
/// each tensor name to `{dtype, shape, data_offsets}`, plus an optional `__metadata__` entry.
struct SafeTensorsShapes {
    let shapes: [String: [Int]]

    init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        let lengthBytes = try #require(data.count >= 8 ? data.prefix(8) : nil, "\(url.path) is too short")
        let length = lengthBytes.reversed().reduce(0) { ($0 << 8) | Int($1) }
        let header = try #require(
            data.count >= 8 + length ? data.subdata(in: 8..<(8 + length)) : nil, "\(url.path) header truncated")
        let object = try #require(try JSONSerialization.jsonObject(with: header) as? [String: Any])
        var shapes: [String: [Int]] = [:]
        for (name, entry) in object where name != "__metadata__" {
            let fields = try #require(entry as? [String: Any], "\(name) is not an object")
            shapes[name] = try #require(fields["shape"] as? [Int], "\(name) has no integer shape")
        }
        self.shapes = shapes
    }
}
