@testable import API

/// Checks a JSON value against a schema of `/openapi.json`: the JSON Schema keywords the document uses, and an
/// error for any other keyword, so a schema the test cannot check is a failure rather than a silent pass.
struct OpenAPISchemaValidator {
    /// `components.schemas` of the document, for `$ref`.
    let components: [String: JSONValue]

    /// Keywords that describe and do not constrain.
    static let annotations: Set<String> = ["description", "examples", "contentMediaType"]
    static let checked: Set<String> = ["$ref", "anyOf", "const", "type", "enum", "properties", "required",
                                       "additionalProperties", "items", "minItems", "minimum", "maximum",
                                       "exclusiveMinimum"]

    init(document: JSONValue) {
        guard case .object(let root) = document, case .object(let components)? = root["components"],
              case .object(let schemas)? = components["schemas"] else {
            self.components = [:]
            return
        }
        self.components = schemas
    }

    /// What is wrong with `value`, one line a problem; empty when it conforms.
    func problems(_ value: JSONValue, _ schema: JSONValue, at path: String = "$") -> [String] {
        guard case .object(let keywords) = schema else { return ["\(path): the schema is not an object"] }
        var found: [String] = []
        for (keyword, argument) in keywords.sorted(by: { $0.key < $1.key }) {
            if Self.annotations.contains(keyword) { continue }
            guard Self.checked.contains(keyword) else {
                found.append("\(path): schema keyword \(keyword) is not checked by this validator")
                continue
            }
            found += check(keyword, argument, value, keywords, path)
        }
        return found
    }

    private func check(_ keyword: String, _ argument: JSONValue, _ value: JSONValue,
                       _ keywords: [String: JSONValue], _ path: String) -> [String] {
        switch (keyword, argument) {
        case ("$ref", .string(let ref)):
            let name = String(ref.split(separator: "/").last ?? "")
            guard let target = components[name] else { return ["\(path): unknown $ref \(ref)"] }
            return problems(value, target, at: path)
        case ("anyOf", .array(let options)):
            // Report the closest alternative's problems: the bare "matches none" says too little.
            let tries = options.map { problems(value, $0, at: path) }
            guard !tries.contains(where: \.isEmpty) else { return [] }
            return ["\(path): matches no anyOf alternative; the closest: "
                    + (tries.min { $0.count < $1.count } ?? []).joined(separator: "; ")]
        case ("const", _):
            return value == argument ? [] : ["\(path): \(value) is not \(argument)"]
        case ("enum", .array(let allowed)):
            return allowed.contains(value) ? [] : ["\(path): \(value) is not one of \(allowed)"]
        case ("type", .string(let type)):
            return Self.has(type: type, value) ? [] : ["\(path): \(value.typeName) where \(type) belongs"]
        case ("properties", .object(let properties)):
            guard case .object(let fields) = value else { return [] }
            return properties.sorted(by: { $0.key < $1.key }).flatMap { name, schema in
                fields[name].map { problems($0, schema, at: "\(path).\(name)") } ?? []
            }
        case ("required", .array(let names)):
            guard case .object(let fields) = value else { return [] }
            return names.compactMap { name in
                guard case .string(let name) = name, fields[name] == nil else { return nil }
                return "\(path): required field \(name) is missing"
            }
        case ("additionalProperties", .bool(false)):
            guard case .object(let fields) = value, case .object(let properties)? = keywords["properties"] else {
                return []
            }
            return fields.keys.sorted().filter { properties[$0] == nil }.map { "\(path): undocumented field \($0)" }
        case ("items", let items):
            guard case .array(let elements) = value else { return [] }
            return elements.enumerated().flatMap { problems($1, items, at: "\(path)[\($0)]") }
        case ("minItems", .number(let count)):
            guard case .array(let elements) = value else { return [] }
            return Double(elements.count) >= count ? [] : ["\(path): fewer than \(Int(count)) items"]
        case ("minimum", .number(let bound)), ("maximum", .number(let bound)), ("exclusiveMinimum", .number(let bound)):
            guard case .number(let number) = value else { return [] }
            let ok = keyword == "minimum" ? number >= bound : keyword == "maximum" ? number <= bound : number > bound
            return ok ? [] : ["\(path): \(number) breaks \(keyword) \(bound)"]
        default:
            return ["\(path): cannot read schema keyword \(keyword): \(argument)"]
        }
    }

    static func has(type: String, _ value: JSONValue) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array),
             ("object", .object):
            return true
        case ("integer", .number(let number)):
            return number == number.rounded()
        default:
            return false
        }
    }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields[key]
    }
}
