// The safetensors container format (https://github.com/huggingface/safetensors, "Format"):
//   [8 bytes: header length N, u64 little-endian][N bytes: JSON header][data section]
// The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end)} (offsets
// relative to the data section), plus an optional "__metadata__" object of string → string.
// This file validates all of it without I/O; `SafeTensorsFile` only maps the bytes.

/// A validated safetensors header: every tensor's dtype, shape and byte range, checked to be in
/// bounds, consistent with shape × dtype, non-overlapping and covering the whole data section.
public struct SafeTensorsHeader: Sendable, Equatable {
    /// Largest header accepted: real headers are a few hundred KB even for thousands of tensors,
    /// and the reference implementation uses the same 100 MB cap against memory blow-ups.
    public static let maxHeaderBytes = 100_000_000
    /// Most dimensions a tensor may have: no layer needs more than 5, and a cap keeps a hostile
    /// shape list from being multiplied out at length.
    public static let maxRank = 16
    /// Bytes of the length prefix.
    public static let prefixBytes = 8
    /// The reserved header key holding free-form string metadata.
    public static let metadataKey = "__metadata__"

    /// One tensor's description in the header.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: SafeTensorsDType
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let byteRange: Range<Int>
    }

    /// Tensors by name.
    public let entries: [String: Entry]
    /// Tensor names in header order.
    public let names: [String]
    /// The `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// Header length N from the prefix; the data section starts at `8 + N`.
    public let headerLength: Int

    /// Byte offset of the data section in the file.
    public var dataStart: Int { Self.prefixBytes + headerLength }

    /// Parses and validates the header of a whole file held in `file` (e.g. a mapping).
    /// `path` only labels errors.
    public static func parse(file: UnsafeRawBufferPointer, path: String) throws(SafeTensorsError) -> SafeTensorsHeader {
        guard file.count >= prefixBytes else { throw .fileTooSmall(path: path, size: file.count) }
        var declared: UInt64 = 0
        for i in 0..<prefixBytes { declared |= UInt64(file[i]) << (8 * UInt64(i)) }
        guard declared <= UInt64(maxHeaderBytes), Int(declared) <= file.count - prefixBytes else {
            throw .headerLengthInvalid(path: path, declared: declared, fileSize: file.count)
        }
        let n = Int(declared)
        let json = UnsafeRawBufferPointer(rebasing: file[prefixBytes..<(prefixBytes + n)])
        return try parse(json: json, headerLength: n, dataSize: file.count - prefixBytes - n, path: path)
    }

    /// Parses and validates a JSON header whose data section has `dataSize` bytes.
    static func parse(
        json: UnsafeRawBufferPointer, headerLength: Int, dataSize: Int, path: String
    ) throws(SafeTensorsError) -> SafeTensorsHeader {
        let root: JSONValue
        do {
            root = try JSONValue.parse(json)
        } catch {
            throw .invalidHeader(path: path, reason: "\(error.reason) at byte \(error.offset)")
        }
        guard case let .object(members) = root else {
            throw .invalidHeader(path: path, reason: "the header is \(root.kindName), not an object")
        }
        var entries: [String: Entry] = [:]
        var names: [String] = []
        var metadata: [String: String] = [:]
        var sawMetadata = false
        for member in members {
            let (key, value) = (member.key, member.value)
            if key == metadataKey {
                guard !sawMetadata else { throw .duplicateKey(path: path, key: key) }
                sawMetadata = true
                metadata = try parseMetadata(value, path: path)
                continue
            }
            guard entries[key] == nil else { throw .duplicateKey(path: path, key: key) }
            entries[key] = try parseEntry(name: key, value, dataSize: dataSize, path: path)
            names.append(key)
        }
        try checkLayout(entries.values, dataSize: dataSize, path: path)
        return SafeTensorsHeader(entries: entries, names: names, metadata: metadata, headerLength: headerLength)
    }

    static func parseMetadata(_ value: JSONValue, path: String) throws(SafeTensorsError) -> [String: String] {
        guard case let .object(members) = value else {
            throw .invalidHeader(path: path, reason: "\(metadataKey) is \(value.kindName), not an object")
        }
        var out: [String: String] = [:]
        for member in members {
            let (k, v) = (member.key, member.value)
            guard case let .string(s) = v else {
                throw .invalidHeader(path: path, reason: "\(metadataKey)['\(k)'] is \(v.kindName), not a string")
            }
            guard out[k] == nil else { throw .duplicateKey(path: path, key: "\(metadataKey).\(k)") }
            out[k] = s
        }
        return out
    }

    static func parseEntry(
        name: String, _ value: JSONValue, dataSize: Int, path: String
    ) throws(SafeTensorsError) -> Entry {
        guard case let .object(fields) = value else {
            throw .invalidHeader(path: path, reason: "tensor '\(name)' is \(value.kindName), not an object")
        }
        func field(_ f: String) throws(SafeTensorsError) -> JSONValue {
            let matches = fields.filter { $0.key == f }
            guard matches.count == 1, let match = matches.first else {
                throw .invalidHeader(path: path, reason: "tensor '\(name)' needs exactly one '\(f)' field")
            }
            return match.value
        }
        guard case let .string(dtypeName) = try field("dtype") else {
            throw .invalidHeader(path: path, reason: "tensor '\(name)': dtype is not a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw .unknownDType(path: path, key: name, dtype: dtypeName)
        }
        guard case let .array(dims) = try field("shape"), dims.count <= maxRank else {
            throw .invalidHeader(path: path,
                                 reason: "tensor '\(name)': shape is not an array of at most \(maxRank) dims")
        }
        var shape: [Int] = []
        var count = 1
        for d in dims {
            guard let n = d.nonNegativeInt else {
                throw .invalidHeader(path: path,
                                     reason: "tensor '\(name)': shape entries must be non-negative integers")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else {
                throw .invalidOffsets(path: path, key: name, reason: "shape \(dims.count)-D overflows")
            }
            count = product
            shape.append(n)
        }
        guard case let .array(offsets) = try field("data_offsets"), offsets.count == 2,
              let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt else {
            throw .invalidOffsets(path: path, key: name, reason: "data_offsets must be two non-negative integers")
        }
        guard begin <= end else {
            throw .invalidOffsets(path: path, key: name, reason: "data_offsets end \(end) is before begin \(begin)")
        }
        guard end <= dataSize else {
            throw .invalidOffsets(path: path, key: name,
                                  reason: "data_offsets [\(begin), \(end)) exceed the \(dataSize)-byte data section")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == end - begin else {
            let needed = overflow ? "too many" : "\(bytes)"
            throw .invalidOffsets(path: path, key: name,
                                  reason: "shape \(shape) of \(dtype.rawValue) needs \(needed) bytes " +
                                      "but data_offsets span \(end - begin)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// Tensors must tile the data section exactly: no overlap, no gap, nothing left over.
    static func checkLayout(
        _ entries: Dictionary<String, Entry>.Values, dataSize: Int, path: String
    ) throws(SafeTensorsError) {
        let sorted = entries.sorted {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) <
                ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        var covered = 0
        var previous: String?
        for e in sorted {
            if e.byteRange.lowerBound < covered, let previous {
                throw .overlappingTensors(path: path, first: previous, second: e.name)
            }
            if e.byteRange.lowerBound > covered {
                throw .uncoveredData(path: path, from: covered, to: e.byteRange.lowerBound)
            }
            covered = e.byteRange.upperBound
            previous = e.name
        }
        if covered != dataSize { throw .uncoveredData(path: path, from: covered, to: dataSize) }
    }
}
