import HTTP1
import Testing

/// (raw query, expected pairs).
private let queryRows: [(String, [(String, String)])] = [
    ("a=1&b=2", [("a", "1"), ("b", "2")]),
    ("q=hello+world&x=%41%42", [("q", "hello world"), ("x", "AB")]),
    ("a=1&&b=&c", [("a", "1"), ("b", ""), ("c", "")]),
    ("k=a%3Db%26c", [("k", "a=b&c")]),
    ("bad=%zz&trail=%4", [("bad", "%zz"), ("trail", "%4")]),
    ("utf=%E4%BD%A0", [("utf", "\u{4f60}")]),
    ("notutf=%FF", [("notutf", "\u{fffd}")]),
    ("plus%2B=1", [("plus+", "1")]),
    ("", []),
]

/// (path, expected segments or nil for unsafe).
private let pathRows: [(String, [String]?)] = [
    ("/", []),
    ("/static/app.js", ["static", "app.js"]),
    ("/a//b/", ["a", "b"]),
    ("/caf%C3%A9", ["caf\u{e9}"]),
    ("/a%20b", ["a b"]),
    ("/../etc/passwd", nil),
    ("/static/../../etc/passwd", nil),
    ("/%2e%2e/x", nil),
    ("/%2E%2E/x", nil),
    ("/.%2e/x", nil),
    ("/./x", nil),
    ("/a%2fb", nil),
    ("/a%2Fb", nil),
    ("/a%5cb", nil),
    ("/a\\b", nil),
    ("/a%00", nil),
    ("/a%0d%0a", nil),
    ("/a%zz", nil),
    ("/a%4", nil),
    ("/a%ff", nil),
    ("relative", nil),
    ("/...", ["..."]),
    ("/.hidden", [".hidden"]),
]

@Suite("HTTPQuery and HTTPPath")
struct HTTPQueryPathTests {
    @Test("Queries decode + and percent escapes, keeping invalid escapes literally",
          arguments: queryRows.indices)
    func query(index: Int) {
        let (raw, expected) = queryRows[index]
        let parsed = HTTPQuery.parse(raw)
        #expect(parsed.map(\.0) == expected.map(\.0), "names of \(raw)")
        #expect(parsed.map(\.1) == expected.map(\.1), "values of \(raw)")
    }

    @Test("Paths decode into segments and traversal attempts are refused", arguments: pathRows.indices)
    func path(index: Int) {
        let (raw, expected) = pathRows[index]
        #expect(HTTPPath.decodeSegments(raw) == expected, "\(raw)")
    }
}
