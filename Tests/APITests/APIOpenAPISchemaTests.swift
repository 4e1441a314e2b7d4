@testable import API
import Foundation
import Testing
import TestSupport

// The request and response schemas of `/openapi.json` against the running server (the route list itself is
// checked by `APIOperationalTests.openAPIDocument`).
extension APIOperationalTests {
    /// One inference route: the server that answers it and a minimal valid request in each body shape.
    typealias FormPart = (name: String, filename: String?, type: String?, body: [UInt8])

    struct SchemaCase {
        var path: String
        var server: APITestServer
        var json: JSON
        var form: [FormPart]
        var query: [(String, String)]
    }

    /// Request properties that carry inputs rather than options, so have no single-field example.
    static let inputProperties: Set<String> = ["images", "image", "texts", "text", "inputs", "input", "model", "user"]

    @Test("every documented request field is accepted in every body shape, and every answer matches its schema")
    func openAPISchemasMatchTheServer() throws {
        let retrieval = try APITestServer()
        defer { retrieval.stop() }
        let captioner = try APITestServer(captioner: try CaptionFixture.model.get())
        defer { captioner.stop() }
        let document = try JSONValue.parse(try retrieval.get("/openapi.json").body)
        let validator = OpenAPISchemaValidator(document: document)
        let png = try APIFixtures.image("landscape.png")
        let image: JSON = .object([("data", .string(Data(png).base64EncodedString()))])
        let file: FormPart = (name: "image", filename: "a.png", type: "image/png", body: png)
        func field(_ name: String, _ text: String) -> FormPart {
            (name: name, filename: nil, type: nil, body: Array(text.utf8))
        }
        let cases = [
            SchemaCase(path: "/caption", server: captioner, json: .object([("images", .array([image]))]),
                       form: [file], query: []),
            SchemaCase(path: "/embed", server: retrieval,
                       json: .object([("inputs", .array([.object([("text", .string("a dog"))]),
                                                         .object([("image", image)])]))]),
                       form: [file, field("text", "a dog")], query: []),
            SchemaCase(path: "/match", server: retrieval,
                       json: .object([("images", .array([image])), ("texts", .array([.string("a dog"),
                                                                                     .string("a cat")]))]),
                       form: [file, field("text", "a dog"), field("text", "a cat")], query: [("text", "a dog")]),
            SchemaCase(path: "/v1/embeddings", server: retrieval, json: .object([("input", .string("a dog"))]),
                       form: [], query: []),
        ]
        for route in cases {
            let operation = document["paths"]?[route.path]?["post"]
            let content = operation?["requestBody"]?["content"]
            let answer = try #require(operation?["responses"]?["200"]?["content"]?["application/json"]?["schema"])
            let errorSchema = try #require(operation?["responses"]?["400"]?["content"]?["application/json"]?["schema"])
            func expectAnswer(_ response: HTTPTestResponse, _ what: String, status: Int = 200) {
                #expect(response.status == status, "\(what): \(response.text)")
                guard let body = try? JSONValue.parse(response.body) else {
                    Issue.record("\(what): the answer is not JSON")
                    return
                }
                let problems = validator.problems(body, status == 200 ? answer : errorSchema)
                #expect(problems.isEmpty, "\(what): \(problems.joined(separator: "; "))")
            }
            // JSON: the minimal request, each documented option alone, and an unknown field.
            let jsonSchema = try #require(content?["application/json"]?["schema"])
            expectAnswer(try route.server.post(route.path, body: route.json.bytes), "\(route.path) JSON")
            for (name, example) in try examples(jsonSchema, route.path) {
                guard case .object(let fields) = route.json else { continue }
                let body = JSON.object(fields + [(name, example)]).bytes
                expectAnswer(try route.server.post(route.path, body: body), "\(route.path) JSON \(name)")
            }
            guard case .object(let minimal) = route.json else { continue }
            expectAnswer(try route.server.post(route.path, body: JSON.object(minimal + [("bogus", .int(1))]).bytes),
                         "\(route.path) JSON unknown field", status: 400)
            // Multipart: the same options as text fields.
            if let formSchema = content?["multipart/form-data"]?["schema"] {
                let type = "multipart/form-data; boundary=\(APIBadInputTests.boundary)"
                for (name, example) in [("", JSON.null)] + (try examples(formSchema, route.path)) {
                    let parts = route.form + (name.isEmpty ? [] : [field(name, Self.text(example))])
                    expectAnswer(try route.server.post(route.path, contentType: type,
                                                       body: APIBadInputTests.multipart(parts)),
                                 "\(route.path) form \(name)")
                }
                let bogus = APIBadInputTests.multipart(route.form + [field("bogus", "1")])
                expectAnswer(try route.server.post(route.path, contentType: type, body: bogus),
                             "\(route.path) form unknown field", status: 400)
            } else {
                #expect(route.path == "/v1/embeddings", "\(route.path) documents no form body")
            }
            // A raw image body: the options as query parameters.
            if content?["image/png"] != nil {
                let parameters = try #require(operation?["parameters"]?.arrayItems)
                var options: [(String, JSON)] = [("", .null)]
                for parameter in parameters {
                    guard case .string(let name)? = parameter["name"] else { continue }
                    options += try examples(.object(["properties": .object([name: parameter["schema"] ?? .null])]),
                                            route.path)
                }
                for (name, example) in options + [("bogus", .int(1))] {
                    let query = route.query + (name.isEmpty ? [] : [(name, Self.text(example))])
                    let target = query.isEmpty ? route.path
                        : route.path + "?" + query.map { "\($0)=\(Self.escape($1))" }.joined(separator: "&")
                    expectAnswer(try route.server.post(target, contentType: "image/png", body: png),
                                 "\(route.path) raw \(name)", status: name == "bogus" ? 400 : 200)
                }
            }
        }
    }

