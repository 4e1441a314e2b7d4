/// The model input for one image: float32, channels-first (CHW), channel order R, G, B — one item of
/// transformers' `pixel_values`. A plain value so `ImagePipeline` does not depend on the `Tensors` API yet.
public struct PixelValues: Sendable, Equatable {
    public let channels: Int
    public let height: Int
    public let width: Int
    /// `channels * height * width` values, index `(c * height + y) * width + x`.
    public var values: [Float]

    public init(channels: Int, height: Int, width: Int, values: [Float]) {
        precondition(values.count == channels * height * width, "PixelValues shape mismatch")
        self.channels = channels
        self.height = height
        self.width = width
        self.values = values
    }
}
