import Blip2
import Foundation
import ImagePipeline
import Tensors
import Tokenizers

/// A retrieval model directory ready to use: the BLIP-2 ITC/ITM weights, the Q-Former's BERT tokenizer and the
/// image preprocessor, so that image bytes and strings go in and embeddings and match scores come out.
public struct RetrievalModel: Sendable {
    public let directory: String
    public let model: Blip2ForImageTextRetrieval
    public let tokenizer: Tokenizer
    public let preprocessor: ImagePreprocessor
    /// The id that pads texts of a batch to one length (its mask is 0, so its value only has to be valid).
    public let padID: Int

    /// Loads and validates everything in `directory`; any problem is a `ModelLoadError` naming the file.
    public init(directory: String, decodeOptions: DecodeOptions = DecodeOptions()) throws(ModelLoadError) {
        self.directory = directory
        do {
            model = try Blip2ForImageTextRetrieval.load(directory: directory)
        } catch {
            throw ModelLoadError(directory: directory, file: "config.json / model.safetensors", reason: "\(error)")
        }
        tokenizer = try ModelDirectory.tokenizer(directory)
        padID = tokenizer.padding?.padId ?? tokenizer.tokenToId("[PAD]") ?? 0
        preprocessor = try ModelDirectory.preprocessor(directory, options: decodeOptions)
    }

    /// ITC embedding width D.
    public var dimension: Int { model.config.imageTextHiddenSize }

    /// BERT ids of `text` ([CLS] first), refused when longer than the Q-Former's position table.
    public func textIDs(_ text: String) throws(EngineError) -> [Int] {
        let ids: [Int]
        do {
            ids = try tokenizer.encode(text).ids
        } catch {
            throw .invalidRequest("cannot tokenize text: \(error)")
        }
        let limit = model.config.qformerConfig.maxPositionEmbeddings
        guard ids.count <= limit else {
            throw .tooLarge("text is \(ids.count) tokens, more than the model's \(limit)")
        }
        return ids
    }
}
