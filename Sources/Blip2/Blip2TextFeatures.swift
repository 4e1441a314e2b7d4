// What the retrieval head computes for a batch of texts. Legend: T texts, L padded length, C Q-Former
// width, D ITC width.

import Tensors

/// The text side of ITC in `Blip2ForImageTextRetrieval`.
public struct Blip2TextFeatures: Sendable {
    /// The Q-Former's text-only output, [T, L, C] (padding rows included, as upstream computes them).
    public let lastHiddenState: Tensor
    /// `normalize(text_projection(lastHiddenState[:, 0]))`, [T, D]: the [CLS] row's unit vector (upstream's
    /// `text_embeds`).
    public let textEmbeds: Tensor

    /// Number of texts T.
    public var count: Int { textEmbeds.shape[0] }
}
