import Foundation
import HTTP1
import HTTPServer

/// A request body read in one of the three shapes the API takes: JSON, `multipart/form-data` (file fields
/// `image`, text fields `text` and options), or a raw image (`Content-Type: image/jpeg|png`, options in the
/// query string). Options from a form or a query string are converted to JSON by the endpoint's field kinds, so
/// one strict reader serves all three.
struct APIRequest {
    enum FieldKind { case string, int, double, bool, stringList }

    /// The options (and, for JSON, the inputs) as one JSON object.
    var fields: JSONValue
    /// Image bytes given as files or a raw body, in order.
    var images: [[UInt8]] = []
    /// `text` form fields, in order.
    var texts: [String] = []
    var isJSON: Bool

    /// Image types a raw body may have.
    static let rawImageTypes: Set<String> = ["image/jpeg", "image/png"]

    init(_ request: HTTPServerRequest, kinds: [String: FieldKind]) throws(APIError) {
        let contentType = request.headers["Content-Type"].flatMap(HTTPMediaType.parse)
        let mime = contentType.map { "\($0.type)/\($0.subtype)" }
        switch mime {
        case "application/json"?:
            isJSON = true
            fields = try JSONValue.parse(request.body)
            if !request.queryItems.isEmpty {
                throw .badRequest("with a JSON body, options go in the body, not the query string")
            }
        case "multipart/form-data"?:
            isJSON = false
            guard let boundary = contentType?.parameter("boundary") else {
                throw .badRequest("multipart/form-data without a boundary")
            }
            let parts: [MultipartPart]
            do {
                parts = try MultipartFormData.parse(body: request.body, boundary: boundary)
            } catch {
                throw APIError(status: error.status, code: error.code, message: error.message)
            }
            var pairs = Self.queryOptions(request, texts: &texts)
            for part in parts {
                switch part.name {
                case "image":
                    images.append(part.body)
                case "text":
                    texts.append(String(decoding: part.body, as: UTF8.self))
                default:
                    guard part.filename == nil else { throw .badField(part.name, "is not a known file field") }
                    pairs.append((part.name, String(decoding: part.body, as: UTF8.self)))
                }
            }
            fields = try Self.typed(pairs, kinds: kinds)
        case let type? where Self.rawImageTypes.contains(type):
            isJSON = false
            images = [request.body]
            fields = try Self.typed(Self.queryOptions(request, texts: &texts), kinds: kinds)
        case nil where request.body.isEmpty:
            isJSON = false
            fields = try Self.typed(Self.queryOptions(request, texts: &texts), kinds: kinds)
        default:
            throw APIError(status: 415, code: "unsupported_media_type",
                           message: "Content-Type must be application/json, multipart/form-data, image/jpeg or "
                            + "image/png")
        }
    }

    /// The query items other than `text`, whose values go to `texts` (a raw image body has no other place for
    /// the texts of `/match` or `/embed`).
    static func queryOptions(_ request: HTTPServerRequest, texts: inout [String]) -> [(String, String)] {
        var options: [(String, String)] = []
        for (name, value) in request.queryItems {
            if name == "text" { texts.append(value) } else { options.append((name, value)) }
        }
        return options
    }

    /// Form or query options as a JSON object, each converted by its kind; unknown names are a 400.
    static func typed(_ pairs: [(String, String)], kinds: [String: FieldKind]) throws(APIError) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for (name, text) in pairs {
            guard let kind = kinds[name] else { throw .badField(name, "is not a known field") }
            guard object[name] == nil || kind == .stringList else { throw .badField(name, "is given twice") }
            switch kind {
            case .string:
                object[name] = .string(text)
            case .int:
                guard let value = Int(text) else { throw .badField(name, "must be an integer") }
                object[name] = .number(Double(value))
            case .double:
                guard let value = Double(text), value.isFinite else { throw .badField(name, "must be a number") }
                object[name] = .number(value)
            case .bool:
                guard let value = Bool(text) else { throw .badField(name, "must be true or false") }
                object[name] = .bool(value)
            case .stringList:
                let items = text.split(separator: ",").map { JSONValue.string(String($0)) }
                if case .array(let earlier)? = object[name] {
                    object[name] = .array(earlier + items)
                } else {
                    object[name] = .array(items)
                }
            }
        }
        return .object(object)
    }

    /// The bytes of a JSON image `{"data": "<base64 or data: URI>"}`.
    static func imageBytes(_ value: JSONValue, path: String) throws(APIError) -> [UInt8] {
        let fields = try JSONFields(value, path: path, allowed: ["data"])
        guard let text = try fields.string("data") else { throw .badField(path + ".data", "is required") }
        var payload = Substring(text)
        if text.hasPrefix("data:") {
            guard let comma = text.firstIndex(of: ","),
                  text[..<comma].hasSuffix(";base64")
            else { throw .badField(path + ".data", "must be a base64 data: URI") }
            let type = text[text.index(text.startIndex, offsetBy: 5)..<comma].dropLast(7).lowercased()
            guard type.isEmpty || rawImageTypes.contains(type) else {
                throw APIError(status: 415, code: "unsupported_media_type",
                               message: "\(path).data: media type \(type) is not image/jpeg or image/png")
            }
            payload = text[text.index(after: comma)...]
        }
        guard let data = Data(base64Encoded: String(payload), options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw .badField(path + ".data", "is not valid base64")
        }
        return [UInt8](data)
    }

    /// `timeout_ms` as a duration; must be positive.
    static func timeout(_ fields: JSONFields) throws(APIError) -> Duration? {
        guard let ms = try fields.int("timeout_ms") else { return nil }
        guard ms > 0 else { throw .badField("timeout_ms", "must be positive") }
        return .milliseconds(ms)
    }
}
