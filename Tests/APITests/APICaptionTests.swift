import API
import Blip2
import Foundation
@testable import Inference
import Tensors
import Testing
import TestSupport

/// The tiny OPT captioning fixture with a preprocessor config added (the fixture has none): the vision tower's
/// `image_size`, and BLIP's mean, std and bicubic resize as the retrieval fixture's preprocessor has them.
enum CaptionFixture {
    static let model: Result<CaptionModel, any Error> = Result {
        let source = APIFixtures.root.appendingPathComponent("opt/tiny-pre/model")
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tiaoyu-api-caption-\(getpid())/model")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file),
                                             to: directory.appendingPathComponent(file))
        }
        let config = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("config.json"))) as? [String: Any]
        let side = (config?["vision_config"] as? [String: Any])?["image_size"] as? Int ?? 224
        let retrievalPreprocessor = APIFixtures.root
            .appendingPathComponent("blip2/tiny-a/model/preprocessor_config.json")
        var preprocessor = try JSONSerialization.jsonObject(with: Data(contentsOf: retrievalPreprocessor))
            as? [String: Any] ?? [:]
        preprocessor["size"] = ["height": side, "width": side]
        try JSONSerialization.data(withJSONObject: preprocessor)
            .write(to: directory.appendingPathComponent("preprocessor_config.json"))
        return try CaptionModel(directory: directory.path)
    }

    /// Offline captions of one image with the checkpoint's defaults and `maxNewTokens`.
    static func offline(_ image: String, maxNewTokens: Int, minNewTokens: Int? = nil, prompt: String? = nil)
        throws -> [CaptionModel.Caption] {
        let captioner = try model.get()
        let promptLength = try prompt.map { try captioner.promptIDs($0).count } ?? 1
        var options = captioner.model.defaultOptions(promptLength: promptLength)
        options.maxNewTokens = maxNewTokens
        if let minNewTokens { options.minNewTokens = minNewTokens }
        let pixels = try captioner.pixels(from: try APIFixtures.image(image))
        return try captioner.caption(pixels: pixels, prompts: [prompt], options: options)[0]
    }
}

@Suite("/caption over loopback with the tiny OPT model", .serialized)
struct APICaptionTests {
    static func server(_ configure: (inout EngineConfiguration) -> Void = { _ in }) throws -> APITestServer {
        try APITestServer(captioner: try CaptionFixture.model.get(), configure)
    }

    @Test("JSON captions equal the offline captions, per image, with image info")
    func captionsMatchOffline() throws {
        let server = try Self.server()
        defer { server.stop() }
        let names = ["landscape.png", "portrait.png"]
        let response = try server.postJSON("/caption", [
            "images": try names.map { imageField(try APIFixtures.image($0)) }, "max_new_tokens": 6])
        #expect(response.status == 200, "\(response.text)")
        let json = try response.json()
        #expect(json["object"] as? String == "caption.list")
        let data = try #require(json["data"] as? [[String: Any]])
        #expect(data.count == 2)
        for (index, name) in names.enumerated() {
            let expected = try CaptionFixture.offline(name, maxNewTokens: 6)
            let captions = try #require(data[index]["captions"] as? [[String: Any]])
            #expect(captions.first?["text"] as? String == expected.first?.text)
            #expect(captions.first?["token_ids"] as? [Int] == expected.first?.tokenIDs)
            #expect(captions.first?["finish_reason"] as? String == expected.first?.finishReason)
            #expect(((data[index]["image"] as? [String: Any])?["sha256"] as? String)?.count == 64)
        }
    }

    @Test("a prompt is continued as the offline model continues it")
    func promptMatchesOffline() throws {
        let server = try Self.server()
        defer { server.stop() }
        let prompt = "Question: what is it? Answer:"
        let response = try server.postJSON("/caption", [
            "images": [imageField(try APIFixtures.image("portrait.png"))], "prompt": prompt, "max_new_tokens": 5])
        #expect(response.status == 200, "\(response.text)")
        let data = try #require(try response.json()["data"] as? [[String: Any]])
        let captions = try #require(data.first?["captions"] as? [[String: Any]])
        let expected = try CaptionFixture.offline("portrait.png", maxNewTokens: 5, prompt: prompt)
        #expect(captions.first?["token_ids"] as? [Int] == expected.first?.tokenIDs)
        #expect(captions.first?["text"] as? String == expected.first?.text)
    }

