/// Everything that can go wrong between request bytes and pixel values.
///
/// Every path fed by untrusted bytes ends in one of these cases (never a crash); `description` is a message safe to
/// show a client: it never echoes input bytes.
public enum ImageError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No bytes at all.
    case empty
    /// The signature is neither JPEG nor PNG. `seen` names what was recognised (e.g. "GIF", "text"), never the bytes.
    case unsupportedFormat(seen: String)
    /// The header claims a zero width or height.
    case zeroSize(format: ImageFormat)
    /// The header claims more pixels than allowed (checked before any pixel is decoded).
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The header claims a side longer than allowed.
    case dimensionTooLarge(width: Int, height: Int, limit: Int)
    /// The data ends before the image does.
    case truncated(format: ImageFormat)
    /// The decoder rejected the data; `reason` comes from the decoder library, not from the input.
    case corrupt(format: ImageFormat, reason: String)
    /// The preprocessor configuration cannot be used.
    case invalidConfig(String)

    public var description: String {
        switch self {
        case .empty:
            return "image data is empty"
        case .unsupportedFormat(let seen):
            return "unsupported image format (\(seen)); supported: JPEG, PNG"
        case .zeroSize(let format):
            return "\(format) image has a zero width or height"
        case .tooManyPixels(let width, let height, let limit):
            return "image is \(width)x\(height) pixels, more than the limit of \(limit) pixels"
        case .dimensionTooLarge(let width, let height, let limit):
            return "image is \(width)x\(height) pixels, a side is longer than the limit of \(limit)"
        case .truncated(let format):
            return "\(format) data is truncated"
        case .corrupt(let format, let reason):
            return "\(format) data is corrupt: \(reason)"
        case .invalidConfig(let message):
            return "invalid image processor config: \(message)"
        }
    }
}
