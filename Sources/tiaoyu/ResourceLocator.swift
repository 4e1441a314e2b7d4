import Foundation

/// Finds the files that ship with the binary: the web page (`Public/`) and the embedded default model
/// (`DefaultModel/`, copied next to the binary by the build as `tiaoyu_tiaoyu.resources/`). Looked up in the
/// working directory, beside the binary, in the source tree the binary was built from (`.build/<config>/tiaoyu`),
/// and under the install prefix `/usr/share/tiaoyu` (the container image).
enum ResourceLocator {
    static func publicDirectory() -> String? {
        var candidates = [FileManager.default.currentDirectoryPath + "/Public"]
        candidates += ancestorsOfExecutable().map { $0 + "/Public" }
        candidates.append("/usr/share/tiaoyu/Public")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }

    /// The embedded default model's directory for `name` (e.g. `blip2-shapes-opt`), if it can be found.
    static func defaultModelDirectory(_ name: String) -> String? {
        var roots: [String] = []
        if let executableDirectory = ancestorsOfExecutable().first {
            roots.append(executableDirectory + "/tiaoyu_tiaoyu.resources/DefaultModel")
        }
        roots += ancestorsOfExecutable().map { $0 + "/Sources/tiaoyu/Resources/DefaultModel" }
        roots.append("/usr/share/tiaoyu/DefaultModel")
        return roots.map { $0 + "/" + name }
            .first { FileManager.default.fileExists(atPath: $0 + "/config.json") }
    }

    /// The binary's directory and up to four of its parents.
    private static func ancestorsOfExecutable() -> [String] {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        var result: [String] = []
        for _ in 0..<5 {
            result.append(directory.path)
            directory = directory.deletingLastPathComponent()
        }
        return result
    }
}

/// The embedded default model's two directories (see `Sources/tiaoyu/Resources/DefaultModel/README.md`).
enum DefaultModel {
    static let captionName = "blip2-shapes-opt"
    static let retrievalName = "blip2-shapes-itm"
}
