@testable import HTTPServer
import Testing
import TestSupport

/// Mounting under a URL prefix: parsing, mapping request paths, and the server answering under it.
@Suite struct URLPrefixTests {
    @Test(arguments: [("", ""), ("/", ""), ("/tiaoyu", "/tiaoyu"), ("/tiaoyu/", "/tiaoyu"),
                      ("/a/b-c_d.e~f", "/a/b-c_d.e~f")])
    func operatorPrefixesNormalise(text: String, path: String) throws {
        #expect(try URLPrefix(text).path == path)
    }

    @Test(arguments: ["tiaoyu", "/a//b", "/a/../b", "/./a", "/a?b", "/a b", "/a%2fb", "//", "/a/./"])
    func unsafePrefixesAreRejected(text: String) {
        #expect(throws: URLPrefix.ParseError.self) { try URLPrefix(text) }
    }

    @Test func pathsMapOntoTheRoutes() throws {
        let prefix = try URLPrefix("/tiaoyu")
        #expect(prefix.mount(path: "/tiaoyu/healthz", query: nil, redirectsBarePrefix: true) == .inside("/healthz"))
        #expect(prefix.mount(path: "/tiaoyu/", query: nil, redirectsBarePrefix: true) == .inside("/"))
        #expect(prefix.mount(path: "/tiaoyu", query: "a=1", redirectsBarePrefix: true)
            == .redirect(location: "/tiaoyu/?a=1"))
        #expect(prefix.mount(path: "/tiaoyu", query: nil, redirectsBarePrefix: false) == .inside("/"))
        #expect(prefix.mount(path: "/tiaoyux/healthz", query: nil, redirectsBarePrefix: true) == .outside)
        #expect(prefix.mount(path: "/healthz", query: nil, redirectsBarePrefix: true) == .outside)
        #expect(prefix.mount(path: "*", query: nil, redirectsBarePrefix: false) == .inside("*"))
        #expect(URLPrefix.root.mount(path: "/healthz", query: nil, redirectsBarePrefix: true) == .inside("/healthz"))
    }

    @Test func theServerAnswersUnderItsPrefixOnlyAndServesThePageThere() throws {
        let prefix = try URLPrefix("/tiaoyu")
        let server = try TestServer({ $0.urlPrefix = prefix }, publicDirectory: TestServer.publicDirectory)
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET /tiaoyu/healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /tiaoyu?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /tiaoyu/ HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /tiaoyu/style.css HTTP/1.1\r\nHost: x\r\n\r\n"
            + "OPTIONS /tiaoyu/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let responses = client.readResponses(6)
        #expect(responses.map(\.status) == [200, 404, 308, 200, 200, 204])
        #expect(responses.dropFirst(2).first?.header("Location") == "/tiaoyu/?x=1")
        let page = responses.dropFirst(3).first?.text ?? ""
        // The page's links are relative, so they resolve under the prefix.
        #expect(page.contains(#"href="style.css""#) && page.contains(#"href="metrics""#))
        #expect(!page.contains(#"href="/"#) && !page.contains(#"src="/"#))
    }

    @Test func aContinueRequestOutsideThePrefixIsRefusedBeforeItsBody() throws {
        let prefix = try URLPrefix("/tiaoyu")
        let server = try TestServer { $0.urlPrefix = prefix }
        defer { server.stop() }
        let client = try server.connect()
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        #expect(client.readResponses(1).map(\.status) == [404])
        let inside = try server.connect()
        inside.send("POST /tiaoyu/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = inside.readAvailable(timeout: 0.5)
        #expect(String(decoding: interim, as: UTF8.self).hasPrefix("HTTP/1.1 100 Continue\r\n\r\n"))
        inside.send("hello")
        #expect(inside.readResponses(1).map(\.text) == ["hello"])
    }
}
