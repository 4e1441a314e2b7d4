/// The path Tiaoyu is mounted under when a reverse proxy publishes it below a path (`/tiaoyu`). The prefix is
/// removed before routing, so routes and static files stay written from `/`; requests outside it are 404s.
public struct URLPrefix: Sendable, Equatable, CustomStringConvertible {
    /// "" (mounted at the root) or a path like "/tiaoyu", without a trailing slash.
    public let path: String

    /// Why a prefix was refused; the message names it.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case invalid(String)

        public var description: String {
            switch self {
            case .invalid(let text):
                "URL prefix '\(text)' must start with '/' and hold only letters, digits, '-', '.', '_', '~' and '/'"
                    + " (no empty, '.' or '..' segments, at most \(URLPrefix.maxBytes) bytes)"
            }
        }
    }

    /// Mounted at the root: nothing is removed.
    public static let root = URLPrefix(validated: "")

    private init(validated: String) { self.path = validated }

    /// Parses an operator's prefix: "" and "/" mean the root; one trailing slash is ignored.
    public init(_ text: String) throws(ParseError) {
        var trimmed = Substring(text)
        if trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        if trimmed.isEmpty {
            self.path = ""
            return
        }
        let segments = trimmed.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard trimmed.hasPrefix("/"), trimmed.utf8.count <= Self.maxBytes,
              trimmed.utf8.allSatisfy(Self.isAllowed),
              segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else { throw .invalid(text) }
        self.path = String(trimmed)
    }

    /// Where a request lands relative to the mount point.
    public enum Mount: Sendable, Equatable {
        /// Inside: the path with the prefix removed (always starting with "/").
        case inside(String)
        /// Exactly the prefix without its slash, for GET/HEAD: send the client to "<prefix>/" so the page's
        /// relative links resolve under the prefix.
        case redirect(location: String)
        /// Outside the prefix: not ours.
        case outside
    }

    /// Maps a request path (still percent-encoded, as received) onto the routes. `OPTIONS *` passes unchanged.
    public func mount(path requestPath: String, query: String?, redirectsBarePrefix: Bool) -> Mount {
        if path.isEmpty || requestPath == "*" { return .inside(requestPath) }
        guard requestPath.hasPrefix(path) else { return .outside }
        let rest = requestPath.dropFirst(path.count)
        if rest.isEmpty {
            guard redirectsBarePrefix else { return .inside("/") }
            return .redirect(location: path + "/" + (query.map { "?" + $0 } ?? ""))
        }
        return rest.hasPrefix("/") ? .inside(String(rest)) : .outside
    }

    public var description: String { path.isEmpty ? "/" : path }

    /// A prefix longer than this is a mistake, not a deployment.
    static let maxBytes = 256

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E, 0x2F: true
        default: false
        }
    }
}
