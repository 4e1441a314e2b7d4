import Foundation
import Testing

/// Where the deployment tests find their tools, and what happens when one is missing.
///
/// `Deploy/setup.sh` installs nginx, openssl, curl and systemd from Debian and hadolint, yamllint and
/// kubernetes-validate into `.build/deploy-tools/` (it leaves `.build/deploy-tools/installed` behind). Where it ran,
/// or where `CI` is set, every test runs and a missing tool is a failure that names it. Elsewhere (a developer's
/// machine without the linters) a test whose tools are missing is skipped with a note saying how to enable it.
enum DeployTools {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized

    static let linterDirectory = repository.appendingPathComponent(".build/deploy-tools/bin")

    static var setupRan: Bool {
        FileManager.default.fileExists(atPath: repository.appendingPathComponent(".build/deploy-tools/installed").path)
    }

    /// Tools must be present: setup ran, or this is CI.
    static var required: Bool { setupRan || ProcessInfo.processInfo.environment["CI"] != nil }

    /// The executable for `name`: the linters' virtual environment first, then PATH and the sbin directories.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = [linterDirectory.path] + path.split(separator: ":").map(String.init)
            + ["/usr/sbin", "/sbin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether a test using `names` runs: always where tools are required, otherwise only if all are there.
    static func available(_ names: String...) -> Bool {
        required || names.allSatisfy { find($0) != nil }
    }

    static let skipNote: Comment =
        "deployment tools missing and Deploy/setup.sh not run here (CI fails instead of skipping)"

    /// The path of a required tool, or a test failure that says how to get it.
    static func require(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(find(name), "\(name) is missing: run Deploy/setup.sh", sourceLocation: sourceLocation)
    }

    /// Runs `tool` with `arguments`; returns stdout+stderr as text and the exit status.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                    in directory: URL = repository) throws -> (output: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(relativePath), encoding: .utf8)
    }
}

/// A message-carrying failure for harness set-up.
struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
