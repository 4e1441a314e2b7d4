// Media types and parameterised header values (RFC 9110 §8.3.1, §5.6.6):
//   media-type = type "/" subtype parameters
//   parameters = *( OWS ";" OWS [ parameter ] ), parameter = name "=" ( token / quoted-string )

/// A parsed `Content-Type` value: type and subtype lowercased, parameter names lowercased, values unquoted.
public struct HTTPMediaType: Sendable, Equatable {
    public var type: String
    public var subtype: String
    /// Parameters in order; names lowercased, values as sent (quoted-strings unescaped).
    public var parameters: [(String, String)]

    public init(type: String, subtype: String, parameters: [(String, String)] = []) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    /// The value of a parameter (name compared case-insensitively), or nil.
    public func parameter(_ name: String) -> String? {
        parameters.first { ASCII.caseInsensitiveEquals($0.0, name) }?.1
    }

    /// Parses a Content-Type value such as `multipart/form-data; boundary="x"`; nil when malformed or when a
    /// parameter repeats (ambiguous, so rejected).
    public static func parse(_ value: String) -> HTTPMediaType? {
        let bytes = Array(value.utf8)
        return bytes.withUnsafeBytes { raw -> HTTPMediaType? in
            var index = 0
            func token() -> String? {
                let start = index
                while index < raw.count, ASCII.isTokenChar(raw[index]) { index += 1 }
                return index > start ? ASCII.string(UnsafeRawBufferPointer(rebasing: raw[start..<index])) : nil
            }
            while index < raw.count, ASCII.isWhitespace(raw[index]) { index += 1 }
            guard let type = token(), index < raw.count, raw[index] == ASCII.slash else { return nil }
            index += 1
            guard let subtype = token() else { return nil }
            guard let parameters = ParameterList.parse(raw, from: index) else { return nil }
            return HTTPMediaType(type: type.asciiLowercased, subtype: subtype.asciiLowercased, parameters: parameters)
        }
    }

    public static func == (lhs: HTTPMediaType, rhs: HTTPMediaType) -> Bool {
        lhs.type == rhs.type && lhs.subtype == rhs.subtype
            && lhs.parameters.elementsEqual(rhs.parameters) { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

/// `*( OWS ";" OWS [ name "=" value ] )`, shared by media types and Content-Disposition.
enum ParameterList {
    /// Parameters from `start` to the end of `raw`: names lowercased, values unquoted; nil when malformed or when
    /// a name repeats.
    static func parse(_ raw: UnsafeRawBufferPointer, from start: Int) -> [(String, String)]? {
        var parameters: [(String, String)] = []
        var index = start
        func skipWhitespace() {
            while index < raw.count, ASCII.isWhitespace(raw[index]) { index += 1 }
        }
        func token() -> UnsafeRawBufferPointer? {
            let begin = index
            while index < raw.count, ASCII.isTokenChar(raw[index]) { index += 1 }
            return index > begin ? UnsafeRawBufferPointer(rebasing: raw[begin..<index]) : nil
        }
        while true {
            skipWhitespace()
            guard index < raw.count else { return parameters }
            guard raw[index] == ASCII.semicolon else { return nil }
            index += 1
            skipWhitespace()
            // An empty parameter (`a/b;` or `;;`) is allowed by the grammar.
            guard index < raw.count, raw[index] != ASCII.semicolon else { continue }
            guard let name = token(), index < raw.count, raw[index] == ASCII.equals else { return nil }
            index += 1
            let value: String
            if index < raw.count, raw[index] == ASCII.quote {
                guard let end = QuotedString.end(of: raw, openingAt: index) else { return nil }
                let quoted = UnsafeRawBufferPointer(rebasing: raw[index..<end])
                value = String(decoding: QuotedString.unescape(quoted), as: UTF8.self)
                index = end
            } else {
                guard let plain = token() else { return nil }
                value = ASCII.string(plain)
            }
            let lowered = ASCII.string(name).asciiLowercased
            guard !parameters.contains(where: { $0.0 == lowered }) else { return nil }
            parameters.append((lowered, value))
        }
    }
}
