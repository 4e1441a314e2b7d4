import Foundation
import ImagePipeline
import Tokenizers

/// The files every served model directory carries besides its weights (tokenizer and image preprocessor),
/// loaded one way for the captioning and the retrieval model, with errors that name the file.
enum ModelDirectory {
    /// The directory's tokenizer (`tokenizer.json`, or the classic vocabulary files).
    static func tokenizer(_ directory: String) throws(ModelLoadError) -> Tokenizer {
        do {
            return try Tokenizer(directory: URL(fileURLWithPath: directory))
        } catch {
            throw ModelLoadError(directory: directory, file: "tokenizer files", reason: "\(error)")
        }
    }

    /// Reads `preprocessor_config.json` (or transformers 5.x `processor_config.json`).
    static func preprocessor(_ directory: String, options: DecodeOptions) throws(ModelLoadError) -> ImagePreprocessor {
        let base = URL(fileURLWithPath: directory)
        let candidates = ["preprocessor_config.json", "processor_config.json"]
        guard let name = candidates.first(where: {
            FileManager.default.fileExists(atPath: base.appendingPathComponent($0).path)
        }) else {
            throw ModelLoadError(directory: directory, file: "preprocessor_config.json", reason: "missing")
        }
        do {
            let data = try Data(contentsOf: base.appendingPathComponent(name))
            return try ImagePreprocessor(config: try ImageProcessorConfig.parse(data), options: options)
        } catch {
            throw ModelLoadError(directory: directory, file: name, reason: "\(error)")
        }
    }
}
