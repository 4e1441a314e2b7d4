import HTTP1

/// A handler gets the complete request and a responder; it must not block (answer later from any thread).
public typealias HTTPHandler = @Sendable (HTTPServerRequest, HTTPResponder) -> Void

/// Exact-path routing on method + path. HEAD is served by the GET handler (the body is dropped on the wire),
/// OPTIONS is answered with `Allow`, and a known path with an unsupported method gets 405 + `Allow` (I2–I4).
public final class HTTPRouter: @unchecked Sendable {
    public enum Resolution {
        case handler(HTTPHandler, route: String)
        case methodNotAllowed(allow: [HTTPMethod])
        case notFound
    }

    private let lock = Lock()
    private var routes: [String: [HTTPMethod: HTTPHandler]] = [:]

    public init() {}

    /// Registers `handler` for `method` on the exact `path` (replacing an earlier one).
    public func add(_ method: HTTPMethod, _ path: String, _ handler: @escaping HTTPHandler) {
        lock.withLock { routes[path, default: [:]][method] = handler }
    }

    /// Methods a path answers, in a stable order, OPTIONS included; nil for an unknown path.
    public func allowedMethods(for path: String) -> [HTTPMethod]? {
        lock.withLock {
            guard let methods = routes[path] else { return nil }
            return Self.allowList(Set(methods.keys))
        }
    }

    public func resolve(_ method: HTTPMethod, path: String) -> Resolution {
        lock.withLock {
            guard let methods = routes[path] else { return .notFound }
            if let handler = methods[method] { return .handler(handler, route: path) }
            if method == .HEAD, let handler = methods[.GET] { return .handler(handler, route: path) }
            return .methodNotAllowed(allow: Self.allowList(Set(methods.keys)))
        }
    }

    static func allowList(_ methods: Set<HTTPMethod>) -> [HTTPMethod] {
        var all = methods
        if all.contains(.GET) { all.insert(.HEAD) }
        all.insert(.OPTIONS)
        return HTTPMethod.allCases.filter { all.contains($0) }
    }
}
