// Named intermediates of a forward pass, so a parity test can say which stage diverges first.

import Tensors

/// Receives the named intermediate tensors of a forward pass (style.md habit 6).
///
/// Components report under relative names ("embeddings", "layer.3", "last_hidden_state"); a parent
/// scopes the trace with its own prefix, so the full names read like the reference script's
/// (`vision.layer.3`, `qformer.query.layer.0`, `itm.layer.1`). Recording costs a retain: tensors are
/// copy-on-write values, so no data is copied. Passing no trace (nil) costs nothing.
public struct Blip2Trace: Sendable {
    /// Prefix added, with a dot, in front of every name recorded through this trace ("" for none).
    public let prefix: String
    private let sink: @Sendable (String, Tensor) -> Void

    /// A trace that hands every (full name, tensor) pair to `sink`, in the order the pass computes them.
    public init(_ sink: @escaping @Sendable (String, Tensor) -> Void) {
        prefix = ""
        self.sink = sink
    }

    private init(prefix: String, sink: @escaping @Sendable (String, Tensor) -> Void) {
        self.prefix = prefix
        self.sink = sink
    }

    /// The same sink with `name` appended to the prefix.
    public func scoped(_ name: String) -> Blip2Trace {
        Blip2Trace(prefix: fullName(name), sink: sink)
    }

    /// Reports `tensor` under `name` (relative to this trace's prefix).
    public func record(_ name: String, _ tensor: Tensor) {
        sink(fullName(name), tensor)
    }

    private func fullName(_ name: String) -> String {
        prefix.isEmpty ? name : prefix + "." + name
    }
}
