import API
import Blip2
import Dispatch
import Foundation
import Inference
import Tensors
import Testing
import TestSupport

/// Offline results of the tiny retrieval model, computed directly (the model itself is checked against
/// transformers in Blip2Tests), for comparison with what the server answers.
enum Offline {
    static func features(_ names: [String]) throws -> Blip2ImageFeatures {
        let model = try APIFixtures.retrieval.get()
        var planes: [Float] = []
        var side = 0
        for name in names {
            let values = try model.preprocessor.pixelValues(from: try APIFixtures.image(name))
            side = values.height
            planes += values.values
        }
        return try model.model.encodeImages(Tensor(shape: [names.count, 3, side, side], scalars: planes))
    }

    static func tokens(_ texts: [String]) throws -> Blip2TokenBatch {
        let model = try APIFixtures.retrieval.get()
        return try Blip2TokenBatch(sequences: texts.map { try model.textIDs($0) }, padID: model.padID)
    }

    /// Mean of the query embeddings, renormalised.
    static func pooled(_ embeds: Tensor, image: Int) -> [Float] {
        let (q, d) = (embeds.shape[1], embeds.shape[2])
        var sum = [Float](repeating: 0, count: d)
        for k in 0..<q { for j in 0..<d { sum[j] += embeds[image, k, j] } }
        let norm = sum.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return sum.map { $0 / norm }
    }
}

@Suite("API over loopback with the tiny retrieval model", .serialized)
struct APIServerTests {
    static let texts = ["a red square", "mountains under a blue sky"]

    @Test("/embed answers the offline image and text embeddings")
    func embedMatchesOffline() throws {
        let server = try APITestServer()
        defer { server.stop() }
        let png = try APIFixtures.image("landscape.png")
        let response = try server.postJSON("/embed", ["inputs": [["image": imageField(png)], ["text": Self.texts[0]]]])
        #expect(response.status == 200, "\(response.text)")
        let json = try response.json()
        #expect(json["object"] as? String == "list")
        #expect(json["normalized"] as? Bool == true)
        let data = try #require(json["data"] as? [[String: Any]])
        #expect(data.count == 2)
        let features = try Offline.features(["landscape.png"])
        #expect(maxDifference(floats(data[0]["embedding"]), Offline.pooled(features.imageEmbeds, image: 0)) < 1e-5)
        #expect(data[0]["modality"] as? String == "image")
        let model = try APIFixtures.retrieval.get()
        let text = try model.model.encodeTexts(try Offline.tokens([Self.texts[0]])).textEmbeds.scalars
        #expect(maxDifference(floats(data[1]["embedding"]), text) < 1e-5)
        #expect(json["dim"] as? Int == model.dimension)
        #expect(response.header("Server-Timing")?.contains("total;dur=") == true)
    }

    @Test("/embed with granularity tokens returns every query embedding")
    func embedTokens() throws {
        let server = try APITestServer()
        defer { server.stop() }
        let png = try APIFixtures.image("portrait.png")
        let response = try server.postJSON("/embed", ["inputs": [["image": imageField(png)]], "granularity": "tokens"])
        #expect(response.status == 200, "\(response.text)")
        let data = try #require(try response.json()["data"] as? [[String: Any]])
        let rows = try #require(data.first?["embedding"] as? [Any])
        let features = try Offline.features(["portrait.png"])
        #expect(rows.count == features.imageEmbeds.shape[1])
        #expect(maxDifference(rows.flatMap { floats($0) }, features.imageEmbeds.scalars) < 1e-5)
    }