    @Test("a request that arrives during a decode joins it at a step boundary and captions as it would alone")
    func joinsRunningDecode() throws {
        let server = try Self.server()
        defer { server.stop() }
        let engine = server.engine
        let portrait = try APIFixtures.image("portrait.png")
        // Cache the second image first: the compute thread is busy decoding, so only an image whose query
        // tokens are ready can join (its ViT would otherwise wait for the decode to end).
        let options = {
            var options = CaptionOptions()
            options.maxNewTokens = 12
            options.minNewTokens = 12
            return options
        }()
        let warm = Completion<CaptionResult>()
        engine.caption(CaptionRequest(images: [portrait], options: options), cancel: CancelToken()) { warm.set($0) }
        _ = try warm.wait().get()

        let second = Completion<CaptionResult>()
        let submitted = Completion<Bool>()
        var first = CaptionRequest(images: [try APIFixtures.image("landscape.png")], options: options)
        first.onToken = { event in
            guard event.tokenID >= 0, !submitted.isSet else { return }
            submitted.set(.success(true))
            engine.caption(CaptionRequest(images: [portrait], options: options), cancel: CancelToken()) {
                second.set($0)
            }
            // Hold this step until the request waits in the caption stage, so the next boundary sees it.
            let deadline = Date().addingTimeInterval(5)
            while engine.stageQueueDepths["caption"] != 1, Date() < deadline { usleep(1000) }
        }
        let firstDone = Completion<CaptionResult>()
        engine.caption(first, cancel: CancelToken()) { firstDone.set($0) }
        let firstResult = try firstDone.wait().get()
        let secondResult = try second.wait().get()
        #expect(engine.metrics.snapshot.joinedDecodes == 1)
        #expect(engine.metrics.snapshot.batchSizes["caption"] == [1: 2])
        #expect(secondResult.items.first?.cached == true)
        let expectedFirst = try CaptionFixture.offline("landscape.png", maxNewTokens: 12, minNewTokens: 12)
        let expectedSecond = try CaptionFixture.offline("portrait.png", maxNewTokens: 12, minNewTokens: 12)
        #expect(firstResult.items.first?.captions == expectedFirst)
        #expect(secondResult.items.first?.captions == expectedSecond)
    }

