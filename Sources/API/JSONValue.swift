import Foundation

/// A parsed JSON document that keeps booleans, numbers and strings apart, so request fields can be checked
/// strictly (a `"5"` where a number belongs is a 400 naming the field, not a silent conversion).
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses a request body; malformed JSON is a 400.
    static func parse(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw APIError(status: 400, code: "invalid_json", message: "the body is not valid JSON")
        }
    }

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// The fields of one JSON object, read strictly: an unknown field or a wrong type is a 400 naming the field.
struct JSONFields {
    let path: String
    let fields: [String: JSONValue]

    init(_ value: JSONValue, path: String, allowed: Set<String>) throws(APIError) {
        guard case .object(let fields) = value else {
            throw .badField(path.isEmpty ? "body" : path, "must be an object, not \(value.typeName)")
        }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .badField(Self.join(path, unknown), "is not a known field")
        }
        self.path = path
        self.fields = fields
    }

    static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    private func present(_ name: String) -> JSONValue? {
        guard let value = fields[name], value != .null else { return nil }
        return value
    }

    func value(_ name: String) -> JSONValue? { present(name) }

    func string(_ name: String) throws(APIError) -> String? {
        guard let value = present(name) else { return nil }
        guard case .string(let s) = value else { throw .badField(Self.join(path, name), "must be a string") }
        return s
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = present(name) else { return nil }
        guard case .bool(let b) = value else { throw .badField(Self.join(path, name), "must be a boolean") }
        return b
    }

    func double(_ name: String) throws(APIError) -> Double? {
        guard let value = present(name) else { return nil }
        guard case .number(let d) = value, d.isFinite else {
            throw .badField(Self.join(path, name), "must be a number")
        }
        return d
    }

    func int(_ name: String) throws(APIError) -> Int? {
        guard let d = try double(name) else { return nil }
        guard d == d.rounded(), abs(d) < 1e15 else { throw .badField(Self.join(path, name), "must be an integer") }
        return Int(d)
    }

    func array(_ name: String) throws(APIError) -> [JSONValue]? {
        guard let value = present(name) else { return nil }
        guard case .array(let a) = value else { throw .badField(Self.join(path, name), "must be an array") }
        return a
    }
}
