// A loosely typed JSON tree for tokenizer files, plus checked accessors that turn every wrong shape into a
// `TokenizerError` naming the stage and field (the files are hand-edited in the wild; nothing here may crash).
import Foundation

/// A JSON document as read from `tokenizer.json` or `tokenizer_config.json`.
///
/// The HF formats are open-ended (each stage has its own fields keyed by `type`), so they are read into this tree
/// first and each stage picks its fields through `StageConfig`. Objects keep their keys byte-exact and in order
/// (see JSONParser).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses `data` as JSON; `file` names the source in the error.
    static func parse(_ data: Data, file: String) throws(TokenizerError) -> JSONValue {
        try JSONParser.parse(Array(data), file: file)
    }

    var isNull: Bool { self == .null }
    var stringValue: String? { if case let .string(s) = self { s } else { nil } }
    var boolValue: Bool? { if case let .bool(b) = self { b } else { nil } }
    var intValue: Int? {
        switch self {
        case let .int(i): i
        // Whole numbers written as 1.0 are still integers.
        case let .double(d) where d.rounded() == d && abs(d) < 9.0e15: Int(d)
        default: nil
        }
    }
    var doubleValue: Double? {
        switch self {
        case let .int(i): Double(i)
        case let .double(d): d
        default: nil
        }
    }
    var arrayValue: [JSONValue]? { if case let .array(a) = self { a } else { nil } }
    var objectValue: JSONObject? { if case let .object(o) = self { o } else { nil } }
}

/// A JSON object: its members in file order with byte-exact keys, and a lookup by key for field access (a key
/// written twice answers with its last value, as serde_json does).
public struct JSONObject: Sendable, Equatable {
    public let pairs: [(key: String, value: JSONValue)]
    private let lastIndex: [String: Int]

    init(_ pairs: [(key: String, value: JSONValue)]) {
        self.pairs = pairs
        var index: [String: Int] = [:]
        for (position, pair) in pairs.enumerated() { index[pair.key] = position }
        lastIndex = index
    }

    public subscript(key: String) -> JSONValue? {
        lastIndex[key].map { pairs[$0].value }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.pairs.count == rhs.pairs.count
            && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value }
    }
}

/// One JSON object of a tokenizer file with the name of the stage it configures, so that every accessor can
/// report `stage.field: reason` when the field is missing or of the wrong kind.
struct StageConfig: Sendable {
    let stage: String
    let fields: JSONObject

    init(stage: String, fields: JSONObject) {
        self.stage = stage
        self.fields = fields
    }

    init(stage: String, value: JSONValue) throws(TokenizerError) {
        guard let fields = value.objectValue else {
            throw .invalidField(stage: stage, field: "", reason: "expected a JSON object")
        }
        self.init(stage: stage, fields: fields)
    }

    /// The HF `type` discriminator of the stage.
    func type() throws(TokenizerError) -> String {
        guard let type = fields["type"]?.stringValue else {
            throw .invalidField(stage: stage, field: "type", reason: "missing or not a string")
        }
        return type
    }

    func has(_ key: String) -> Bool { !(fields[key]?.isNull ?? true) }

    func string(_ key: String) throws(TokenizerError) -> String {
        guard let value = fields[key]?.stringValue else { throw wrong(key, "a string") }
        return value
    }

    func string(_ key: String, default value: String) throws(TokenizerError) -> String {
        has(key) ? try string(key) : value
    }

    func optionalString(_ key: String) throws(TokenizerError) -> String? {
        has(key) ? try string(key) : nil
    }

    func bool(_ key: String, default value: Bool) throws(TokenizerError) -> Bool {
        guard has(key) else { return value }
        guard let b = fields[key]?.boolValue else { throw wrong(key, "a boolean") }
        return b
    }

    func optionalBool(_ key: String) throws(TokenizerError) -> Bool? {
        has(key) ? try bool(key, default: false) : nil
    }

    func int(_ key: String) throws(TokenizerError) -> Int {
        guard let value = fields[key]?.intValue else { throw wrong(key, "an integer") }
        return value
    }

    func int(_ key: String, default value: Int) throws(TokenizerError) -> Int {
        has(key) ? try int(key) : value
    }

    func optionalInt(_ key: String) throws(TokenizerError) -> Int? {
        has(key) ? try int(key) : nil
    }

    func array(_ key: String) throws(TokenizerError) -> [JSONValue] {
        guard let value = fields[key]?.arrayValue else { throw wrong(key, "an array") }
        return value
    }

    func object(_ key: String) throws(TokenizerError) -> JSONObject {
        guard let value = fields[key]?.objectValue else { throw wrong(key, "an object") }
        return value
    }

    /// A nested stage (e.g. one element of a `Sequence`), named `stage.key[index]` in errors.
    func child(_ name: String, _ value: JSONValue) throws(TokenizerError) -> StageConfig {
        try StageConfig(stage: "\(stage).\(name)", value: value)
    }

    func wrong(_ key: String, _ expected: String) -> TokenizerError {
        let reason = has(key) ? "expected \(expected)" : "missing (expected \(expected))"
        return .invalidField(stage: stage, field: key, reason: reason)
    }
}
