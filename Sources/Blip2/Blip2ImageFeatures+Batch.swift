// Splitting and joining image features along the batch axis, so a server can cache one image's features and
// later run ITM over images that were encoded in different batches. Legend: B images, P image tokens,
// Cv vision width, Q query tokens, C Q-Former width, D ITC width.

import Tensors

extension Blip2ImageFeatures {
    /// The features of image `index` alone (B = 1); `index` must be in 0..<count (internal contract).
    public func image(_ index: Int) -> Blip2ImageFeatures {
        precondition((0..<count).contains(index), "image \(index) of \(count)")
        let range = index..<(index + 1)
        return Blip2ImageFeatures(
            vision: Blip2VisionModelOutput(
                lastHiddenState: vision.lastHiddenState.slice(axis: 0, range),  // [1, P, Cv]
                poolerOutput: vision.poolerOutput.slice(axis: 0, range)),  // [1, Cv]
            queryOutput: queryOutput.slice(axis: 0, range),  // [1, Q, C]
            imageEmbeds: imageEmbeds.slice(axis: 0, range))  // [1, Q, D]
    }

    /// Features of several batches joined in order (B = the sum); all must come from one model.
    public static func concatenate(_ parts: [Blip2ImageFeatures]) -> Blip2ImageFeatures {
        precondition(!parts.isEmpty, "nothing to concatenate")
        return Blip2ImageFeatures(
            vision: Blip2VisionModelOutput(
                lastHiddenState: Tensor.concatenate(parts.map(\.vision.lastHiddenState), axis: 0),
                poolerOutput: Tensor.concatenate(parts.map(\.vision.poolerOutput), axis: 0)),
            queryOutput: Tensor.concatenate(parts.map(\.queryOutput), axis: 0),
            imageEmbeds: Tensor.concatenate(parts.map(\.imageEmbeds), axis: 0))
    }

    /// Bytes held by these tensors (what a cache entry costs).
    public var byteCount: Int {
        4 * (vision.lastHiddenState.count + vision.poolerOutput.count + queryOutput.count + imageEmbeds.count)
    }
}
