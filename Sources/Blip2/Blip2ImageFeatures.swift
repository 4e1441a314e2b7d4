// What the retrieval head computes for a batch of images. Legend: B images, P image tokens, Cv vision
// width, Q query tokens, C Q-Former width, D ITC width (`image_text_hidden_size`).

import Tensors

/// The image side of `Blip2ForImageTextRetrieval`: everything ITC needs, and the vision tokens ITM reads.
public struct Blip2ImageFeatures: Sendable {
    /// The vision tower's output ([B, P, Cv] tokens and [B, Cv] pooled).
    public let vision: Blip2VisionModelOutput
    /// The Q-Former's query output with the image, [B, Q, C].
    public let queryOutput: Tensor
    /// `normalize(vision_projection(queryOutput))`, [B, Q, D]: one unit vector per query token (upstream's
    /// `image_embeds`).
    public let imageEmbeds: Tensor

    /// Number of images B.
    public var count: Int { queryOutput.shape[0] }
}
