import Foundation
import HTTP1
import HTTPServer
import Testing

/// The deployment files are linted and validated offline, and their numbers agree with the server's defaults.
@Suite struct DeployLintTests {
    @Test(.enabled(if: DeployTools.available("hadolint"), DeployTools.skipNote))
    func theDockerfilePassesHadolint() throws {
        let hadolint = try DeployTools.require("hadolint")
        let result = try DeployTools.run(hadolint, ["docker/Dockerfile"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.isEmpty, "\(result.output)")
    }

    @Test(.enabled(if: DeployTools.available("yamllint"), DeployTools.skipNote))
    func composeAndKubernetesFilesPassYamllintStrictly() throws {
        let yamllint = try DeployTools.require("yamllint")
        let result = try DeployTools.run(yamllint, [
            "-s", "-c", "Deploy/yamllint.yaml", "docker/compose.yaml", "Deploy/kubernetes", "Deploy/yamllint.yaml",
        ])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: DeployTools.available("kubernetes-validate"), DeployTools.skipNote))
    func kubernetesManifestsValidateAgainstTheSchemasStrictly() throws {
        let validate = try DeployTools.require("kubernetes-validate")
        let directory = DeployTools.repository.appendingPathComponent("Deploy/kubernetes")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files == ["configmap.yaml", "deployment.yaml", "hpa.yaml", "pdb.yaml", "service.yaml"])
        let result = try DeployTools.run(validate, ["--strict", "--quiet"] + files.map { "Deploy/kubernetes/" + $0 })
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: DeployTools.available("systemd-analyze"), DeployTools.skipNote))
    func theSystemdUnitVerifiesWithoutWarnings() throws {
        let analyze = try DeployTools.require("systemd-analyze")
        // verify insists that ExecStart exists: point it at the binary this test run built.
        let unit = try DeployTools.text("Deploy/systemd/tiaoyu.service")
        let installed = "ExecStart=/usr/local/bin/tiaoyu serve"
        #expect(unit.components(separatedBy: installed).count == 2)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tiaoyu-unit-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("tiaoyu.service")
        try unit.replacingOccurrences(of: installed, with: "ExecStart=\(TiaoyuProcess.binary.path) serve")
            .write(to: copy, atomically: true, encoding: .utf8)
        let result = try DeployTools.run(analyze, ["verify", copy.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.isEmpty, "\(result.output)")
    }

    @Test(.enabled(if: DeployTools.available("nginx"), DeployTools.skipNote))
    func theNginxConfigPassesNginxTestAsShipped() throws {
        let nginx = try DeployTools.require("nginx")
        let harness = try NginxDirectory()
        defer { harness.remove() }
        // Only the log path moves (/var/log/nginx may not be writable here); ports stay 80 and 8080.
        let config = try DeployTools.text("Deploy/nginx/tiaoyu.conf")
            .replacingOccurrences(of: "/var/log/nginx/tiaoyu.access.log", with: harness.path("access.log"))
        try harness.write(siteConfig: config)
        let result = try DeployTools.run(nginx, harness.arguments + ["-t"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("syntax is ok"))
    }

    // MARK: numbers that must agree

    static func number(_ pattern: String, in text: String, file: String) throws -> Int {
        let regex = try Regex(pattern)
        let match = try #require(text.firstMatch(of: regex), "\(file): no match for \(pattern)")
        let captured = try #require(match.output[1].substring, "\(file): \(pattern) captured nothing")
        return try #require(Int(captured), "\(file): '\(captured)' is not a number")
    }

    @Test func theNginxLimitsFitTheServersDefaults() throws {
        let conf = try DeployTools.text("Deploy/nginx/tiaoyu.conf")
        let server = HTTPServerConfiguration()
        let file = "tiaoyu.conf"
        #expect(try Self.number(#"client_max_body_size (\d+)m;"#, in: conf, file: file) << 20
            == HTTPLimits().maxBodyBytes)
        #expect(try Self.number(#"keepalive_timeout (\d+)s;"#, in: conf, file: file)
            < Int(server.idleTimeout.components.seconds))
        #expect(try Self.number(#"keepalive_requests (\d+);"#, in: conf, file: file)
            == server.maxRequestsPerConnection)
        #expect(try Self.number(#"proxy_read_timeout (\d+)s;"#, in: conf, file: file)
            > Int(server.writeTimeout.components.seconds))
        #expect(try Self.number(#"client_header_timeout (\d+)s;"#, in: conf, file: file)
            == Int(server.headerTimeout.components.seconds))
        #expect(try Self.number(#"client_body_timeout (\d+)s;"#, in: conf, file: file)
            == Int(server.bodyTimeout.components.seconds))
        #expect(conf.contains("proxy_http_version 1.1;") && conf.contains(#"proxy_set_header Connection "";"#))
        #expect(conf.contains("proxy_set_header X-Request-Id $tiaoyu_request_id;"))
        #expect(conf.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"))
    }

    @Test func theDrainFitsInsideEveryStopTimeout() throws {
        let dockerfile = try DeployTools.text("docker/Dockerfile")
        let compose = try DeployTools.text("docker/compose.yaml")
        let configMap = try DeployTools.text("Deploy/kubernetes/configmap.yaml")
        let deployment = try DeployTools.text("Deploy/kubernetes/deployment.yaml")
        let unit = try DeployTools.text("Deploy/systemd/tiaoyu.service")

        let imageDrain = try Self.number(#"TIAOYU_DRAIN_TIMEOUT=(\d+)"#, in: dockerfile, file: "Dockerfile")
        #expect(dockerfile.contains("STOPSIGNAL SIGTERM"))
        #expect(dockerfile.contains("--stop-timeout \(imageDrain + 5)"))

        let composeDrain = try Self.number(#"TIAOYU_DRAIN_TIMEOUT: "(\d+)""#, in: compose, file: "compose.yaml")
        let composeGrace = try Self.number(#"stop_grace_period: (\d+)s"#, in: compose, file: "compose.yaml")
        #expect(composeDrain < composeGrace)

        let podDrain = try Self.number(#"TIAOYU_DRAIN_TIMEOUT: "(\d+)""#, in: configMap, file: "configmap.yaml")
        let grace = try Self.number(#"terminationGracePeriodSeconds: (\d+)"#, in: deployment, file: "deployment.yaml")
        let preStop = try Self.number(#"command: \["sleep", "(\d+)"\]"#, in: deployment, file: "deployment.yaml")
        #expect(preStop + podDrain < grace)

        let unitDrain = try Self.number(#"TIAOYU_DRAIN_TIMEOUT=(\d+)"#, in: unit, file: "tiaoyu.service")
        let unitStop = try Self.number(#"TimeoutStopSec=(\d+)"#, in: unit, file: "tiaoyu.service")
        #expect(unitDrain < unitStop)
        #expect(Set([imageDrain, composeDrain, podDrain, unitDrain]).count == 1, "one drain time everywhere")
    }

    @Test func theImageHealthCheckCommandProbesHealthz() throws {
        // Docker joins continuation lines, then reads the JSON array after CMD.
        let dockerfile = try DeployTools.text("docker/Dockerfile").replacingOccurrences(of: "\\\n", with: "")
        let line = try #require(dockerfile.split(separator: "\n").first { $0.hasPrefix("HEALTHCHECK") })
        let json = try #require(line.range(of: "CMD ")).upperBound
        let command = try JSONDecoder().decode([String].self, from: Data(line[json...].utf8))
        #expect(command.first == "/bin/sh")

        let server = try TiaoyuProcess(arguments: ["--port", "0", "--url-prefix", "/tiaoyu"])
        defer { server.stop() }
        let probe = { (environment: [String: String]) throws -> Int32 in
            try DeployTools.run(command[0], Array(command.dropFirst()), environment: environment).status
        }
        #expect(try probe(["TIAOYU_PORT": "\(server.port)", "TIAOYU_URL_PREFIX": "/tiaoyu"]) == 0)
        #expect(try probe(["TIAOYU_PORT": "\(server.port)", "TIAOYU_URL_PREFIX": ""]) != 0)
        #expect(try probe(["TIAOYU_PORT": "1", "TIAOYU_URL_PREFIX": "/tiaoyu"]) != 0)
    }
}
