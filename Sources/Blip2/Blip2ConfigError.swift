// Errors raised while reading and validating `config.json` / `generation_config.json`.

/// Why a BLIP-2 configuration file was rejected.
///
/// Every case names the offending field by its JSON path (e.g. `vision_config.num_attention_heads`), so a
/// user pointing the server at a broken or unsupported checkpoint learns which line of which file to look at.
public enum Blip2ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read at all.
    case unreadable(path: String, reason: String)
    /// The bytes are not a JSON document of the expected overall shape.
    case invalidJSON(reason: String)
    /// A field the model cannot be built without is absent.
    case missingField(String)
    /// A field is present with the wrong JSON type (e.g. a string where a number belongs, or null).
    case wrongType(field: String, expected: String)
    /// A field has the right type but a value the model cannot use.
    case invalidValue(field: String, reason: String)
    /// A `model_type` this port does not implement (or that does not belong at that place).
    case unknownModelType(field: String, value: String, expected: [String])
    /// `architectures[0]` is not a BLIP-2 head this port knows.
    case unknownArchitecture(String, expected: [String])

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read config file \(path): \(reason)"
        case let .invalidJSON(reason):
            return "config is not valid JSON: \(reason)"
        case let .missingField(field):
            return "config field \(field) is required but missing"
        case let .wrongType(field, expected):
            return "config field \(field) has the wrong type: expected \(expected)"
        case let .invalidValue(field, reason):
            return "config field \(field) is invalid: \(reason)"
        case let .unknownModelType(field, value, expected):
            return "config field \(field) is \"\(value)\", which is not supported "
                + "(expected one of: \(expected.joined(separator: ", ")))"
        case let .unknownArchitecture(value, expected):
            return "config field architectures[0] is \"\(value)\", which is not a supported BLIP-2 head "
                + "(expected one of: \(expected.joined(separator: ", ")))"
        }
    }

    /// The JSON path of the field this error is about, when there is one.
    public var field: String? {
        switch self {
        case .unreadable, .invalidJSON: return nil
        case let .missingField(field): return field
        case let .wrongType(field, _), let .invalidValue(field, _), let .unknownModelType(field, _, _):
            return field
        case .unknownArchitecture: return "architectures[0]"
        }
    }
}
