// The activation names that appear in BLIP-2 configs (transformers `ACT2FN` keys).

/// A nonlinearity named by `hidden_act` / `activation_function` / `dense_act_fn`.
///
/// Only the variants BLIP-2 checkpoints use are accepted, so an unsupported activation fails when the
/// config is read rather than producing wrong numbers later. Raw values are the upstream `ACT2FN` keys.
public enum ActivationFunction: String, Codable, Sendable, CaseIterable {
    /// Exact GELU, `x·Φ(x)` with erf: the ViT, the Q-Former and (overridden in BLIP-2) the Flan-T5 FFN.
    case gelu
    /// The tanh approximation of GELU (upstream `NewGELUActivation`): stock Flan-T5's gated FFN.
    case geluNew = "gelu_new"
    /// `max(0, x)`: OPT, and T5 v1.0.
    case relu

    /// Decodes a field holding an activation name, naming the field when the name is unknown.
    static func decode(
        _ container: KeyedDecodingContainer<ConfigKey>, _ name: String, default defaultValue: ActivationFunction
    ) throws -> ActivationFunction {
        let raw: String = try container.value(name, default: defaultValue.rawValue)
        return try parse(raw, field: container.fieldPath(name))
    }

    static func parse(_ raw: String, field: String) throws(Blip2ConfigError) -> ActivationFunction {
        guard let value = ActivationFunction(rawValue: raw) else {
            throw .invalidValue(
                field: field,
                reason: "activation \"\(raw)\" is not supported (supported: "
                    + allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        return value
    }
}
