import Foundation
import HTTP1
import HTTPServer
import Inference

/// A `/caption` answer as server-sent events: one `token` event per generated token
/// (`{"index", "sequence", "token_id", "text"}`), then a `done` event holding the whole `caption.list`, then
/// `data: [DONE]`. The stream starts with the first token, so an error before any token (404, 429, 504, a bad
/// image) is still an ordinary JSON error with its status; an error after is an `error` event.
final class CaptionEventStream: @unchecked Sendable {
    private let responder: HTTPResponder
    private let lock = NSLock()
    private var started = false

    init(_ responder: HTTPResponder) { self.responder = responder }

    private func startIfNeeded() {
        let start: Bool = lock.withLock {
            defer { started = true }
            return !started
        }
        guard start else { return }
        responder.startStream(HTTPServerResponse(status: 200, headers: HTTPHeaders([
            ("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
            // Proxies such as nginx buffer responses unless told not to; a token stream must not be held.
            ("X-Accel-Buffering", "no"),
        ])))
    }

    private func send(event: String, data: String) {
        responder.write(Array("event: \(event)\ndata: \(data)\n\n".utf8))
    }

    func token(_ event: CaptionStreamEvent) {
        startIfNeeded()
        let json = JSON.object([("index", .int(event.index)), ("sequence", .int(event.sequence)),
                                ("token_id", .int(event.tokenID)), ("text", .string(event.delta))])
        send(event: "token", data: String(decoding: json.bytes, as: UTF8.self))
    }

    func finish(_ result: Result<JSON, APIError>) {
        let wasStarted = lock.withLock { started }
        switch result {
        case .failure(let error) where !wasStarted:
            responder.send(error.serverError)
        case .failure(let error):
            let json = JSON.object([("error", .object([("code", .string(error.code)),
                                                       ("message", .string(error.message)),
                                                       ("request_id", .string(responder.requestID))]))])
            send(event: "error", data: String(decoding: json.bytes, as: UTF8.self))
            responder.finish()
        case .success(let json):
            startIfNeeded()
            send(event: "done", data: String(decoding: json.bytes, as: UTF8.self))
            responder.write(Array("data: [DONE]\n\n".utf8))
            responder.finish()
        }
    }
}