    @Test("a text given to /caption (form field or query item) is a 400 naming it, not silently dropped")
    func captionRefusesTexts() throws {
        let server = try APITestServer(captioner: try CaptionFixture.model.get())
        defer { server.stop() }
        let png = try APIFixtures.image("landscape.png")
        let form = APIBadInputTests.multipart([("image", "a.png", "image/png", png),
                                               ("text", nil, nil, Array("a".utf8))])
        let responses = [
            try server.post("/caption", contentType: "multipart/form-data; boundary=\(APIBadInputTests.boundary)",
                            body: form),
            try server.post("/caption?text=a", contentType: "image/png", body: png),
        ]
        for response in responses {
            #expect(response.status == 400, "\(response.text)")
            #expect(response.text.contains("text"), "\(response.text)")
        }
    }

    @Test("the documented request fields are exactly the ones each handler reads")
    func openAPIFieldsAreTheHandlers() throws {
        let document = try JSONValue.parse(OpenAPIDocument.document.bytes)
        let expected: [(String, Set<String>, Set<String>, Set<String>)] = [  // path, JSON, form, query
            ("/caption", Set(Endpoints.captionKinds.keys).union(["images"]),
             Set(Endpoints.captionKinds.keys).union(["image"]), Set(Endpoints.captionKinds.keys)),
            ("/embed", Set(Endpoints.embedKinds.keys).union(["inputs"]),
             Set(Endpoints.embedKinds.keys).union(["image", "text"]), Set(Endpoints.embedKinds.keys).union(["text"])),
            ("/match", Set(Endpoints.matchKinds.keys).union(["images", "texts"]),
             Set(Endpoints.matchKinds.keys).union(["image", "text"]), Set(Endpoints.matchKinds.keys).union(["text"])),
        ]
        for (path, json, form, query) in expected {
            let operation = document["paths"]?[path]?["post"]
            let content = operation?["requestBody"]?["content"]
            #expect(Self.propertyNames(content?["application/json"]?["schema"]) == json, "\(path) JSON")
            #expect(Self.propertyNames(content?["multipart/form-data"]?["schema"]) == form, "\(path) form")
            let names = operation?["parameters"]?.arrayItems?.compactMap { parameter -> String? in
                guard case .string(let name)? = parameter["name"] else { return nil }
                return name
            }
            #expect(Set(names ?? []) == query, "\(path) query")
            for shape in ["application/json", "multipart/form-data"] {
                #expect(content?[shape]?["schema"]?["additionalProperties"] == .bool(false), "\(path) \(shape)")
            }
        }
    }

    /// (name, example) of each property of an object schema; options without an example are a test failure.
    func examples(_ schema: JSONValue, _ path: String) throws -> [(String, JSON)] {
        guard case .object(let properties)? = schema["properties"] else { return [] }
        var found: [(String, JSON)] = []
        for (name, property) in properties.sorted(by: { $0.key < $1.key }) {
            guard let example = property["examples"]?.arrayItems?.first else {
                #expect(Self.inputProperties.contains(name), "\(path): option \(name) has no example")
                continue
            }
            found.append((name, Self.json(example)))
        }
        return found
    }

    static func propertyNames(_ schema: JSONValue?) -> Set<String> {
        guard case .object(let properties)? = schema?["properties"] else { return [] }
        return Set(properties.keys)
    }

    static func json(_ value: JSONValue) -> JSON {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? .int(Int(d)) : .double(d)
        case .string(let s): return .string(s)
        case .array(let items): return .array(items.map(json))
        case .object(let fields): return .object(fields.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) })
        }
    }

    /// An example as a form field or query value: lists comma-separated, as the handlers read them.
    static func text(_ value: JSON) -> String {
        switch value {
        case .array(let items): return items.map(text).joined(separator: ",")
        case .string(let s): return s
        default: return String(decoding: value.bytes, as: UTF8.self)
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}

extension JSONValue {
    var arrayItems: [JSONValue]? {
        guard case .array(let items) = self else { return nil }
        return items
    }
}
