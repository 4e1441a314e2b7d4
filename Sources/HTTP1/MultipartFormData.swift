// multipart/form-data (RFC 7578) over the multipart syntax of RFC 2046 §5.1.1:
//   preamble, then "--boundary" [padding] CRLF part ( CRLF "--boundary" [padding] CRLF part )*
//   CRLF "--boundary--" epilogue; each part is header fields, CRLF, content.
// Line framing is strict CRLF (bare LF is a 400, as in the request parser); preamble and epilogue are ignored.

/// Limits on a multipart body, beyond the request body cap that bounds it as a whole.
public struct MultipartLimits: Sendable, Equatable {
    /// Most parts: our forms have a handful of fields; 64 leaves room while bounding per-part work. -> 413.
    public var maxParts: Int
    /// Largest header section of one part, CRLFs included: a Content-Disposition with a long filename plus a
    /// Content-Type fits easily in 8 KiB. -> 400.
    public var maxPartHeaderBytes: Int
    /// Most header fields in one part: real clients send two or three. -> 400.
    public var maxPartHeaderCount: Int

    public static let defaultMaxParts = 64
    public static let defaultMaxPartHeaderBytes = 8 * 1024
    public static let defaultMaxPartHeaderCount = 16

    public init(
        maxParts: Int = MultipartLimits.defaultMaxParts,
        maxPartHeaderBytes: Int = MultipartLimits.defaultMaxPartHeaderBytes,
        maxPartHeaderCount: Int = MultipartLimits.defaultMaxPartHeaderCount
    ) {
        self.maxParts = maxParts
        self.maxPartHeaderBytes = maxPartHeaderBytes
        self.maxPartHeaderCount = maxPartHeaderCount
    }
}

/// One field of a form: its name, optional filename and content type, all its header fields, and its content.
public struct MultipartPart: Sendable, Equatable {
    /// The `name` parameter of Content-Disposition.
    public var name: String
    /// The `filename` parameter, as sent (never use it as a path).
    public var filename: String?
    /// The part's Content-Type value as sent, or nil (RFC 7578 §4.4 says text/plain then).
    public var contentType: String?
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(name: String, filename: String?, contentType: String?, headers: HTTPHeaders, body: [UInt8]) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }
}

/// Parses a complete multipart/form-data body into its parts.
public enum MultipartFormData {
    /// RFC 2046 §5.1.1: a boundary is 1 to 70 characters.
    public static let maxBoundaryLength = 70

    /// True when `boundary` is 1-70 `bchars` (digits, letters, `'()+_,-./:=?` and space) not ending in space.
    public static func isValidBoundary(_ boundary: String) -> Bool {
        let bytes = Array(boundary.utf8)
        guard (1...maxBoundaryLength).contains(bytes.count), bytes.last != ASCII.space else { return false }
        return bytes.allSatisfy { byte in
            ASCII.isAlpha(byte) || ASCII.isDigit(byte) || Array("'()+_,-./:=? ".utf8).contains(byte)
        }
    }

    /// The parts of `body`, delimited by `boundary` (the Content-Type parameter, without the leading dashes).
    ///
    /// Fails with 400 for an invalid boundary, a body without the opening or closing delimiter, anything but CRLF
    /// after a delimiter, a malformed part header, or a part without `Content-Disposition: form-data; name=...`;
    /// with 413 when there are more than `limits.maxParts` parts.
    public static func parse(
        body: [UInt8], boundary: String, limits: MultipartLimits = MultipartLimits()
    ) throws(HTTPParseError) -> [MultipartPart] {
        guard isValidBoundary(boundary) else {
            throw HTTPParseError(status: 400, code: "bad_multipart_boundary", message: "invalid multipart boundary")
        }
        let delimiter = Array("--\(boundary)".utf8)
        let result = body.withUnsafeBytes { raw in
            parseParts(raw, delimiter: delimiter, limits: limits)
        }
        return try result.get()
    }