    @Test("/match answers the offline ITM probabilities and ITC similarities, ranked")
    func matchMatchesOffline() throws {
        let server = try APITestServer()
        defer { server.stop() }
        let images = try ["landscape.png", "portrait.png"].map { imageField(try APIFixtures.image($0)) }
        let response = try server.postJSON("/match", ["images": images, "texts": Self.texts])
        #expect(response.status == 200, "\(response.text)")
        let json = try response.json()
        let model = try APIFixtures.retrieval.get()
        let features = try Offline.features(["landscape.png", "portrait.png"])
        let tokens = try Offline.tokens(Self.texts)
        let itm = try model.model.matchAll(images: features, texts: tokens).probabilityMatch
        let itc = model.model.similarity(images: features, texts: try model.model.encodeTexts(tokens)).scalars
        let gotITM = (json["itm"] as? [Any] ?? []).flatMap { floats($0) }
        let gotITC = (json["itc"] as? [Any] ?? []).flatMap { floats($0) }
        #expect(maxDifference(gotITM, itm) < 1e-5)
        #expect(maxDifference(gotITC, itc) < 1e-5)
        let results = try #require(json["results"] as? [[String: Any]])
        let ranking = try #require(results.first?["ranking"] as? [[String: Any]])
        let best = itm[0] >= itm[1] ? 0 : 1
        #expect(ranking.first?["text_index"] as? Int == best)
    }

