import Dispatch
import Foundation
import HTTP1
import HTTPServer
import Inference

/// The HTTP face of the engine: `/caption`, `/embed`, `/match`, `/v1/embeddings`, `/info`, `/v1/models`,
/// `/openapi.json`, and the engine's metrics on `/metrics`. Bodies are parsed off the connection queues; every
/// engine error becomes HTTP here.
public enum API {
    /// Registers the routes on `server` and the engine's metrics collector, then warms the engine up and marks
    /// the server ready (unless something else changed its readiness meanwhile, e.g. a drain).
    public static func install(on server: HTTPServer, engine: Engine) {
        defer {
            engine.warmUp { [weak server] result in
                guard let server else { return }
                switch result {
                case .success:
                    if server.readiness == .loading { server.readiness = .ready }
                case .failure(let error):
                    server.logger.error("warm-up failed", metadata: ["error": .string(error.description)])
                }
            }
        }
        let queue = DispatchQueue(label: "tiaoyu.api", attributes: .concurrent)
        func route(_ path: String, _ handle: @escaping @Sendable (HTTPServerRequest, HTTPResponder) throws(APIError)
            -> Void) {
            server.router.add(.POST, path) { [weak server] request, responder in
                if server?.readiness == .loading {
                    return responder.send(HTTPServerError(status: 503, code: "loading",
                                                          message: "the models are still loading"))
                }
                queue.async {
                    do throws(APIError) {
                        try handle(request, responder)
                    } catch {
                        responder.send(error.serverError)
                    }
                }
            }
        }
        for (path, handler) in postRoutes {
            route(path) { request, responder throws(APIError) in try handler(request, responder, engine) }
        }
        for (path, document) in getRoutes {
            server.router.add(.GET, path) { _, responder in responder.send(.json(200, document(engine).bytes)) }
        }
        server.metrics.addCollector { Endpoints.prometheus(engine) }
    }

    typealias PostHandler = @Sendable (HTTPServerRequest, HTTPResponder, Engine) throws(APIError) -> Void

    /// The inference routes, by path. `install` registers exactly these (and `getRoutes`), so the OpenAPI test
    /// can check that every one is documented.
    static let postRoutes: [(String, PostHandler)] = [
        ("/caption", Endpoints.caption),
        ("/embed", Endpoints.embed),
        ("/match", Endpoints.match),
        ("/v1/embeddings", Endpoints.openAIEmbeddings),
    ]

    /// The GET documents this target serves (health, readiness and metrics are the HTTP server's own).
    static let getRoutes: [(String, @Sendable (Engine) -> JSON)] = [
        ("/info", Endpoints.info),
        ("/v1/models", Endpoints.models),
        ("/openapi.json", { _ in OpenAPIDocument.document }),
    ]

    /// A cancel token tied to the client's connection.
    static func cancelToken(_ responder: HTTPResponder) -> CancelToken {
        let token = CancelToken()
        responder.onCancel { token.cancel() }
        return token
    }

    /// Sends `result`'s JSON, or its error, with `Server-Timing`.
    static func reply<T>(_ responder: HTTPResponder, _ result: Result<T, EngineError>,
                         timing: (T) -> RequestTiming, body: (T) -> HTTPServerResponse) {
        switch result {
        case .failure(let error):
            responder.send(APIError(error).serverError)
        case .success(let value):
            var response = body(value)
            response.headers.add(name: "Server-Timing", value: serverTiming(timing(value)))
            responder.send(response)
        }
    }

    /// `Server-Timing`: queue (waiting for a batch), decode (image decoding and tokenizing), one entry per model
    /// stage (`image` = vision + Q-Former, `text`, `itm`, `lm` = caption decoding), total, batch size, cache.
    static func serverTiming(_ t: RequestTiming) -> String {
        func ms(_ seconds: Double) -> String { String(format: "%.3f", seconds * 1000) }
        let names = ["image": "image", "text": "text", "itm": "itm", "caption": "lm"]
        let computed = t.stageSeconds.values.reduce(0, +)
        var parts = ["queue;dur=\(ms(max(0, t.totalSeconds - t.preprocessSeconds - computed)))",
                     "decode;dur=\(ms(t.preprocessSeconds))"]
        for (stage, seconds) in t.stageSeconds.sorted(by: { $0.key < $1.key }) {
            parts.append("\(names[stage] ?? stage);dur=\(ms(seconds))")
        }
        parts.append("total;dur=\(ms(t.totalSeconds))")
        parts.append("batch;desc=\"\(t.batchSize)\"")
        parts.append("cache;desc=\"hit=\(t.cacheHits) miss=\(t.cacheMisses)\"")
        return parts.joined(separator: ", ")
    }
}