    private static func parseParts(
        _ raw: UnsafeRawBufferPointer, delimiter: [UInt8], limits: MultipartLimits
    ) -> Result<[MultipartPart], HTTPParseError> {
        var position: Int
        if hasPrefix(raw, at: 0, delimiter) {
            position = delimiter.count
        } else if let found = findDelimiter(raw, delimiter, from: 0) {
            position = found + 2 + delimiter.count
        } else {
            return .failure(malformed("multipart body has no opening boundary"))
        }
        var parts: [MultipartPart] = []
        while true {
            if hasPrefix(raw, at: position, [ASCII.dash, ASCII.dash]) {
                guard !parts.isEmpty else { return .failure(malformed("multipart body has no parts")) }
                return .success(parts)  // close delimiter; the epilogue is ignored
            }
            while position < raw.count, ASCII.isWhitespace(raw[position]) { position += 1 }  // transport padding
            guard hasPrefix(raw, at: position, ASCII.crlf) else {
                return .failure(malformed("multipart boundary is not followed by CRLF"))
            }
            position += 2
            guard let end = findDelimiter(raw, delimiter, from: position) else {
                return .failure(malformed("multipart body has no closing boundary"))
            }
            guard parts.count < limits.maxParts else {
                return .failure(HTTPParseError(
                    status: 413, code: "too_many_parts", message: "multipart body has too many parts"))
            }
            switch parsePart(UnsafeRawBufferPointer(rebasing: raw[position..<end]), limits: limits) {
            case .success(let part): parts.append(part)
            case .failure(let error): return .failure(error)
            }
            position = end + 2 + delimiter.count
        }
    }

    /// One part: header lines up to an empty line, then content.
    private static func parsePart(
        _ raw: UnsafeRawBufferPointer, limits: MultipartLimits
    ) -> Result<MultipartPart, HTTPParseError> {
        var headers = HTTPHeaders()
        var name: String?
        var filename: String?
        var contentType: String?
        var lineStart = 0
        while true {
            guard let lf = raw[lineStart...].firstIndex(of: ASCII.lf) else {
                return .failure(malformed("multipart part header is not terminated"))
            }
            guard lf + 1 <= limits.maxPartHeaderBytes else {
                return .failure(HTTPParseError(
                    status: 400, code: "multipart_header_too_large", message: "multipart part header is too large"))
            }
            guard lf > lineStart, raw[lf - 1] == ASCII.cr else {
                return .failure(malformed("bare LF in a multipart part header"))
            }
            let line = UnsafeRawBufferPointer(rebasing: raw[lineStart..<(lf - 1)])
            lineStart = lf + 1
            if line.isEmpty { break }
            guard headers.count < limits.maxPartHeaderCount else {
                return .failure(HTTPParseError(
                    status: 400, code: "multipart_header_too_large", message: "multipart part has too many headers"))
            }
            guard !line.contains(ASCII.cr), case .success(let field) = HTTPRequestParser.splitField(line) else {
                return .failure(malformed("malformed multipart part header"))
            }
            if ASCII.equalsLowercase(field.name, "content-disposition") {
                guard name == nil, let disposition = formDataName(field.value) else {
                    return .failure(malformed("invalid Content-Disposition in a multipart part"))
                }
                (name, filename) = disposition
            } else if ASCII.equalsLowercase(field.name, "content-type") {
                guard contentType == nil else { return .failure(malformed("repeated Content-Type in a part")) }
                contentType = ASCII.string(field.value)
            }
            headers.add(name: ASCII.string(field.name), value: ASCII.string(field.value))
        }
        guard let name else {
            return .failure(malformed("multipart part without Content-Disposition: form-data; name"))
        }
        return .success(MultipartPart(
            name: name, filename: filename, contentType: contentType, headers: headers,
            body: Array(UnsafeRawBufferPointer(rebasing: raw[lineStart...]))))
    }

    /// (name, filename) of `form-data; name="..."[; filename="..."]`, or nil.
    private static func formDataName(_ value: UnsafeRawBufferPointer) -> (String, String?)? {
        var index = 0
        while index < value.count, ASCII.isTokenChar(value[index]) { index += 1 }
        guard ASCII.equalsLowercase(UnsafeRawBufferPointer(rebasing: value[..<index]), "form-data"),
              let parameters = ParameterList.parse(value, from: index),
              let name = parameters.first(where: { $0.0 == "name" })?.1
        else { return nil }
        return (name, parameters.first { $0.0 == "filename" }?.1)
    }

    /// Index of the CR of the next `CRLF--boundary` at or after `start`.
    private static func findDelimiter(_ raw: UnsafeRawBufferPointer, _ delimiter: [UInt8], from start: Int) -> Int? {
        var index = start
        let last = raw.count - delimiter.count - 2
        while index <= last {
            if raw[index] == ASCII.cr, raw[index + 1] == ASCII.lf, hasPrefix(raw, at: index + 2, delimiter) {
                return index
            }
            index += 1
        }
        return nil
    }

    private static func hasPrefix(_ raw: UnsafeRawBufferPointer, at start: Int, _ prefix: [UInt8]) -> Bool {
        guard start >= 0, raw.count - start >= prefix.count else { return false }
        for offset in 0..<prefix.count where raw[start + offset] != prefix[offset] {
            return false
        }
        return true
    }

    private static func malformed(_ message: String) -> HTTPParseError {
        HTTPParseError(status: 400, code: "bad_multipart", message: message)
    }
}
