// Errors raised while building a BLIP-2 model from a checkpoint, or running it on request input.

import SafeTensors
import Tensors

/// Why a BLIP-2 model could not be loaded, or why an input was refused.
///
/// Loading fails on the first bad tensor (missing, mis-shaped, unreadable: `weights` names the full key) and,
/// after every component is built, on any checkpoint key no component read (`unexpectedKeys`), so a checkpoint
/// of another architecture or a renamed layout never runs with silently missing parts. Input errors carry a
/// human reason and never come from a trap.
public enum Blip2ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `config.json` is unreadable or invalid.
    case config(Blip2ConfigError)
    /// A tensor is missing, has the wrong shape, or a file is malformed (the error names the key or file).
    case weights(SafeTensorsError)
    /// The checkpoint holds tensors the model does not use (sorted full keys).
    case unexpectedKeys([String])
    /// The checkpoint's head is not the one asked for (e.g. a captioning checkpoint loaded for retrieval).
    case wrongArchitecture(found: Blip2Architecture, expected: Blip2Architecture)
    /// The checkpoint lacks a part this call needs (e.g. text input on a Q-Former without a text face).
    case unsupported(String)
    /// A request input has the wrong shape or values (pixel size, token ids, masks, pair indices).
    case invalidInput(String)

    /// Keys listed in an `unexpectedKeys` message before it is cut short.
    static let maxKeysInMessage = 8

    public var description: String {
        switch self {
        case let .config(error): return error.description
        case let .weights(error): return error.description
        case let .unexpectedKeys(keys):
            let shown = keys.prefix(Self.maxKeysInMessage).map { "'\($0)'" }.joined(separator: ", ")
            let more = keys.count > Self.maxKeysInMessage ? " and \(keys.count - Self.maxKeysInMessage) more" : ""
            return "checkpoint has \(keys.count) tensor(s) the model does not use: \(shown)\(more)"
        case let .wrongArchitecture(found, expected):
            return "checkpoint is a \(found.rawValue), expected \(expected.rawValue)"
        case let .unsupported(reason): return "unsupported: \(reason)"
        case let .invalidInput(reason): return "invalid input: \(reason)"
        }
    }
}

/// Loading helpers that turn the lower layers' typed errors into `Blip2ModelError`.
extension Blip2ModelError {
    /// Runs a weight lookup, wrapping `SafeTensorsError`.
    static func loading<T>(_ body: () throws(SafeTensorsError) -> T) throws(Blip2ModelError) -> T {
        do { return try body() } catch { throw .weights(error) }
    }
}
