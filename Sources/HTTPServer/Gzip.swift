import CZlib

/// gzip response compression through zlib, and the `Accept-Encoding` negotiation that decides when to use it.
public enum Gzip {
    /// Compresses `input` into a gzip member (RFC 1952); nil if zlib fails (the caller then sends identity).
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8]? {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper; memLevel 8 is zlib's default.
        let initStatus = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Decompresses a gzip member (tests and clients of the server's own output); nil on corrupt input or when the
    /// output would exceed `maxOutput`.
    public static func decompress(_ input: [UInt8], maxOutput: Int = 64 << 20) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return nil
        }
        defer { inflateEnd(&stream) }
        var input = input
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return input.withUnsafeMutableBufferPointer { inBuffer -> [UInt8]? in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { outBuffer -> (Int32, Int) in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, outBuffer.count - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > maxOutput { return nil }
                if status == Z_STREAM_END { return output }
                if status != Z_OK || (produced == 0 && stream.avail_in == 0) { return nil }
            }
        }
    }

    /// Whether an `Accept-Encoding` value admits gzip: `gzip` (or `x-gzip`, or `*`) with a non-zero q-value,
    /// and gzip not refused explicitly (RFC 9110 §12.5.3).
    public static func accepts(_ acceptEncoding: String) -> Bool {
        var gzipQ: Double?
        var starQ: Double?
        for item in acceptEncoding.split(separator: ",") {
            let parts = item.split(separator: ";").map { trimOWS($0).lowercased() }
            guard let coding = parts.first, !coding.isEmpty else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            if coding == "gzip" || coding == "x-gzip" { gzipQ = q } else if coding == "*" { starQ = q }
        }
        if let gzipQ { return gzipQ > 0 }
        return (starQ ?? 0) > 0
    }

    /// Media types worth compressing: text, JSON, JavaScript, SVG, XML.
    public static func isCompressible(contentType: String) -> Bool {
        let type = contentType.lowercased()
        return type.hasPrefix("text/") || type.contains("json") || type.contains("javascript")
            || type.contains("xml") || type.hasPrefix("image/svg")
    }
}

/// Strips optional whitespace (SP / HTAB) from both ends of a header list item.
func trimOWS(_ text: Substring) -> Substring {
    var text = text
    while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
    while let last = text.last, last == " " || last == "\t" { text.removeLast() }
    return text
}
