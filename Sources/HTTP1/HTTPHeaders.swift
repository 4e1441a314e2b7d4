/// Header (or trailer) fields in the order they were received, with ASCII case-insensitive lookup by name.
///
/// Names and values are kept exactly as received after OWS trimming; values with obs-text bytes that are not
/// UTF-8 hold U+FFFD in their place. Repeated fields stay separate entries: `values(_:)` returns all of them and
/// `combinedValue(_:)` joins list-valued ones with ", " (RFC 9110 §5.3).
public struct HTTPHeaders: Sendable, Equatable, Sequence, CustomStringConvertible {
    public typealias Element = (name: String, value: String)

    private var fields: [Element]

    public init() {
        fields = []
    }

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { (name: $0.0, value: $0.1) }
    }

    /// Reserves room for `capacity` fields, so a typical head is assembled without regrowing.
    public mutating func reserveCapacity(_ capacity: Int) {
        fields.reserveCapacity(capacity)
    }

    /// Number of fields (repeats counted separately).
    public var count: Int { fields.count }

    public var isEmpty: Bool { fields.isEmpty }

    /// Appends a field, keeping any existing ones with the same name.
    public mutating func add(name: String, value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces the first field with this name and removes the others, or appends when there is none.
    public mutating func replaceOrAdd(name: String, value: String) {
        guard let first = fields.firstIndex(where: { ASCII.caseInsensitiveEquals($0.name, name) }) else {
            fields.append((name: name, value: value))
            return
        }
        fields[first] = (name: fields[first].name, value: value)
        var index = fields.index(after: first)
        while index < fields.endIndex {
            if ASCII.caseInsensitiveEquals(fields[index].name, name) {
                fields.remove(at: index)
            } else {
                index += 1
            }
        }
    }

    /// Removes every field with this name.
    public mutating func remove(name: String) {
        fields.removeAll { ASCII.caseInsensitiveEquals($0.name, name) }
    }

    /// The first value of the field with this name (ASCII case-insensitive), or nil.
    public subscript(name: String) -> String? {
        fields.first { ASCII.caseInsensitiveEquals($0.name, name) }?.value
    }

    /// Every value of the fields with this name, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { ASCII.caseInsensitiveEquals($0.name, name) }.map(\.value)
    }

    /// The values of a list-valued field joined with ", ", or nil when absent.
    public func combinedValue(_ name: String) -> String? {
        let all = values(name)
        return all.isEmpty ? nil : all.joined(separator: ", ")
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { ASCII.caseInsensitiveEquals($0.name, name) }
    }

    public func makeIterator() -> IndexingIterator<[Element]> {
        fields.makeIterator()
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    public var description: String {
        "[" + fields.map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
    }
}
