@testable import API
import Foundation
import HTTPServer
import Testing
import TestSupport

@Suite("OpenAI embeddings, OpenAPI document, readiness and limits", .serialized)
struct APIOperationalTests {
    @Test("/v1/embeddings answers /embed's vectors in OpenAI's shape, as floats or base64")
    func openAIEmbeddings() throws {
        let server = try APITestServer()
        defer { server.stop() }
        let png = try APIFixtures.image("landscape.png")
        let uri = "data:image/png;base64," + Data(png).base64EncodedString()
        let ours = try server.postJSON("/embed", ["inputs": [["text": "a dog"], ["image": imageField(png)]]])
        let expected = try #require(try ours.json()["data"] as? [[String: Any]]).map { floats($0["embedding"]) }
        let plain = try server.postJSON("/v1/embeddings", ["input": ["a dog", uri], "model": "model"])
        #expect(plain.status == 200, "\(plain.text)")
        let json = try plain.json()
        #expect(json["object"] as? String == "list")
        let data = try #require(json["data"] as? [[String: Any]])
        #expect(data.map { floats($0["embedding"]) } == expected)
        #expect(data.first?["object"] as? String == "embedding")
        #expect(((json["usage"] as? [String: Any])?["prompt_tokens"] as? Int ?? 0) > 0)
        let encoded = try server.postJSON("/v1/embeddings", ["input": "a dog", "encoding_format": "base64"])
        let text = try #require((try encoded.json()["data"] as? [[String: Any]])?.first?["embedding"] as? String)
        let bytes = [UInt8](try #require(Data(base64Encoded: text)))
        let decoded = stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                  | UInt32(bytes[i + 3]) << 24)
        }
        #expect(decoded == expected[0])
        let wrongModel = try server.postJSON("/v1/embeddings", ["input": "a", "model": "gpt-4"])
        #expect(wrongModel.status == 404)
    }

    @Test("/openapi.json is OpenAPI 3.1, documents every route, and every documented route is served")
    func openAPIDocument() throws {
        let server = try APITestServer()
        defer { server.stop() }
        let document = try server.get("/openapi.json").json()
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let registered = API.postRoutes.map { ($0.0, "post") } + API.getRoutes.map { ($0.0, "get") }
            + [("/healthz", "get"), ("/readyz", "get"), ("/metrics", "get")]
        for (path, method) in registered {
            #expect(paths[path]?[method] != nil, "\(method.uppercased()) \(path) is not documented")
        }
        for (path, operations) in paths {
            for method in operations.keys {
                let allowed = server.server.router.allowedMethods(for: path)?.map { $0.rawValue.lowercased() } ?? []
                #expect(allowed.contains(method), "\(method.uppercased()) \(path) is documented but not routed")
            }
        }
    }

    @Test("the server reports ready only after the engine's warm-up batch")
    func readyAfterWarmUp() throws {
        let server = try APITestServer(markReady: false)
        defer { server.stop() }
        let deadline = Date().addingTimeInterval(10)
        var status = 0
        while status != 200, Date() < deadline {
            status = try server.get("/readyz").status
            if status != 200 { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(status == 200)
        #expect(server.server.readiness == .ready)
    }

    @Test("an image with more pixels than allowed is 413 before it is decoded")
    func tooManyPixels() throws {
        let server = try APITestServer { $0.decodeOptions.maxPixels = 100 }
        defer { server.stop() }
        let response = try server.post("/embed", contentType: "image/png", body: try APIFixtures.image("portrait.png"))
        #expect(response.status == 413, "\(response.text)")
        #expect(response.errorCode == "too_large")
    }
}
