// Blip2ForConditionalGeneration (models/blip_2/modeling_blip_2.py, transformers 5.23.0): the captioning model,
// joining the image half (vision tower + Q-Former query pass) to the language half (language_projection, the
// image-token stitch and the OPT decoder). Legend: B = images, Q = query tokens, Cq = Q-Former width.

import Foundation
import SafeTensors
import Tensors

/// A BLIP-2 captioning checkpoint with an OPT decoder, loaded strictly from a model directory: pixels in,
/// generated token ids out. Strings never enter: the caller tokenizes prompts and detokenizes the output.
public struct Blip2ForConditionalGeneration: Sendable {
    public let config: Blip2Config
    public let imageQueryEncoder: Blip2ImageQueryEncoder
    public let languageBridge: Blip2LanguageBridge
    public let languageModel: OPTForCausalLM
    /// The OPT sub-config (the decoder's sizes and special ids).
    public let textConfig: OPTConfig
    /// `generation_config.json` when the directory has one: the checkpoint's decoding defaults.
    public let generationConfig: GenerationConfig?
    /// Checkpoint keys accepted but deliberately not read (see `Blip2Checkpoint.ignoredKeys`).
    public private(set) var ignoredCheckpointKeys: [String] = []

    /// Builds the model from an opened checkpoint; `finishLoading` is the caller's (see `load`).
    public init(config: Blip2Config, weights: WeightStore, generationConfig: GenerationConfig? = nil)
        throws(Blip2ModelError)
    {
        guard config.architecture == .conditionalGeneration else {
            throw .wrongArchitecture(found: config.architecture, expected: .conditionalGeneration)
        }
        guard case let .opt(text)? = config.textConfig else {
            throw .unsupported("captioning needs an OPT language model (Flan-T5 is not supported yet)")
        }
        self.config = config
        self.textConfig = text
        self.generationConfig = generationConfig
        imageQueryEncoder = try Blip2ImageQueryEncoder(config: config, weights: weights)
        do {
            languageBridge = try Blip2LanguageBridge(config: config, weights: weights.scope(""))
            languageModel = try OPTForCausalLM(
                config: text, weights: weights.scope(Blip2Checkpoint.languageModelPrefix))
        } catch let error as SafeTensorsError {
            throw .weights(error)
        } catch let error as GenerationError {
            throw .unsupported(error.description)
        } catch {
            throw .unsupported("\(error)")
        }
    }

    /// Loads `config.json`, `generation_config.json` (optional) and the weights of `directory`; a missing,
    /// mis-shaped or unread tensor is an error naming it.
    public static func load(directory: String) throws(Blip2ModelError) -> Blip2ForConditionalGeneration {
        let (config, store) = try Blip2Checkpoint.open(directory: directory)
        let generationURL = URL(fileURLWithPath: directory).appendingPathComponent("generation_config.json")
        var generation: GenerationConfig?
        if FileManager.default.fileExists(atPath: generationURL.path) {
            do {
                generation = try GenerationConfig.load(from: generationURL)
            } catch {
                throw .config(error)
            }
        }
        var model = try Blip2ForConditionalGeneration(config: config, weights: store, generationConfig: generation)
        model.ignoredCheckpointKeys = try Blip2Checkpoint.finishLoading(store)
        return model
    }

    /// The checkpoint's decoding defaults for a prompt of `promptLength` tokens (placeholders excluded).
    public func defaultOptions(promptLength: Int = 0) -> GenerationOptions {
        GenerationOptions(checkpoint: generationConfig, text: textConfig,
                          promptLength: config.numQueryTokens + promptLength)
    }

    /// Q-Former query outputs [B, Q, Cq] for pixels [B, 3, S, S].
    public func queryOutput(_ pixels: Tensor, trace: Blip2Trace? = nil) throws(Blip2ModelError) -> Tensor {
        try imageQueryEncoder(pixels, trace: trace).queryOutput
    }

    /// Generates for each image from its query output: a caption (prompt nil) or the continuation of a
    /// prompt (OPT token ids, BOS first, as the tokenizer encodes them).
    public func generate(
        queryOutput: Tensor, prompts: [[Int]?], options: GenerationOptions,
        observer: GenerationObserver = GenerationObserver()
    ) throws(GenerationError) -> GenerationOutput {
        try languageBridge.generate(
            queryOutput: queryOutput, prompts: prompts, model: languageModel, options: options, observer: observer)
    }
}
