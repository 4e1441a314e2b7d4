import Foundation
import HTTP1
@testable import HTTPServer
import Testing
import TestSupport

@Suite struct StaticFilesTests {
    static let host = "Host: x\r\n"

    /// A scratch public directory with a page, a stylesheet, a dotfile, and a secret beside it.
    static func makeSite() throws -> (root: String, secret: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tiaoyu-static-\(UUID().uuidString)")
        let root = base.appendingPathComponent("public")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("css"), withIntermediateDirectories: true)
        try Data("<!doctype html><title>t</title>".utf8).write(to: root.appendingPathComponent("index.html"))
        try Data(String(repeating: "body { color: red; }\n", count: 200).utf8)
            .write(to: root.appendingPathComponent("css/site.css"))
        try Data("hidden".utf8).write(to: root.appendingPathComponent(".env"))
        let secret = base.appendingPathComponent("secret.txt")
        try Data("top secret".utf8).write(to: secret)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("link.txt"), withDestinationURL: secret)
        return (root.path, secret.path)
    }

    @Test func servesTheIndexWithTypeEtagAndCacheControl() throws {
        let site = try Self.makeSite()
        let server = try TestServer(publicDirectory: site.root)
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET / HTTP/1.1\r\n\(Self.host)\r\nGET /css/site.css HTTP/1.1\r\n\(Self.host)\r\n")
        let responses = client.readResponses(2)
        #expect(responses.map(\.status) == [200, 200])
        #expect(responses[0].header("Content-Type") == "text/html; charset=utf-8")
        #expect(responses[0].header("Cache-Control") == "no-cache")
        #expect(responses[0].text == "<!doctype html><title>t</title>")
        #expect(responses[1].header("Content-Type") == "text/css; charset=utf-8")
        #expect(responses[1].header("Cache-Control")?.contains("max-age") == true)

        let etag = try #require(responses[0].header("ETag"))
        client.send("GET / HTTP/1.1\r\n\(Self.host)If-None-Match: \"other\", \(etag)\r\n\r\n")
        let conditional = client.readResponses(1)
        #expect(conditional.map(\.status) == [304])
        #expect(conditional.first?.body == [])
    }

    @Test(arguments: [
        "/../secret.txt", "/%2e%2e/secret.txt", "/css/..%2f..%2fsecret.txt", "/link.txt", "/.env",
        "/css%2fsite.css", "/index.html%00", "/%2e%2e%5csecret.txt",
    ])
    func pathsCannotLeaveTheRoot(path: String) throws {
        let site = try Self.makeSite()
        let server = try TestServer(publicDirectory: site.root)
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET \(path) HTTP/1.1\r\n\(Self.host)\r\n")
        let responses = client.readResponses(1)
        #expect(responses.count == 1)
        #expect(responses.first.map { [400, 404].contains($0.status) } == true, "\(path)")
        #expect(responses.first?.text.contains("secret") == false)
        #expect(responses.first?.text.contains("hidden") == false)
    }

    @Test func theProjectsPublicPageIsServed() throws {
        let server = try TestServer(publicDirectory: TestServer.publicDirectory)
        defer { server.stop() }
        let client = try server.connect()
        client.send("GET / HTTP/1.1\r\n\(Self.host)\r\n")
        let page = client.readResponses(1).first
        #expect(page?.status == 200)
        #expect(page?.text.contains("Tiaoyu") == true)
    }
}
