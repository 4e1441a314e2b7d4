// Shared JSON plumbing for the configuration types: typed field access with Hugging Face defaults,
// JSON-path error messages, and the one place where Foundation's DecodingError becomes Blip2ConfigError.

import Foundation

/// Decodes configuration files into the typed config structs, turning every failure into a
/// `Blip2ConfigError` that names the field.
public enum ConfigJSON {
    /// The largest config file accepted. Published BLIP-2 configs are under 10 KB; a multi-megabyte
    /// "config" is a wrong path (e.g. a weight file), and reading it whole would waste memory.
    public static let maxConfigBytes = 4 * 1024 * 1024

    /// Decodes `T` from JSON bytes. Unknown keys are ignored (configs carry many training-only fields).
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(Blip2ConfigError) -> T {
        guard data.count <= maxConfigBytes else {
            throw .invalidJSON(reason: "\(data.count) bytes is more than the \(maxConfigBytes)-byte limit")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as Blip2ConfigError {
            throw error
        } catch let error as DecodingError {
            throw configError(from: error)
        } catch {
            throw .invalidJSON(reason: String(describing: error))
        }
    }

    /// Reads and decodes `T` from a file, reading at most one byte past the size limit.
    public static func load<T: Decodable>(_ type: T.Type, from url: URL) throws(Blip2ConfigError) -> T {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            data = try handle.read(upToCount: maxConfigBytes + 1) ?? Data()
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        guard data.count <= maxConfigBytes else {
            throw .invalidJSON(reason: "\(url.path) is larger than the \(maxConfigBytes)-byte limit")
        }
        return try decode(type, from: data)
    }

    /// Renders a coding path the way the fields are written in the JSON: `a.b[0].c`.
    static func path(_ codingPath: [any CodingKey], appending key: (any CodingKey)? = nil) -> String {
        var text = ""
        for component in codingPath + (key.map { [$0] } ?? []) {
            if let index = component.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? component.stringValue : "." + component.stringValue
            }
        }
        return text.isEmpty ? "(root)" : text
    }

    static func configError(from error: DecodingError) -> Blip2ConfigError {
        switch error {
        case let .typeMismatch(type, context):
            return .wrongType(field: path(context.codingPath), expected: jsonTypeName(type))
        case let .valueNotFound(type, context):
            return .wrongType(field: path(context.codingPath), expected: jsonTypeName(type) + ", not null")
        case let .keyNotFound(key, context):
            return .missingField(path(context.codingPath, appending: key))
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                return .invalidJSON(reason: context.debugDescription)
            }
            return .invalidValue(field: path(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return .invalidJSON(reason: String(describing: error))
        }
    }

    /// A JSON-flavoured name for the Swift type a field is decoded as, for error messages.
    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "integer"
        case is Double.Type, is Float.Type: return "number"
        case is Bool.Type: return "boolean"
        case is String.Type: return "string"
        case is [String].Type: return "array of strings"
        case is [Int].Type: return "array of integers"
        case is TokenIDs.Type: return "integer or array of integers"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Dictionary") || name.hasPrefix("KeyedDecodingContainer") { return "object" }
            if name.hasPrefix("Array") || name.hasPrefix("UnkeyedDecodingContainer") { return "array" }
            return name
        }
    }
}

