import ArgumentParser
import Blip2
import Foundation
import Inference

/// `tiaoyu caption`: captions local image files offline (no server), printing one caption per line, or ids and
/// text as JSON.
struct Caption: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Caption image files offline with a BLIP-2 captioning model directory.")

    @Option(help: "A Blip2ForConditionalGeneration model directory (default: the embedded shapes model).")
    var model: String?
    @Option(help: "Optional prompt, e.g. \"Question: what is shown? Answer:\".")
    var prompt: String?
    @Option(help: "Most tokens to generate (default: the checkpoint's generation config, else 30).")
    var maxNewTokens: Int?
    @Option(help: "Fewest tokens to generate before EOS may end a caption.")
    var minNewTokens: Int?
    @Option(help: "Beam search width (1 = greedy or sampling).")
    var numBeams: Int?
    @Option(help: "Beam search length penalty.")
    var lengthPenalty: Double?
    @Option(help: "Penalty for repeating tokens (1 = none).")
    var repetitionPenalty: Double?
    @Option(help: "Forbid repeating n-grams of this size (0 = off).")
    var noRepeatNgramSize: Int?
    @Flag(help: "Sample instead of greedy/beam decoding.")
    var doSample = false
    @Option(help: "Sampling temperature.")
    var temperature: Double?
    @Option(help: "Sampling: keep the k most likely tokens.")
    var topK: Int?
    @Option(help: "Sampling: keep the smallest set with this cumulative probability.")
    var topP: Double?
    @Option(help: "Seed for sampling (same seed, same captions).")
    var seed: UInt64?
    @Option(help: "Captions per image.")
    var numCaptions: Int?
    @Flag(help: "Print JSON with token ids, text and finish reason.")
    var json = false
    @Argument(help: "Image files (JPEG or PNG).")
    var images: [String]

    func run() throws {
        guard let directory = model ?? ResourceLocator.defaultModelDirectory(DefaultModel.captionName) else {
            throw ValidationError("the embedded default model was not found; pass --model DIR")
        }
        let captioner: CaptionModel
        do {
            captioner = try CaptionModel(directory: directory)
        } catch {
            throw ValidationError(error.description)
        }
        var options = captioner.model.defaultOptions(
            promptLength: try prompt.map { try captioner.promptIDs($0).count } ?? 1)
        if let maxNewTokens { options.maxNewTokens = maxNewTokens }
        if let minNewTokens { options.minNewTokens = minNewTokens }
        if let numBeams { options.numBeams = numBeams }
        if let lengthPenalty { options.lengthPenalty = lengthPenalty }
        if let repetitionPenalty { options.repetitionPenalty = repetitionPenalty }
        if let noRepeatNgramSize { options.noRepeatNgramSize = noRepeatNgramSize }
        if doSample { options.doSample = true }
        if let temperature { options.temperature = temperature }
        if let topK { options.topK = topK }
        if let topP { options.topP = topP }
        if let seed { options.seed = seed }
        if let numCaptions { options.numReturnSequences = numCaptions }
        do {
            try options.validate(vocabSize: captioner.model.textConfig.vocabSize)
        } catch {
            throw ValidationError("\(error)")
        }

        var results: [[String: Any]] = []
        var failed = false
        for path in images {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("\(path): cannot read the file\n".utf8))
                failed = true
                continue
            }
            do {
                let pixels = try captioner.pixels(from: [UInt8](data))
                let captions = try captioner.caption(pixels: pixels, prompts: [prompt], options: options)[0]
                if json {
                    results.append(["image": path, "captions": captions.map {
                        ["text": $0.text, "token_ids": $0.tokenIDs, "finish_reason": $0.finishReason] as [String: Any]
                    }])
                } else {
                    for caption in captions { print(images.count > 1 ? "\(path)\t\(caption.text)" : caption.text) }
                }
            } catch {
                FileHandle.standardError.write(Data("\(path): \(error)\n".utf8))
                failed = true
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        if failed { throw ExitCode(1) }
    }
}
