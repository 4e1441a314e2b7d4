// What the ITM head computes for image–text pairs. Legend: N pairs, Q query tokens.

import Tensors

/// Image–text matching scores for N pairs.
public struct Blip2MatchOutput: Sendable {
    /// `itm_head` on every query row of the joint pass, [N, Q, 2].
    public let queryLogits: Tensor
    /// Mean of `queryLogits` over the query rows, [N, 2] (upstream's ITM `logits_per_image`); class 1 = match.
    public let logits: Tensor
    /// `softmax(logits)[:, 1]` per pair: the probability that the text describes the image.
    public let probabilityMatch: [Float]
}
