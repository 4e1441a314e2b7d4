import Foundation
import Inference
import Testing

/// `tiaoyu caption` as a person runs it: a model directory and image files in, captions out.
@Suite(.serialized) struct CaptionCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures").standardizedFileURL
    static let images = ["landscape.png", "portrait.png"].map {
        fixtures.appendingPathComponent("blip2/images/\($0)").path
    }

    /// The tiny OPT captioning fixture with a preprocessor config for its image size (the fixture has none).
    static func modelDirectory() throws -> String {
        let source = fixtures.appendingPathComponent("opt/tiny-pre/model")
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("tiaoyu-caption-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: target)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json")))
        let vision = (config as? [String: Any])?["vision_config"] as? [String: Any]
        let size = try #require(vision?["image_size"] as? Int)
        let preprocessor: [String: Any] = [
            "image_processor_type": "BlipImageProcessor", "do_resize": true, "size": ["height": size, "width": size],
            "resample": 3, "do_rescale": true, "rescale_factor": 1.0 / 255, "do_normalize": true,
            "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
            "do_convert_rgb": true,
        ]
        try JSONSerialization.data(withJSONObject: preprocessor)
            .write(to: target.appendingPathComponent("preprocessor_config.json"))
        return target.path
    }

    static func run(_ arguments: [String]) throws -> (stdout: String, stderr: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tiaoyu")
        process.arguments = ["caption"] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (stdout, stderr, process.terminationStatus)
    }

    @Test func jsonOutputEqualsTheInProcessPipeline() throws {
        let model = try Self.modelDirectory()
        defer { try? FileManager.default.removeItem(atPath: model) }
        let result = try Self.run(["--model", model, "--json", "--max-new-tokens", "8"] + Self.images)
        #expect(result.status == 0, "\(result.stderr)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(parsed.count == 2)

        let captioner = try CaptionModel(directory: model)
        var options = captioner.model.defaultOptions(promptLength: 1)
        options.maxNewTokens = 8
        for (index, path) in Self.images.enumerated() {
            let pixels = try captioner.pixels(from: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            let expected = try captioner.caption(pixels: pixels, prompts: [nil], options: options)[0][0]
            let entry = try #require((parsed[index]["captions"] as? [[String: Any]])?.first)
            #expect(parsed[index]["image"] as? String == path)
            #expect(entry["token_ids"] as? [Int] == expected.tokenIDs)
            #expect(entry["text"] as? String == expected.text)
            #expect(entry["finish_reason"] as? String == expected.finishReason)
            #expect(!expected.tokenIDs.isEmpty)
        }
    }

    @Test func plainOutputIsOneLinePerImageAndBadFilesAreReported() throws {
        let model = try Self.modelDirectory()
        defer { try? FileManager.default.removeItem(atPath: model) }
        let bogus = FileManager.default.temporaryDirectory.appendingPathComponent("not-an-image-\(UUID().uuidString).png")
        try Data("hello".utf8).write(to: bogus)
        defer { try? FileManager.default.removeItem(at: bogus) }
        let result = try Self.run(["--model", model, "--max-new-tokens", "4", Self.images[0], bogus.path, Self.images[1]])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix(Self.images[0] + "\t") == true)
        #expect(result.stderr.contains(bogus.path))
    }

    @Test func aMissingModelDirectoryIsAClearError() throws {
        let result = try Self.run(["--model", "/nonexistent/model", Self.images[0]])
        #expect(result.status != 0)
        #expect(result.stderr.contains("cannot load /nonexistent/model"))
    }
}
