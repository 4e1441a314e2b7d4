import Foundation
import Testing
import TestSupport

@Suite("API refuses bad input with the right 4xx and keeps serving", .serialized)
struct APIBadInputTests {
    static let boundary = "tiaoyu-test-boundary"

    static func multipart(_ parts: [(name: String, filename: String?, type: String?, body: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { head += "; filename=\"\(filename)\"" }
            head += "\r\n"
            if let type = part.type { head += "Content-Type: \(type)\r\n" }
            out += Array((head + "\r\n").utf8) + part.body + Array("\r\n".utf8)
        }
        return out + Array("--\(boundary)--\r\n".utf8)
    }

    @Test("bad JSON, wrong types, unknown fields and missing inputs are 400s naming the problem",
          arguments: [
            ("/embed", "{\"inputs\": [", "invalid_json", "not valid JSON"),
            ("/embed", "{\"inputs\": [{\"text\": 5}]}", "invalid_field", "inputs[0].text"),
            ("/embed", "{\"inputs\": [{\"text\": \"a\"}], \"granularity\": 3}", "invalid_field", "granularity"),
            ("/embed", "{\"inputs\": [{\"text\": \"a\"}], \"colour\": \"red\"}", "invalid_field", "colour"),
            ("/embed", "{\"inputs\": [{\"image\": {\"url\": \"x\"}}]}", "invalid_field", "inputs[0].image.url"),
            ("/embed", "{\"inputs\": []}", "invalid_request", "no inputs"),
            ("/match", "{\"texts\": [\"a\"]}", "invalid_request", "no images"),
            ("/match", "{\"images\": [{\"data\": \"!!!\"}], \"texts\": [\"a\"]}", "invalid_field", "base64"),
            ("/match", "{\"images\": [{\"data\": \"iVBORw0K\"}], \"texts\": [\"a\"], \"scores\": [\"x\"]}",
             "invalid_field", "scores[0]"),
            ("/embed", "[1, 2]", "invalid_field", "body"),
          ])
    func badJSON(path: String, body: String, code: String, mention: String) throws {
        let server = try APITestServer()
        defer { server.stop() }
        let response = try server.post(path, body: Array(body.utf8))
        #expect(response.status == 400, "\(response.text)")
        #expect(response.errorCode == code, "\(response.text)")
        #expect(response.text.contains(mention), "\(response.text)")
        #expect(try server.postJSON("/embed", ["inputs": [["text": "still serving"]]]).status == 200)
    }

    @Test("deeply nested JSON is refused without exhausting the stack", arguments: [100, 510, 100_000])
    func deepJSON(depth: Int) throws {
        let server = try APITestServer()
        defer { server.stop() }
        let body = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
        let response = try server.post("/embed", body: body)
        #expect(response.status == 400)
        #expect(try server.postJSON("/embed", ["inputs": [["text": "still serving"]]]).status == 200)
    }

    @Test("a corrupt image is 422, a GIF 415, and with a good image beside it a per-item error in a 200")
    func corruptImage() throws {
        let server = try APITestServer()
        defer { server.stop() }
        var png = try APIFixtures.image("landscape.png")
        png.removeLast(png.count / 2)
        let corrupt = try server.postJSON("/embed", ["inputs": [["image": imageField(png)]]])
        #expect(corrupt.status == 422, "\(corrupt.text)")
        #expect(corrupt.errorCode == "invalid_image")
        let gif = try server.postJSON("/embed", ["inputs": [["image": imageField(Array("GIF89a....".utf8))]]])
        #expect(gif.status == 415, "\(gif.text)")
        let mixed = try server.postJSON("/embed", ["inputs": [
            ["image": imageField(png)], ["image": imageField(try APIFixtures.image("portrait.png"))]]])
        #expect(mixed.status == 200)
        let data = try #require(try mixed.json()["data"] as? [[String: Any]])
        #expect((data[0]["error"] as? [String: Any])?["code"] as? String == "invalid_image")
        #expect(floats(data[1]["embedding"]).count == server.engine.retrieval?.dimension)
    }

    @Test("/match with one corrupt image scores the others and reports the bad one per image")
    func matchWithCorruptImage() throws {
        let server = try APITestServer()
        defer { server.stop() }
        var png = try APIFixtures.image("landscape.png")
        png.removeLast(png.count / 2)
        let response = try server.postJSON("/match", [
            "images": [imageField(png), imageField(try APIFixtures.image("portrait.png"))], "texts": ["a", "b"]])
        #expect(response.status == 200, "\(response.text)")
        let json = try response.json()
        let itm = try #require(json["itm"] as? [Any])
        #expect(itm.first is NSNull)
        #expect(floats(itm.last).count == 2)
        let results = try #require(json["results"] as? [[String: Any]])
        #expect((results[0]["error"] as? [String: Any])?["code"] as? String == "invalid_image")
        #expect((results[1]["ranking"] as? [Any])?.count == 2)
        let allBad = try server.postJSON("/match", ["images": [imageField(png)], "texts": ["a"]])
        #expect(allBad.status == 422)
    }

    @Test("a wrong content type is 415 and too many items 413")
    func contentTypeAndCount() throws {
        let server = try APITestServer { $0.maxItemsPerRequest = 2 }
        defer { server.stop() }
        let text = try server.post("/embed", contentType: "text/plain", body: Array("hello".utf8))
        #expect(text.status == 415)
        let many = try server.postJSON("/embed", ["inputs": [["text": "a"], ["text": "b"], ["text": "c"]]])
        #expect(many.status == 413, "\(many.text)")
        #expect(try server.postJSON("/embed", ["inputs": [["text": "a"], ["text": "b"]]]).status == 200)
    }

    @Test("multipart image and text fields, and raw image bodies with query options, are accepted")
    func multipartAndRaw() throws {
        let server = try APITestServer()
        defer { server.stop() }
        let png = try APIFixtures.image("portrait.png")
        let body = Self.multipart([("image", "p.png", "image/png", png), ("text", nil, nil, Array("a cat".utf8)),
                                   ("scores", nil, nil, Array("itm".utf8))])
        let match = try server.post("/match", contentType: "multipart/form-data; boundary=\(Self.boundary)",
                                    body: body)
        #expect(match.status == 200, "\(match.text)")
        let json = try match.json()
        #expect(json["itm"] != nil && json["itc"] == nil)
        let raw = try server.post("/embed?granularity=tokens", contentType: "image/png", body: png)
        #expect(raw.status == 200, "\(raw.text)")
        let data = try #require(try raw.json()["data"] as? [[String: Any]])
        #expect((data.first?["embedding"] as? [Any])?.count == 8)
        let badOption = try server.post("/embed?granularity=tokens&x=1", contentType: "image/png", body: png)
        #expect(badOption.status == 400)
        #expect(badOption.text.contains("x is not a known field"))
    }

    @Test("/caption without a captioning model is 404 model_not_loaded")
    func captionWithoutModel() throws {
        let server = try APITestServer()
        defer { server.stop() }
        let response = try server.post("/caption", contentType: "image/png",
                                       body: try APIFixtures.image("portrait.png"))
        #expect(response.status == 404)
        #expect(response.errorCode == "model_not_loaded")
        let odd = try server.post("/caption", contentType: "image/png", body: try APIFixtures.image("portrait.png"),
                                  headers: [("Accept", ",;")])
        #expect(odd.status == 404)
    }

    @Test("/info and /v1/models describe the loaded model and the effective settings")
    func infoAndModels() throws {
        let server = try APITestServer { $0.imageStage.maxBatchSize = 3 }
        defer { server.stop() }
        let info = try server.get("/info").json()
        let models = try #require(info["models"] as? [[String: Any]])
        #expect(models.first?["architecture"] as? String == "Blip2ForImageTextRetrieval")
        let batching = try #require(info["batching"] as? [String: Any])
        #expect((batching["image"] as? [String: Any])?["max_batch_size"] as? Int == 3)
        let list = try server.get("/v1/models").json()
        #expect((list["data"] as? [[String: Any]])?.first?["id"] as? String == "model")
    }
}
