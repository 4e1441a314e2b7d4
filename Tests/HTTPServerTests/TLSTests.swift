import Foundation
@testable import HTTPServer
import Testing
import TestSupport

/// HTTPS served directly: curl against a self-signed certificate made here with the `openssl` CLI (both
/// installed by Deploy/setup.sh), in-process for the transport and through `tiaoyu serve --tls-*` for the flags.
@Suite struct TLSTests {
    /// A throwaway CA-less certificate for localhost / 127.0.0.1 and its key, in a fresh temporary directory.
    struct Certificate {
        let directory: URL
        var certificate: String { directory.appendingPathComponent("cert.pem").path }
        var key: String { directory.appendingPathComponent("key.pem").path }

        init(curve: String = "prime256v1") throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("tiaoyu-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let result = try TLSTests.run("openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:\(curve)", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", directory.appendingPathComponent("key.pem").path,
                "-out", directory.appendingPathComponent("cert.pem").path,
            ])
            guard result.status == 0 else { throw CertificateError(message: result.stderr) }
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    struct CertificateError: Error { var message: String }

    /// Runs a tool found on PATH, with `input` as its standard input; returns stdout, stderr and the exit status.
    static func run(_ tool: String, _ arguments: [String], input: String? = nil) throws
        -> (stdout: Data, stderr: String, status: Int32)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))  // a request: far below the pipe's buffer
            try stdin.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (stdout, stderr, process.terminationStatus)
    }

    static func curl(_ arguments: [String]) throws -> (stdout: Data, stderr: String, status: Int32) {
        try run("curl", ["-sS", "--max-time", "20"] + arguments)
    }

    @Test func curlTrustsOurCertificateAndReusesTheConnection() throws {
        let certificate = try Certificate()
        defer { certificate.remove() }
        let server = try TestServer(tls: TLSContext(certificatePath: certificate.certificate, keyPath: certificate.key))
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)/healthz"
        let result = try Self.curl(["-v", "--cacert", certificate.certificate, url, url])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(String(decoding: result.stdout, as: UTF8.self) == #"{"status":"ok"}{"status":"ok"}"#)
        #expect(result.stderr.contains("SSL connection using TLSv1.3"))
        #expect(result.stderr.contains("ALPN: server accepted http/1.1"))
        #expect(result.stderr.contains("Re-using existing connection"))
    }

    @Test func largeBodiesCrossTheTransportBothWays() throws {
        // Megabytes each way force partial TLS writes (WANT_WRITE on a full socket) and many records per read.
        let certificate = try Certificate()
        defer { certificate.remove() }
        let server = try TestServer(tls: TLSContext(certificatePath: certificate.certificate, keyPath: certificate.key))
        defer { server.stop() }
        let path = certificate.directory.appendingPathComponent("payload")
        var payload = Data(count: 6 << 20)
        payload.withUnsafeMutableBytes { raw in
            for index in 0..<raw.count { raw[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 11) }
        }
        try payload.write(to: path)
        let upload = try Self.curl([
            "--cacert", certificate.certificate, "-H", "Content-Type: application/octet-stream",
            "--data-binary", "@\(path.path)", "https://127.0.0.1:\(server.port)/echo",
        ])
        #expect(upload.status == 0, "\(upload.stderr)")
        #expect(upload.stdout == payload)
        let download = try Self.curl(["--cacert", certificate.certificate,
                                      "https://127.0.0.1:\(server.port)/big?bytes=\(8 << 20)"])
        #expect(download.stdout.count == 8 << 20)
        #expect(download.stdout.allSatisfy { $0 == 0x61 })
    }

    @Test func aStreamArrivesAndTheCloseIsAnnouncedWithCloseNotify() throws {
        let certificate = try Certificate()
        defer { certificate.remove() }
        let server = try TestServer(tls: TLSContext(certificatePath: certificate.certificate, keyPath: certificate.key))
        defer { server.stop() }
        let stream = try Self.curl(["--cacert", certificate.certificate, "https://127.0.0.1:\(server.port)/stream"])
        #expect(String(decoding: stream.stdout, as: UTF8.self) == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
        // openssl s_client reads until the server's end of stream and prints each record it gets; curl stops
        // reading once the Content-Length is complete, so whether it saw the alert was a race.
        let closing = try Self.run("timeout", [
            "20", "openssl", "s_client", "-connect", "127.0.0.1:\(server.port)", "-CAfile", certificate.certificate,
            "-quiet", "-msg",
        ], input: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        let transcript = String(decoding: closing.stdout, as: UTF8.self) + closing.stderr
        #expect(closing.status == 0, "\(transcript)")
        #expect(transcript.contains(#"{"status":"ok"}"#))
        #expect(transcript.contains("<<< TLS 1.3, Alert [length 0002], warning close_notify"), "\(transcript)")
    }

    @Test func protocolsOlderThanTLS12AreRefused() throws {
        let certificate = try Certificate()
        defer { certificate.remove() }
        let server = try TestServer(tls: TLSContext(certificatePath: certificate.certificate, keyPath: certificate.key))
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)/healthz"
        let old = try Self.curl(["--cacert", certificate.certificate, "--tlsv1.0", "--tls-max", "1.1", url])
        #expect(old.status != 0)
        let tls12 = try Self.curl(["--cacert", certificate.certificate, "--tlsv1.2", "--tls-max", "1.2", "-v", url])
        #expect(tls12.status == 0, "\(tls12.stderr)")
        #expect(tls12.stderr.contains("SSL connection using TLSv1.2 / ECDHE-ECDSA-"))
    }

    @Test func silentAndPlainTextClientsAreDroppedWithoutHurtingOthers() throws {
        let certificate = try Certificate()
        defer { certificate.remove() }
        let server = try TestServer({ $0.tlsHandshakeTimeout = .milliseconds(300) },
                                    tls: TLSContext(certificatePath: certificate.certificate, keyPath: certificate.key))
        defer { server.stop() }
        let silent = try server.connect()
        let plain = try server.connect()
        plain.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = plain.readResponses(1).first
        #expect(answer?.status == 400)
        #expect(answer?.text.contains(#""code":"https_required""#) == true)
        #expect(plain.closedByPeer(within: 2))
        let garbage = try server.connect()
        garbage.send([0x00, 0x01, 0x02, 0x03] + Array(repeating: 0x16, count: 64))
        #expect(garbage.closedByPeer(within: 2))
        let ok = try Self.curl(["--cacert", certificate.certificate, "https://127.0.0.1:\(server.port)/healthz"])
        #expect(ok.status == 0)
        #expect(silent.closedByPeer(within: 3))
    }

    @Test func curlSpeakingHTTPToTheHTTPSPortIsToldSo() throws {
        let certificate = try Certificate()
        defer { certificate.remove() }
        let server = try TestServer(tls: TLSContext(certificatePath: certificate.certificate, keyPath: certificate.key))
        defer { server.stop() }
        let result = try Self.curl(["-w", "%{http_code}", "http://127.0.0.1:\(server.port)/healthz"])
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(text.hasSuffix("400") && text.contains("use an https:// URL"), "\(text)")
    }

    @Test func badCertificateFilesAreClearErrors() throws {
        let certificate = try Certificate()
        defer { certificate.remove() }
        let other = try Certificate()
        defer { other.remove() }
        #expect(throws: TLSError.unreadableFile(path: "/nonexistent/cert.pem", reason: "No such file or directory")) {
            try TLSContext(certificatePath: "/nonexistent/cert.pem", keyPath: certificate.key)
        }
        #expect(throws: TLSError.keyDoesNotMatchCertificate(certificate: certificate.certificate, key: other.key)) {
            try TLSContext(certificatePath: certificate.certificate, keyPath: other.key)
        }
        do {
            _ = try TLSContext(certificatePath: certificate.key, keyPath: certificate.key)
            Issue.record("a key is not a certificate")
        } catch {
            guard case .badCertificate(let path, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(path == certificate.key)
        }
    }

    @Test func serveTakesTheCertificateFlagsAndRefusesBadOnesAtStartup() throws {
        let certificate = try Certificate()
        defer { certificate.remove() }
        let child = try ServeCommandTests.Child(arguments: ["--port", "0"], environment: [
            "TIAOYU_TLS_CERT": certificate.certificate, "TIAOYU_TLS_KEY": certificate.key,
        ])
        #expect(child.waitForListening())
        // Ready once the models have loaded and warmed up ("loading" until then).
        var result = try Self.curl(["--cacert", certificate.certificate, "https://127.0.0.1:\(child.port)/readyz"])
        for _ in 0..<300 where String(decoding: result.stdout, as: UTF8.self) != #"{"status":"ready"}"# {
            usleep(100_000)
            result = try Self.curl(["--cacert", certificate.certificate, "https://127.0.0.1:\(child.port)/readyz"])
        }
        #expect(String(decoding: result.stdout, as: UTF8.self) == #"{"status":"ready"}"#, "\(result.stderr)")
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.waitForExit(timeout: 10) == 0)
        #expect(child.remainingLog().contains("scheme=https"))

        let missingKey = try ServeCommandTests.Child(arguments: ["--tls-cert", certificate.certificate])
        #expect(missingKey.waitForExit(timeout: 10) != 0)
        #expect(missingKey.remainingLog().contains("--tls-key"))

        let badKey = try ServeCommandTests.Child(arguments: [
            "--port", "0", "--tls-cert", certificate.certificate, "--tls-key", "/nonexistent/key.pem",
        ])
        #expect(badKey.waitForExit(timeout: 10) == 2)
        #expect(badKey.remainingLog().contains("cannot read /nonexistent/key.pem: No such file or directory"))
    }
}
