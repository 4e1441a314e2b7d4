import Dispatch
import Foundation
import HTTP1
import HTTPServer
import Inference

/// The HTTP face of the engine: `/caption`, `/embed`, `/match`, `/info`, `/v1/models`, and the engine's
/// metrics on `/metrics`. Bodies are parsed off the connection queues; every engine error becomes HTTP here.
public enum API {
    /// Registers the routes on `server` and the engine's metrics collector.
    public static func install(on server: HTTPServer, engine: Engine) {
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
        route("/embed") { request, responder throws(APIError) in
            try Endpoints.embed(request, responder: responder, engine: engine)
        }
        route("/match") { request, responder throws(APIError) in
            try Endpoints.match(request, responder: responder, engine: engine)
        }
        route("/caption") { request, responder throws(APIError) in
            try Endpoints.caption(request, responder: responder, engine: engine)
        }
        server.router.add(.GET, "/info") { _, responder in
            responder.send(.json(200, Endpoints.info(engine).bytes))
        }
        server.router.add(.GET, "/v1/models") { _, responder in
            responder.send(.json(200, Endpoints.models(engine).bytes))
        }
        server.metrics.addCollector { Endpoints.prometheus(engine) }
    }

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

    static func serverTiming(_ t: RequestTiming) -> String {
        func ms(_ seconds: Double) -> String { String(format: "%.3f", seconds * 1000) }
        let queueAndCompute = max(0, t.totalSeconds - t.preprocessSeconds)
        return "decode;dur=\(ms(t.preprocessSeconds)), compute;dur=\(ms(queueAndCompute)), "
            + "total;dur=\(ms(t.totalSeconds)), cache;desc=\"hit=\(t.cacheHits) miss=\(t.cacheMisses)\""
    }
}
