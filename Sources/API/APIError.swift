import HTTP1
import HTTPServer
import Inference

/// A request the API refuses, with its status and stable code: the one place where engine errors become HTTP.
struct APIError: Error, Equatable, Sendable {
    var status: Int
    var code: String
    var message: String
    var retryAfter: Int?

    init(status: Int, code: String, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    static func badField(_ field: String, _ problem: String) -> APIError {
        APIError(status: 400, code: "invalid_field", message: "\(field) \(problem)")
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(status: 400, code: "invalid_request", message: message)
    }

    /// The status and code of each engine error.
    init(_ error: EngineError) {
        switch error {
        case .modelNotLoaded: self.init(status: 404, code: "model_not_loaded", message: error.description)
        case .overloaded(let seconds):
            self.init(status: 429, code: "overloaded", message: error.description, retryAfter: seconds)
        case .deadlineExceeded: self.init(status: 504, code: "deadline_exceeded", message: error.description)
        // Nobody reads it: the client is gone. 503 keeps the access log honest about an unserved request.
        case .cancelled: self.init(status: 503, code: "cancelled", message: error.description)
        case .invalidRequest: self.init(status: 400, code: "invalid_request", message: error.description)
        case .tooLarge: self.init(status: 413, code: "too_large", message: error.description)
        case .unsupportedImage: self.init(status: 415, code: "unsupported_image", message: error.description)
        case .invalidImage: self.init(status: 422, code: "invalid_image", message: error.description)
        case .internalError: self.init(status: 500, code: "internal_error", message: error.description)
        }
    }

    var serverError: HTTPServerError {
        var headers = HTTPHeaders()
        if let retryAfter { headers.add(name: "Retry-After", value: String(retryAfter)) }
        return HTTPServerError(status: status, code: code, message: message, headers: headers)
    }

    /// The per-item form inside a 200 response: `{"code", "message"}`.
    var itemJSON: JSON {
        .object([("code", .string(code)), ("message", .string(message))])
    }
}
