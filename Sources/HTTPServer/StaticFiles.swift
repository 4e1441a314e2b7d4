import Foundation
import HTTP1

/// Serves the files under one directory (the web page in `Public/`) for GET and HEAD: percent-decoded paths
/// that can never leave the root (no `..`, no encoded separators, no symlink escapes), a content type from the
/// extension, a strong ETag with `If-None-Match` → 304, and `Cache-Control`. Files are re-read when their size
/// or modification time changes.
public final class StaticFiles: @unchecked Sendable {
    /// Files above this are not served from memory (the page's assets are a few KiB).
    public static let maxFileBytes = 8 << 20

    private struct Entry {
        var size: Int
        var modified: Int
        var body: [UInt8]
        var etag: String
    }

    public let root: String
    private let rootReal: String
    private let lock = Lock()
    private var cache: [String: Entry] = [:]

    /// nil if `root` is not a readable directory.
    public init?(root: String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue,
              let real = realpath(root, nil)
        else { return nil }
        self.root = root
        self.rootReal = String(cString: real)
        free(real)
    }

    /// The response for `request`, or nil when no file matches (the caller answers 404).
    public func response(for request: HTTPServerRequest) -> HTTPServerResponse? {
        guard request.method == .GET || request.method == .HEAD,
              var segments = HTTPPath.decodeSegments(request.path)
        else { return nil }
        if segments.isEmpty || request.path.hasSuffix("/") { segments.append("index.html") }
        guard segments.allSatisfy({ !$0.hasPrefix(".") }) else { return nil }  // no dotfiles
        let candidate = rootReal + "/" + segments.joined(separator: "/")
        guard let real = realpath(candidate, nil) else { return nil }
        let resolved = String(cString: real)
        free(real)
        guard resolved.hasPrefix(rootReal + "/") else { return nil }  // a symlink pointing out of the root

        var info = stat()
        guard stat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= Self.maxFileBytes
        else { return nil }
        guard let entry = load(resolved, size: Int(info.st_size), modified: Int(info.st_mtim.tv_sec)) else { return nil }

        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: Self.contentType(forPath: resolved))
        headers.add(name: "ETag", value: entry.etag)
        let isPage = resolved.hasSuffix(".html")
        headers.add(name: "Cache-Control", value: isPage ? "no-cache" : "public, max-age=3600")
        if let match = request.headers["If-None-Match"], Self.matches(match, etag: entry.etag) {
            return HTTPServerResponse(status: 304, headers: headers)
        }
        return HTTPServerResponse(status: 200, headers: headers, body: entry.body)
    }

    private func load(_ path: String, size: Int, modified: Int) -> Entry? {
        if let entry = lock.withLock({ cache[path] }), entry.size == size, entry.modified == modified {
            return entry
        }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let body = [UInt8](data)
        let entry = Entry(size: size, modified: modified, body: body, etag: Self.etag(body))
        lock.withLock { cache[path] = entry }
        return entry
    }

    /// A strong validator from the content (FNV-1a 64 + length): changes whenever the bytes do.
    static func etag(_ body: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in body {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return "\"\(String(hash, radix: 16))-\(String(body.count, radix: 16))\""
    }

    /// `If-None-Match`: `*` or a list of entity tags; weak comparison as RFC 9110 §13.1.2 requires.
    static func matches(_ header: String, etag: String) -> Bool {
        if trimOWS(Substring(header)) == "*" { return true }
        return header.split(separator: ",").contains { item in
            var tag = trimOWS(item)
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            return tag == etag
        }
    }

    static func contentType(forPath path: String) -> String {
        let ext = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
        switch ext {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json": return "application/json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "ico": return "image/x-icon"
        case "txt": return "text/plain; charset=utf-8"
        case "webp": return "image/webp"
        case "woff2": return "font/woff2"
        default: return "application/octet-stream"
        }
    }
}
