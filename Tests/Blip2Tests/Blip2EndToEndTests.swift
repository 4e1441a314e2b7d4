// From the committed PNGs through ImagePipeline (the checkpoint's preprocessor_config.json) to the retrieval
// outputs of transformers: the whole image path of a request, with the token ids the BERT tokenizer made.

import Blip2
import Foundation
import ImagePipeline
import SafeTensors
import Tensors
import Testing

@Suite("BLIP-2 retrieval end to end from PNG bytes")
struct Blip2EndToEndTests {
    /// The two source images, in the order the reference script batched them.
    static let images = ["landscape.png", "portrait.png"]

    /// pixel values [B, 3, S, S] for the PNGs, made by `ImagePreprocessor` with the model's own config.
    static func pixelValues(model name: String) throws -> Tensor {
        let configData = try Data(contentsOf: Blip2Fixtures.tiny(name, "model/preprocessor_config.json"))
        let preprocessor = try ImagePreprocessor(config: ImageProcessorConfig.parse(configData))
        var planes: [Float] = []
        var side = 0
        for file in images {
            let bytes = try [UInt8](Data(contentsOf: Blip2Fixtures.image(file)))
            let pixels = try preprocessor.pixelValues(from: bytes)
            side = pixels.height
            planes += pixels.values
        }
        return Tensor(shape: [images.count, 3, side, side], scalars: planes)
    }

    @Test("PNG bytes give transformers' pixel values, image embeddings, similarities and match probabilities",
          arguments: Blip2Fixtures.tinyNames)
    func pngToRetrievalOutputs(name: String) throws {
        let tiny = try TinyRetrievalCase(name)
        let pixels = try Self.pixelValues(model: name)
        expectClose(pixels, try tiny.reference.tensor(named: "pixel_values"), atol: 1e-6, "pixel_values")
        let images = try tiny.model.encodeImages(pixels)
        expectClose(images.imageEmbeds, try tiny.reference.tensor(named: "itc.image_embeds"),
                    atol: ParityTolerance.hidden, "itc.image_embeds")
        let tokens = try tiny.tokens
        let texts = try tiny.model.encodeTexts(tokens)
        expectClose(tiny.model.similarity(images: images, texts: texts),
                    try tiny.reference.tensor(named: "itc.logits_per_image"), atol: ParityTolerance.similarity,
                    "itc.logits_per_image")
        let match = try tiny.model.matchAll(images: images, texts: tokens)
        expectClose(Tensor(shape: [match.probabilityMatch.count], scalars: match.probabilityMatch),
                    try tiny.reference.tensor(named: "itm.probability_match"), atol: ParityTolerance.probability,
                    "itm.probability_match")
    }
}
