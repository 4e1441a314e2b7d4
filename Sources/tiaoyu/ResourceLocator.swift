import Foundation

/// Finds the files that ship beside the binary: `Public/` from the working directory, the source tree the
/// binary was built in (`.build/<config>/tiaoyu`), or an install prefix (`/usr/share/tiaoyu`).
enum ResourceLocator {
    static func publicDirectory() -> String? {
        var candidates = [FileManager.default.currentDirectoryPath + "/Public"]
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("Public").path)
            directory = directory.deletingLastPathComponent()
        }
        candidates.append("/usr/share/tiaoyu/Public")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }
}