/// The string keys of a config object. One type serves every config struct, so a struct's decoder can
/// ask for any field by its JSON name and unknown keys cost nothing.
struct ConfigKey: CodingKey, Hashable {
    let stringValue: String
    let intValue: Int? = nil

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == ConfigKey {
    /// The full JSON path of `name` inside this container.
    func fieldPath(_ name: String) -> String {
        ConfigJSON.path(codingPath, appending: ConfigKey(name))
    }

    /// A field that falls back to the upstream class default when absent. An explicit `null` is refused:
    /// upstream's strict dataclasses refuse it too, and silently defaulting would hide a broken export.
    func value<T: Decodable>(_ name: String, default defaultValue: T) throws -> T {
        let key = ConfigKey(name)
        guard contains(key) else { return defaultValue }
        if try decodeNil(forKey: key) {
            throw Blip2ConfigError.wrongType(field: fieldPath(name), expected: ConfigJSON.jsonTypeName(T.self))
        }
        return try decode(T.self, forKey: key)
    }

    /// A field whose absence and `null` both mean "not set" (e.g. `image_token_index`, `pad_token_id`).
    func optionalValue<T: Decodable>(_ name: String) throws -> T? {
        let key = ConfigKey(name)
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decode(T.self, forKey: key)
    }

    /// A field without which the model cannot be built.
    func required<T: Decodable>(_ name: String) throws -> T {
        let key = ConfigKey(name)
        guard contains(key) else { throw Blip2ConfigError.missingField(fieldPath(name)) }
        if try decodeNil(forKey: key) {
            throw Blip2ConfigError.wrongType(field: fieldPath(name), expected: ConfigJSON.jsonTypeName(T.self))
        }
        return try decode(T.self, forKey: key)
    }
}

/// Validation helpers shared by the config types; each throws an error naming the field.
enum ConfigCheck {
    static func positive(_ value: Int, _ field: String) throws(Blip2ConfigError) {
        guard value > 0 else { throw .invalidValue(field: field, reason: "must be at least 1, got \(value)") }
    }

    static func positive(_ value: Double, _ field: String) throws(Blip2ConfigError) {
        guard value > 0, value.isFinite else {
            throw .invalidValue(field: field, reason: "must be a positive finite number, got \(value)")
        }
    }

    static func nonNegative(_ value: Int, _ field: String) throws(Blip2ConfigError) {
        guard value >= 0 else { throw .invalidValue(field: field, reason: "must not be negative, got \(value)") }
    }

    static func divides(heads: Int, width: Int, headsField: String, widthField: String) throws(Blip2ConfigError) {
        try positive(heads, headsField)
        try positive(width, widthField)
        guard width % heads == 0 else {
            throw .invalidValue(
                field: headsField,
                reason: "\(heads) heads do not divide \(widthField) \(width) into equal head widths")
        }
    }

    /// A token id, when set, must index a row of the embedding table.
    static func tokenID(_ id: Int?, vocabSize: Int, _ field: String) throws(Blip2ConfigError) {
        guard let id else { return }
        guard id >= 0, id < vocabSize else {
            throw .invalidValue(field: field, reason: "token id \(id) is outside the vocabulary 0..<\(vocabSize)")
        }
    }

    static func tokenIDs(_ ids: TokenIDs?, vocabSize: Int, _ field: String) throws(Blip2ConfigError) {
        guard let ids else { return }
        guard !ids.values.isEmpty else { throw .invalidValue(field: field, reason: "must not be an empty list") }
        for id in ids.values { try tokenID(id, vocabSize: vocabSize, field) }
    }
}

/// A token-id field that Hugging Face allows as one integer or a list (`eos_token_id: 2` or `[2, 50118]`).
public struct TokenIDs: Codable, Equatable, Hashable, Sendable, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral
{
    /// The ids, in file order; a single integer in the file becomes a one-element list.
    public let values: [Int]
    /// Whether the file wrote a list (kept so encoding reproduces the input's shape).
    public let wasList: Bool

    public init(_ values: [Int]) {
        self.values = values
        wasList = values.count != 1
    }

    public init(integerLiteral value: Int) {
        values = [value]
        wasList = false
    }

    public init(arrayLiteral elements: Int...) {
        values = elements
        wasList = true
    }

    /// The first id: what code that needs one id (e.g. padding a finished row) uses.
    public var first: Int? { values.first }

    /// Decodes one integer or a list of integers.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(Int.self) {
            values = [single]
            wasList = false
        } else if let list = try? container.decode([Int].self) {
            values = list
            wasList = true
        } else {
            throw Blip2ConfigError.wrongType(
                field: ConfigJSON.path(decoder.codingPath), expected: "integer or array of integers")
        }
    }

    /// Writes the shape the file had: an integer for a single id, else a list.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if wasList || values.count != 1 {
            try container.encode(values)
        } else {
            try container.encode(values[0])
        }
    }
}

extension ConfigJSON {
    /// The JSON path of a nested object as a prefix for its field names: `vision_config.` (empty at root).
    static func prefix(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? "" : path(codingPath) + "."
    }
}
