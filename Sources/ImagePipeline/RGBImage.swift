/// A decoded 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B (what `np.array(pil_rgb_image)` holds).
///
/// The single currency between decoding, orientation and resizing, so each stage can be tested against PIL.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes.
    public var pixels: [UInt8]

    /// - Precondition: `pixels.count == width * height * 3` (an internal contract: decoders size the buffer).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "RGBImage shape mismatch")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
