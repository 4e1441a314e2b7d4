import ImagePipeline

/// Why the engine could not serve a request or one of its items. The API maps each case to an HTTP status in one
/// place; `message` is safe to show a client (it never echoes input bytes).
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The endpoint's model is not loaded (404).
    case modelNotLoaded(String)
    /// The request queue is full (429 with this `Retry-After`).
    case overloaded(retryAfterSeconds: Int)
    /// The deadline passed before the work ran (504).
    case deadlineExceeded
    /// The client went away; nobody reads the answer.
    case cancelled
    /// Bad options or inputs (400).
    case invalidRequest(String)
    /// Too many items, or too large (413).
    case tooLarge(String)
    /// The image bytes are not a supported format (415).
    case unsupportedImage(String)
    /// The image could not be decoded (422).
    case invalidImage(String)
    /// The model failed on valid input (500); a bug, never the client's fault.
    case internalError(String)

    public var description: String {
        switch self {
        case .modelNotLoaded(let what): return what
        case .overloaded(let seconds): return "the request queue is full; retry in \(seconds) s"
        case .deadlineExceeded: return "the request's deadline passed before it could be computed"
        case .cancelled: return "the client disconnected"
        case .invalidRequest(let message), .tooLarge(let message), .unsupportedImage(let message),
             .invalidImage(let message), .internalError(let message):
            return message
        }
    }

    /// The engine's reading of an image decoding failure.
    init(_ error: ImageError) {
        switch error {
        case .unsupportedFormat: self = .unsupportedImage(error.description)
        case .tooManyPixels, .dimensionTooLarge: self = .tooLarge(error.description)
        default: self = .invalidImage(error.description)
        }
    }
}
