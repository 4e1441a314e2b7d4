import Blip2
import Foundation
import ImagePipeline
import Tensors
import Tokenizers

/// A captioning model directory ready to use: the BLIP-2 weights, the OPT tokenizer and the image
/// preprocessor, joined so that image bytes and a prompt string go in and caption text comes out. The offline
/// `tiaoyu caption` command and the server's caption stage both run through it.
public struct CaptionModel: Sendable {
    public let directory: String
    public let model: Blip2ForConditionalGeneration
    public let tokenizer: Tokenizer
    public let preprocessor: ImagePreprocessor

    /// One generated sequence.
    public struct Caption: Sendable, Equatable {
        public var text: String
        /// The generated token ids (prompt excluded).
        public var tokenIDs: [Int]
        /// `stop` when an EOS id ended it, `length` when `max_new_tokens` did.
        public var finishReason: String
    }

    /// Loads and validates everything in `directory`; any problem is a `ModelLoadError` naming the file.
    public init(directory: String, decodeOptions: DecodeOptions = DecodeOptions()) throws(ModelLoadError) {
        self.directory = directory
        do {
            model = try Blip2ForConditionalGeneration.load(directory: directory)
        } catch {
            throw ModelLoadError(directory: directory, file: "config.json / model.safetensors", reason: "\(error)")
        }
        tokenizer = try ModelDirectory.tokenizer(directory)
        preprocessor = try ModelDirectory.preprocessor(directory, options: decodeOptions)
    }

    /// Decodes and preprocesses encoded image bytes into one [1, 3, S, S] pixel tensor.
    public func pixels(from bytes: [UInt8]) throws -> Tensor {
        let values = try preprocessor.pixelValues(from: bytes)
        return Tensor(shape: [1, values.channels, values.height, values.width], scalars: values.values)
    }

    /// OPT token ids of a prompt, BOS first (as the checkpoint's tokenizer adds it).
    public func promptIDs(_ prompt: String) throws -> [Int] {
        try tokenizer.encode(prompt).ids
    }

    /// Captions a batch of preprocessed images ([B, 3, S, S]) with an optional prompt per image.
    public func caption(pixels: Tensor, prompts: [String?], options: GenerationOptions,
                        observer: GenerationObserver = GenerationObserver()) throws -> [[Caption]] {
        try caption(queryOutput: try model.queryOutput(pixels), prompts: prompts, options: options, observer: observer)
    }

    /// Captions a batch of Q-Former query outputs ([B, Q, C]) with an optional prompt per image.
    public func caption(queryOutput query: Tensor, prompts: [String?], options: GenerationOptions,
                        observer: GenerationObserver = GenerationObserver()) throws -> [[Caption]] {
        var promptTokenIDs: [[Int]?] = []
        for prompt in prompts { promptTokenIDs.append(try prompt.map { try self.promptIDs($0) }) }
        return try caption(queryOutput: query, promptIDs: promptTokenIDs, options: options, observer: observer)
    }

    /// Captions a batch of query outputs with prompts already tokenized (`promptIDs`), so the server can
    /// tokenize before a request joins a batch.
    public func caption(queryOutput query: Tensor, promptIDs promptTokenIDs: [[Int]?], options: GenerationOptions,
                        observer: GenerationObserver = GenerationObserver()) throws -> [[Caption]] {
        let output = try model.generate(
            queryOutput: query, prompts: promptTokenIDs, options: options, observer: observer)
        return captions(from: output, options: options)
    }

    /// The captions of a generation output: generated ids (prompt dropped), text, finish reason.
    public func captions(from output: GenerationOutput, options: GenerationOptions) -> [[Caption]] {
        zip(output.sequences, output.newTokenCounts).map { sequences, counts in
            zip(sequences, counts).map { sequence, count in
                let generated = Array(sequence.suffix(count))
                let stopped = generated.last.map { options.eosTokenIDs.contains($0) } ?? false
                let text = tokenizer.decode(generated, skipSpecialTokens: true)
                return Caption(text: text.trimmingCharacters(in: .whitespacesAndNewlines), tokenIDs: generated,
                               finishReason: stopped ? "stop" : "length")
            }
        }
    }
}

/// A model directory that cannot be served: which directory, which file, and why.
public struct ModelLoadError: Error, Sendable, CustomStringConvertible {
    public var directory: String
    public var file: String
    public var reason: String

    public var description: String { "cannot load \(directory) (\(file)): \(reason)" }
}
