// The cross-attention memory of the Q-Former: vision tokens, and which image each sequence reads.
// Shapes: see Blip2QFormerMultiHeadAttention.

import Tensors

/// The image tokens the Q-Former's cross-attention layers read (`encoder_hidden_states` upstream).
///
/// `imageIndex` lets a batch of B sequences read fewer images Bi (image–text matching scores every pair of
/// a few images with many texts): each cross-attention layer projects keys and values once per *image* and
/// hands sequence b the rows of image `imageIndex[b]`, instead of running the vision tower and the key/value
/// GEMMs once per pair as upstream's pair batch does. Every image token is valid (BLIP-2's image mask is all
/// ones), so there is no memory mask.
public struct Blip2QFormerImageMemory: Sendable {
    /// [Bi, P, Cv]: the vision model's `lastHiddenState`.
    public let hiddenStates: Tensor
    /// For each sequence of the batch, the image it reads; nil means sequence b reads image b.
    public let imageIndex: [Int]?

    /// Memory over `hiddenStates` [Bi, P, Cv], sequence b reading image `imageIndex?[b] ?? b`.
    public init(hiddenStates: Tensor, imageIndex: [Int]? = nil) {
        self.hiddenStates = hiddenStates
        self.imageIndex = imageIndex
    }

    /// Checks the memory against a batch of `batch` sequences and a vision width `width`.
    func validate(batch: Int, width: Int) throws(Blip2ModelError) {
        let shape = hiddenStates.shape
        guard shape.count == 3, shape[0] >= 1, shape[1] >= 1, shape[2] == width else {
            throw .invalidInput("image memory has shape \(shape), expected [Bi, P, \(width)]")
        }
        if let imageIndex {
            guard imageIndex.count == batch else {
                throw .invalidInput("image index has \(imageIndex.count) entries for a batch of \(batch)")
            }
            if let bad = imageIndex.first(where: { $0 < 0 || $0 >= shape[0] }) {
                throw .invalidInput("image index \(bad) is outside the \(shape[0]) images")
            }
        } else if shape[0] != batch {
            throw .invalidInput("\(shape[0]) images for a batch of \(batch) sequences and no image index")
        }
    }

    /// Keys and values of `attention` over the images, one row block per sequence: ([B, P, C], [B, P, C]).
    func keysAndValues(for attention: Blip2QFormerMultiHeadAttention) -> (Tensor, Tensor) {
        let (k, v) = attention.keysAndValues(hiddenStates)  // [Bi, P, C] each
        guard let imageIndex else { return (k, v) }
        return (Self.gather(k, imageIndex), Self.gather(v, imageIndex))
    }

    /// Rows `index` of x along axis 0 (a copy): [Bi, P, C] -> [B, P, C].
    static func gather(_ x: Tensor, _ index: [Int]) -> Tensor {
        if index == Array(0..<x.shape[0]) { return x }
        return Tensor.concatenate(index.map { x.slice(axis: 0, $0..<($0 + 1)) }, axis: 0)
    }
}
