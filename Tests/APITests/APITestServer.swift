import API
import Blip2
import Dispatch
import Foundation
import HTTP1
import HTTPServer
import ImagePipeline
import Inference
import Logging
import Tensors
import TestSupport

/// Paths of the committed fixtures these tests read.
enum APIFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures").standardizedFileURL
    /// The tiny retrieval model (Blip2ForImageTextRetrieval, BERT tokenizer, 32×32 preprocessor).
    static let retrievalDirectory = root.appendingPathComponent("blip2/tiny-a/model").path

    static func image(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: root.appendingPathComponent("blip2/images/\(name)")))
    }

    /// Loaded once: every test builds its own engine over the same immutable model.
    static let retrieval: Result<RetrievalModel, ModelLoadError> = Result { () throws(ModelLoadError) in
        try RetrievalModel(directory: retrievalDirectory)
    }
}

/// An in-process server with the API on a free loopback port, over an engine built for the test.
final class APITestServer: @unchecked Sendable {
    let server: HTTPServer
    let engine: Engine
    let port: Int

    /// A server over the tiny retrieval model, or over `captioner` alone when one is given.
    /// `markReady: false` leaves readiness to the API's warm-up.
    init(captioner: CaptionModel? = nil, markReady: Bool = true,
         _ configure: (inout EngineConfiguration) -> Void = { _ in }) throws {
        var configuration = EngineConfiguration()
        configure(&configuration)
        var retrieval = captioner == nil ? try APIFixtures.retrieval.get() : nil
        if configuration.decodeOptions != DecodeOptions() {
            retrieval = try RetrievalModel(directory: APIFixtures.retrievalDirectory,
                                           decodeOptions: configuration.decodeOptions)
        }
        engine = Engine(retrieval: retrieval, captioner: captioner, configuration: configuration)
        var http = HTTPServerConfiguration()
        http.host = "127.0.0.1"
        http.port = 0
        var logger = Logger(label: "api-test")
        logger.logLevel = .critical
        server = HTTPServer(configuration: http, logger: logger)
        API.install(on: server, engine: engine)
        try server.start()
        guard let port = server.boundPorts.first else { throw TestServerError.noPort }
        self.port = port
        if markReady { server.readiness = .ready }
    }

    deinit { engine.shutdown() }

    func stop() {
        let done = DispatchSemaphore(value: 0)
        server.shutdown { done.signal() }
        _ = done.wait(timeout: .now() + 10)
        engine.shutdown()
    }

    /// Sends a request on a new connection without reading the answer.
    func send(_ path: String, contentType: String?, body: [UInt8], headers: [(String, String)] = [])
        throws -> RawHTTPConnection {
        let connection = try RawHTTPConnection(port: port)
        var head = "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.count)\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        connection.send(Array((head + "\r\n").utf8) + body)
        return connection
    }

    func post(_ path: String, contentType: String? = "application/json", body: [UInt8],
              headers: [(String, String)] = []) throws -> HTTPTestResponse {
        let connection = try send(path, contentType: contentType, body: body, headers: headers)
        guard let response = connection.readResponses(1, timeout: 20).first else { throw TestServerError.noResponse }
        return response
    }

    func postJSON(_ path: String, _ object: Any) throws -> HTTPTestResponse {
        try post(path, body: [UInt8](try JSONSerialization.data(withJSONObject: object)))
    }

    func get(_ path: String) throws -> HTTPTestResponse {
        let connection = try RawHTTPConnection(port: port)
        connection.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n")
        guard let response = connection.readResponses(1, timeout: 10).first else { throw TestServerError.noResponse }
        return response
    }

    enum TestServerError: Error { case noPort, noResponse, badJSON }
}

extension HTTPTestResponse {
    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw APITestServer.TestServerError.badJSON
        }
        return object
    }

    /// `error.code` of a JSON error body.
    var errorCode: String? {
        ((try? json())?["error"] as? [String: Any])?["code"] as? String
    }
}

/// `{"data": base64}` for JSON bodies.
func imageField(_ bytes: [UInt8]) -> [String: Any] { ["data": Data(bytes).base64EncodedString()] }

/// Floats of a JSON array.
func floats(_ value: Any?) -> [Float] { (value as? [Any])?.compactMap { ($0 as? NSNumber)?.floatValue } ?? [] }

/// The largest |a - b| over two equally long vectors (infinity when the lengths differ).
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