    @Test("concurrent requests are batched and answer what they answer one at a time")
    func concurrentRequestsBatch() throws {
        let server = try APITestServer { $0.imageStage.maxBatchWait = .milliseconds(400) }
        defer { server.stop() }
        let names = ["landscape.png", "portrait.png"]
        let bodies = try names.map { name in
            [UInt8](try JSONSerialization.data(withJSONObject: [
                "inputs": [["image": imageField(try APIFixtures.image(name))]]]))
        }
        let connections = try bodies.map { try server.send("/embed", contentType: "application/json", body: $0) }
        let responses = connections.compactMap { $0.readResponses(1, timeout: 20).first }
        #expect(responses.count == 2)
        #expect(server.engine.metrics.snapshot.largestBatch("image") == 2)
        let metrics = try server.get("/metrics").text
        #expect(metrics.contains("tiaoyu_engine_batches_total{stage=\"image\",size=\"2\"} 1"))
        let features = try Offline.features(names)
        for (index, response) in responses.enumerated() {
            let timing = response.header("Server-Timing") ?? ""
            #expect(timing.contains("batch;desc=\"2\"") && timing.contains("image;dur=")
                    && timing.contains("queue;dur="), "\(timing)")
            let data = try #require(try response.json()["data"] as? [[String: Any]])
            #expect(maxDifference(floats(data.first?["embedding"]), Offline.pooled(features.imageEmbeds, image: index))
                    < 1e-5)
        }
    }

    @Test("a repeated image is a cache hit and skips the vision stage")
    func repeatedImageHitsCache() throws {
        let server = try APITestServer()
        defer { server.stop() }
        let body = ["inputs": [["image": imageField(try APIFixtures.image("landscape.png"))]]]
        let first = try server.postJSON("/embed", body)
        let second = try server.postJSON("/embed", body)
        let firstData = try #require(try first.json()["data"] as? [[String: Any]])
        let secondData = try #require(try second.json()["data"] as? [[String: Any]])
        #expect(firstData.first?["cached"] as? Bool == false)
        #expect(secondData.first?["cached"] as? Bool == true)
        #expect(floats(firstData.first?["embedding"]) == floats(secondData.first?["embedding"]))
        #expect(server.engine.cache.statistics.hits == 1)
        #expect(server.engine.metrics.snapshot.batchSizes["image"]?.values.reduce(0, +) == 1)
        let metrics = try server.get("/metrics").text
        #expect(metrics.contains("tiaoyu_engine_cache_hits_total 1"))
        #expect(metrics.contains("tiaoyu_engine_stage_queue_depth{stage=\"image\"} 0"))
        #expect(metrics.contains("tiaoyu_engine_batch_duration_seconds_count{stage=\"image\"} 1"))
    }

    @Test("concurrent requests for the same image compute it once")
    func duplicatesCoalesce() throws {
        let server = try APITestServer { $0.imageStage.maxBatchWait = .milliseconds(300) }
        defer { server.stop() }
        let body = [UInt8](try JSONSerialization.data(withJSONObject: [
            "inputs": [["image": imageField(try APIFixtures.image("portrait.png"))]]]))
        let connections = try (0..<3).map { _ in
            try server.send("/embed", contentType: "application/json", body: body)
        }
        let responses = connections.compactMap { $0.readResponses(1, timeout: 20).first }
        #expect(responses.map(\.status) == [200, 200, 200])
        #expect(server.engine.coalesced == 2)
        #expect(server.engine.metrics.snapshot.batchSizes["image"] == [1: 1])
    }

    @Test("a full queue answers 429 with Retry-After before decoding, and the queued request still succeeds")
    func fullQueueRefuses() throws {
        let server = try APITestServer {
            $0.requestQueueCapacity = 1
            $0.imageStage.maxBatchWait = .milliseconds(600)
        }
        defer { server.stop() }
        let body = [UInt8](try JSONSerialization.data(withJSONObject: [
            "inputs": [["image": imageField(try APIFixtures.image("portrait.png"))]]]))
        let waiting = try server.send("/embed", contentType: "application/json", body: body)
        Thread.sleep(forTimeInterval: 0.1)
        let refused = try server.post("/embed", body: body)
        #expect(refused.status == 429)
        #expect(refused.errorCode == "overloaded")
        #expect(Int(refused.header("Retry-After") ?? "") ?? 0 >= 1)
        #expect(waiting.readResponses(1, timeout: 20).first?.status == 200)
        #expect(server.engine.metrics.snapshot.rejected == 1)
    }

    @Test("a request whose deadline passes while queued gets 504")
    func deadlineExpires() throws {
        let server = try APITestServer { $0.imageStage.maxBatchWait = .milliseconds(500) }
        defer { server.stop() }
        let response = try server.postJSON("/embed", [
            "inputs": [["image": imageField(try APIFixtures.image("portrait.png"))]], "timeout_ms": 50])
        #expect(response.status == 504)
        #expect(response.errorCode == "deadline_exceeded")
        #expect(server.engine.metrics.snapshot.expired >= 1)
        #expect(try server.postJSON("/embed", ["inputs": [["text": "still serving"]]]).status == 200)
    }

    @Test("a client that disconnects has its queued work dropped")
    func disconnectCancels() throws {
        let server = try APITestServer { $0.imageStage.maxBatchWait = .milliseconds(500) }
        defer { server.stop() }
        let body = [UInt8](try JSONSerialization.data(withJSONObject: [
            "inputs": [["image": imageField(try APIFixtures.image("landscape.png"))]]]))
        let connection = try server.send("/embed", contentType: "application/json", body: body)
        Thread.sleep(forTimeInterval: 0.1)
        shutdown(connection.fd, Int32(SHUT_RDWR))
        let deadline = Date().addingTimeInterval(3)
        while server.engine.metrics.snapshot.cancelled == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(server.engine.metrics.snapshot.cancelled == 1)
        #expect(server.engine.metrics.snapshot.batchSizes["image"] == nil)
        #expect(server.engine.queueDepth == 0)
    }

    @Test("when the first client of a shared image leaves, a client waiting on the same image is still served")
    func coalescedSurvivesLeaderCancel() throws {
        // A long batch window keeps the leader's image waiting while the follower joins it; the test waits for
        // each step to be visible in the engine rather than sleeping a fixed time (a loaded machine is slow).
        let server = try APITestServer { $0.imageStage.maxBatchWait = .seconds(3) }
        defer { server.stop() }
        let body = [UInt8](try JSONSerialization.data(withJSONObject: [
            "inputs": [["image": imageField(try APIFixtures.image("landscape.png"))]]]))
        func waitUntil(_ condition: () -> Bool) {
            let deadline = Date().addingTimeInterval(2)
            while !condition(), Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        }
        let leader = try server.send("/embed", contentType: "application/json", body: body)
        waitUntil { server.engine.queueDepth == 1 }
        let follower = try server.send("/embed", contentType: "application/json", body: body)
        waitUntil { server.engine.coalesced == 1 }
        shutdown(leader.fd, Int32(SHUT_RDWR))
        let response = try #require(follower.readResponses(1, timeout: 20).first)
        #expect(response.status == 200, "\(response.text)")
        #expect(server.engine.coalesced == 1)
        #expect(server.engine.metrics.snapshot.batchSizes["image"] == [1: 1])
    }
}