    @Test("a new image that arrives mid-decode is encoded between steps and joins the decode")
    func newImageJoinsRunningDecode() throws {
        let server = try Self.server()
        defer { server.stop() }
        let engine = server.engine
        let portrait = try APIFixtures.image("portrait.png")
        let options = {
            var options = CaptionOptions()
            options.maxNewTokens = 12
            options.minNewTokens = 12
            return options
        }()
        let second = Completion<CaptionResult>()
        let submitted = Completion<Bool>()
        var first = CaptionRequest(images: [try APIFixtures.image("landscape.png")], options: options)
        first.onToken = { _ in
            guard !submitted.isSet else { return }
            submitted.set(.success(true))
            engine.caption(CaptionRequest(images: [portrait], options: options), cancel: CancelToken()) {
                second.set($0)
            }
            // Hold this step until the new image's batch waits for the compute thread (decoded by a worker,
            // then queued by the image stage), so the next boundary runs it and the request joins.
            let deadline = Date().addingTimeInterval(5)
            while engine.compute.queuedCount == 0, Date() < deadline { usleep(1000) }
        }
        let firstDone = Completion<CaptionResult>()
        engine.caption(first, cancel: CancelToken()) { firstDone.set($0) }
        let firstResult = try firstDone.wait().get()
        let secondResult = try second.wait().get()
        #expect(engine.metrics.snapshot.joinedDecodes == 1)
        #expect(engine.metrics.snapshot.batchSizes["caption"] == [1: 1])
        #expect(secondResult.items.first?.cached == false)
        #expect(firstResult.items.first?.captions
                == (try CaptionFixture.offline("landscape.png", maxNewTokens: 12, minNewTokens: 12)))
        #expect(secondResult.items.first?.captions
                == (try CaptionFixture.offline("portrait.png", maxNewTokens: 12, minNewTokens: 12)))
    }

    @Test("a request cancelled mid-decode stops at the next step and is answered cancelled")
    func cancelStopsDecoding() throws {
        let server = try Self.server()
        defer { server.stop() }
        let engine = server.engine
        var options = CaptionOptions()
        options.maxNewTokens = 12
        options.minNewTokens = 12
        let cancel = CancelToken()
        var request = CaptionRequest(images: [try APIFixtures.image("landscape.png")], options: options)
        request.onToken = { event in if event.tokenID >= 0 { cancel.cancel() } }
        let done = Completion<CaptionResult>()
        engine.caption(request, cancel: cancel) { done.set($0) }
        let result = try done.wait()
        #expect(throws: EngineError.cancelled) { try result.get() }
        #expect(engine.metrics.snapshot.generatedTokens == 1)
        #expect(engine.metrics.snapshot.cancelled == 1)
        #expect(engine.queueDepth == 0)
    }

    @Test("greedy decoding and beam search stop a request whose client left or whose deadline passed",
          arguments: ["cancelled", "expired", "neither"], [1, 4])
    func decodingStops(reason: String, beams: Int) throws {
        let captioner = try CaptionFixture.model.get()
        let query = try captioner.model.queryOutput(try captioner.pixels(from: try APIFixtures.image("landscape.png")))
        var options = captioner.model.defaultOptions(promptLength: 1)
        options.numBeams = beams
        options.maxNewTokens = 12
        options.minNewTokens = 12
        let cancel = CancelToken()
        if reason == "cancelled" { cancel.cancel() }
        let done = Completion<[CaptionModel.Caption]>()
        let job = Engine.CaptionJob(queryOutput: query, promptIDs: nil, options: options, cancel: cancel,
                                    deadline: reason == "expired" ? 0 : .max, timing: TimingRecorder(),
                                    onToken: nil) { done.set($0) }
        let metrics = EngineMetrics()
        // One decode on this thread, as the compute thread runs it; the stop is asked after the prefill.
        Engine.runCaptions([job], model: captioner, metrics: metrics, maxBatch: 8, interleave: {},
                           takeWaiting: { _, _ in [] })
        let result = try done.wait()
        switch reason {
        case "cancelled":
            #expect(throws: EngineError.cancelled) { try result.get() }
            #expect(metrics.snapshot.cancelled == 1)
        case "expired":
            #expect(throws: EngineError.deadlineExceeded) { try result.get() }
            #expect(metrics.snapshot.expired == 1)
        default:
            #expect(try result.get().first?.tokenIDs.count == 12)
        }
        #expect(metrics.snapshot.generatedTokens == (reason == "neither" ? 12 : 0))
    }

    @Test("Accept: text/plain returns just the caption text")
    func plainText() throws {
        let server = try Self.server()
        defer { server.stop() }
        let response = try server.post("/caption?max_new_tokens=4", contentType: "image/png",
                                       body: try APIFixtures.image("portrait.png"), headers: [("Accept", "text/plain")])
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/plain") == true)
        let expected = try CaptionFixture.offline("portrait.png", maxNewTokens: 4)
        #expect(response.text == (expected.first?.text ?? "") + "\n")
    }

    @Test("stream: true sends one token event per token, then the whole answer, then [DONE]")
    func streaming() throws {
        let server = try Self.server()
        defer { server.stop() }
        let response = try server.postJSON("/caption", [
            "images": [imageField(try APIFixtures.image("landscape.png"))], "max_new_tokens": 5, "stream": true])
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/event-stream")
        let expected = try #require(try CaptionFixture.offline("landscape.png", maxNewTokens: 5).first)
        let events = response.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        let tokens = events.filter { $0.hasPrefix("event: token") }
        #expect(tokens.count == expected.tokenIDs.count)
        let texts = try tokens.map { event -> String in
            let data = String(event.split(separator: "\n")[1].dropFirst("data: ".count))
            let json = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]
            return json?["text"] as? String ?? ""
        }
        // Deltas hold back an incomplete UTF-8 character; only a caption that ends inside one can differ.
        let streamed = texts.joined().trimmingCharacters(in: .whitespaces)
        #expect(expected.text.hasSuffix("\u{FFFD}") ? expected.text.hasPrefix(streamed) : streamed == expected.text,
                "streamed \(streamed.debugDescription), expected \(expected.text.debugDescription)")
        #expect(events.contains { $0.hasPrefix("event: done") })
        #expect(events.last == "data: [DONE]")
    }

    @Test("a caption request with a bad option is 400 and the server keeps captioning")
    func badOption() throws {
        let server = try Self.server()
        defer { server.stop() }
        let png = try APIFixtures.image("portrait.png")
        let bad = try server.postJSON("/caption", ["images": [imageField(png)], "num_beams": 0])
        #expect(bad.status == 400, "\(bad.text)")
        let typed = try server.postJSON("/caption", ["images": [imageField(png)], "max_new_tokens": "5"])
        #expect(typed.status == 400)
        #expect(typed.text.contains("max_new_tokens must be"))
        #expect(try server.postJSON("/caption", ["images": [imageField(png)], "max_new_tokens": 2]).status == 200)
        #expect(try server.postJSON("/embed", ["inputs": [["text": "a"]]]).status == 404)
    }
}

/// A result delivered once from another thread, waited for with a timeout.
final class Completion<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Result<Value, EngineError>?

    var isSet: Bool { condition.withLock { value != nil } }

    func set(_ result: Result<Value, EngineError>) {
        condition.withLock {
            if value == nil { value = result }
            condition.broadcast()
        }
    }

    func wait(timeout: TimeInterval = 20) throws -> Result<Value, EngineError> {
        try condition.withLock {
            let deadline = Date().addingTimeInterval(timeout)
            while value == nil, condition.wait(until: deadline) {}
            guard let value else { throw CompletionTimeout() }
            return value
        }
    }

    struct CompletionTimeout: Error {}
}
