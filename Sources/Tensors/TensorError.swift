/// Errors from tensor operations fed by input (token ids), as opposed to shape contracts between
/// kernels, which are preconditions.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// A row index (e.g. a token id) outside a table of `rows` rows.
    case indexOutOfRange(index: Int, rows: Int)

    public var description: String {
        switch self {
        case let .indexOutOfRange(index, rows):
            return "index \(index) is outside the table's \(rows) rows"
        }
    }
}
