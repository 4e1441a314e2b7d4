// Incremental HTTP/1.1 request parser (RFC 9112), in the spirit of picohttpparser and llhttp's strict mode:
// bytes in, events out, no I/O. Every byte is examined once: a partial line is carried in `line` and scanning
// resumes where the last feed stopped, so feeding one byte at a time stays O(n). Limits are checked at the byte
// that crosses them, which also makes the result independent of how the input is split.
//
// Strictness (http-reference §1): anything ambiguous fails with a terminal `.error`; nothing is "repaired".
// Bare CR and bare LF are invalid everywhere, obs-fold is rejected, TE with CL is rejected.

/// Turns request bytes into `HTTPParserEvent`s: `.head`, zero or more `.body`, `.end`, then the next request.
///
/// Feed it whatever the socket delivers; it consumes everything and returns the events those bytes complete.
/// After an `.error` the parser stays failed: the server answers that error and closes (no resync, K1).
/// The parser keeps parsing pipelined requests after a `keepAlive == false` message; the server decides to stop.
public struct HTTPRequestParser: Sendable {
    enum State: Sendable, Equatable {
        case requestLine
        case headerLine
        case contentBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataCR
        case chunkDataLF
        case trailerLine
        case failed
    }

    public let limits: HTTPLimits
    var state: State = .requestLine
    /// Bytes of an unfinished line carried between feeds (CR included, LF never).
    var line: [UInt8] = []
    /// While reading a request line: still inside the method token (checked byte by byte so binary garbage and
    /// over-long methods fail at once instead of filling the line buffer).
    var scanningMethod = true
    var leadingEmptyLines = 0
    /// Header-section bytes so far (field lines with CRLF; trailers add to it).
    var headerBytes = 0
    var headerCount = 0
    var pending: PendingHead?
    var trailers = HTTPHeaders()
    /// Decoded chunked body bytes announced so far in this message.
    var chunkedBodyBytes = 0
    var chunkExtensionBytes = 0

    /// `limits` come from configuration: negative values are treated as 0 so no limit arithmetic can overflow.
    public init(limits: HTTPLimits = HTTPLimits()) {
        var clamped = limits
        clamped.maxRequestLineBytes = max(0, limits.maxRequestLineBytes)
        clamped.maxHeaderLineBytes = max(0, limits.maxHeaderLineBytes)
        clamped.maxHeaderBytes = max(0, limits.maxHeaderBytes)
        clamped.maxHeaderCount = max(0, limits.maxHeaderCount)
        clamped.maxBodyBytes = max(0, limits.maxBodyBytes)
        clamped.maxChunkLineBytes = max(0, limits.maxChunkLineBytes)
        clamped.maxChunkExtensionBytes = max(0, limits.maxChunkExtensionBytes)
        clamped.maxLeadingEmptyLines = max(0, limits.maxLeadingEmptyLines)
        self.limits = clamped
        line.reserveCapacity(Self.initialLineCapacity)
    }

    /// Room reserved for a carried partial line: typical request and header lines fit without regrowth.
    static let initialLineCapacity = 256

    /// True between messages with no byte of the next one buffered: a connection in this state is idle and may be
    /// closed silently (http-reference F6). False once failed.
    public var isIdle: Bool {
        state == .requestLine && line.isEmpty && leadingEmptyLines == 0
    }

    /// True once an `.error` has been produced.
    public var hasFailed: Bool { state == .failed }

    /// Feeds bytes; returns every event they complete, in order. Consumes all bytes given.
    public mutating func feed(_ bytes: [UInt8]) -> [HTTPParserEvent] {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Feeds bytes; returns every event they complete, in order. Consumes all bytes given (the caller bounds each
    /// feed). After `.error` nothing more is produced.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [HTTPParserEvent] {
        var events: [HTTPParserEvent] = []
        var index = 0
        let count = bytes.count
        while index < count {
            switch state {
            case .failed:
                return events
            case .requestLine, .headerLine, .chunkSizeLine, .trailerLine:
                index = scanLine(bytes, from: index, events: &events)
            case .contentBody(let remaining):
                let take = min(remaining, count - index)
                events.append(.body(Self.copy(bytes, index..<index + take)))
                index += take
                if take == remaining {
                    events.append(.end(trailers: HTTPHeaders()))
                    resetForNextMessage()
                } else {
                    state = .contentBody(remaining: remaining - take)
                }
            case .chunkData(let remaining):
                let take = min(remaining, count - index)
                events.append(.body(Self.copy(bytes, index..<index + take)))
                index += take
                state = take == remaining ? .chunkDataCR : .chunkData(remaining: remaining - take)
            case .chunkDataCR:
                guard bytes[index] == ASCII.cr else {
                    fail(.badChunk("chunk data is not followed by CRLF"), &events)
                    return events
                }
                index += 1
                state = .chunkDataLF
            case .chunkDataLF:
                guard bytes[index] == ASCII.lf else {
                    fail(.badChunk("chunk data is not followed by CRLF"), &events)
                    return events
                }
                index += 1
                state = .chunkSizeLine
            }
        }
        return events
    }

    // MARK: lines

    /// Which limit bounds the current line (the error is built only when it is crossed).
    enum LineLimit {
        case requestLine, headerLine, headerSection, chunkLine

        var error: HTTPParseError {
            switch self {
            case .requestLine: return .requestLineTooLong
            case .headerLine: return .headerLineTooLarge
            case .headerSection: return .headerSectionTooLarge
            case .chunkLine: return .badChunk("chunk-size line is too long")
            }
        }
    }

    /// The most bytes (content plus CR) the current line may hold, and which limit that is.
    private func lineCap() -> (cap: Int, limit: LineLimit) {
        switch state {
        case .requestLine:
            return (Self.plusOne(limits.maxRequestLineBytes), .requestLine)
        case .chunkSizeLine:
            return (Self.plusOne(limits.maxChunkLineBytes), .chunkLine)
        default:
            // A byte at position p of a field line means at least p + 2 section bytes once CRLF arrives.
            let sectionCap = limits.maxHeaderBytes - headerBytes - 1
            let lineCap = Self.plusOne(limits.maxHeaderLineBytes)
            return sectionCap < lineCap ? (sectionCap, .headerSection) : (lineCap, .headerLine)
        }
    }

    /// Consumes bytes of the current line from `start`; handles the line when its LF arrives. Returns the index of
    /// the first unconsumed byte.
    private mutating func scanLine(
        _ bytes: UnsafeRawBufferPointer, from start: Int, events: inout [HTTPParserEvent]
    ) -> Int {
        let (cap, limit) = lineCap()
        var method = false
        if case .requestLine = state { method = scanningMethod }
        var previousWasCR = !line.isEmpty && line[line.count - 1] == ASCII.cr
        var position = line.count
        var index = start
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == ASCII.lf { break }
            if previousWasCR {
                fail(.badRequest("bare CR in the message framing"), &events)
                return count
            }
            if position >= cap {
                fail(limit.error, &events)
                return count
            }
            if byte == ASCII.cr {
                previousWasCR = true
            } else if method {
                if byte == ASCII.space {
                    guard position > 0 else {
                        fail(.badRequest("request line does not start with a method"), &events)
                        return count
                    }
                    method = false
                } else if !ASCII.isTokenChar(byte) {
                    fail(.badRequest("invalid byte in the request method"), &events)
                    return count
                } else if position >= HTTPMethod.maxTokenBytes {
                    fail(.methodNotImplemented, &events)
                    return count
                }
            }
            position += 1
            index += 1
        }
        guard index < count else {
            Self.append(bytes, start..<count, to: &line)
            scanningMethod = method
            return count
        }
        guard previousWasCR else {
            fail(.badRequest("bare LF line ending (CRLF required)"), &events)
            return count
        }
        scanningMethod = true
        if line.isEmpty {
            handleLine(UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1]), &events)
        } else {
            Self.append(bytes, start..<index, to: &line)
            var carried: [UInt8] = []
            swap(&carried, &line)
            carried.withUnsafeBytes { handleLine(UnsafeRawBufferPointer(rebasing: $0.dropLast()), &events) }
            carried.removeAll(keepingCapacity: true)
            swap(&carried, &line)
        }
        return index + 1
    }

    /// Handles one complete line (CRLF removed) according to the state.
    private mutating func handleLine(_ content: UnsafeRawBufferPointer, _ events: inout [HTTPParserEvent]) {
        switch state {
        case .requestLine:
            if content.isEmpty {
                leadingEmptyLines += 1
                if leadingEmptyLines > limits.maxLeadingEmptyLines {
                    fail(.badRequest("too many empty lines before the request line"), &events)
                }
                return
            }
            switch parseRequestLine(content) {
            case .success(let head):
                pending = head
                state = .headerLine
            case .failure(let error):
                fail(error, &events)
            }
        case .headerLine:
            headerBytes += content.count + 2
            if content.isEmpty {
                finishHead(&events)
            } else {
                headerField(content, isTrailer: false, &events)
            }
        case .trailerLine:
            headerBytes += content.count + 2
            if content.isEmpty {
                events.append(.end(trailers: trailers))
                resetForNextMessage()
            } else {
                headerField(content, isTrailer: true, &events)
            }
        case .chunkSizeLine:
            chunkSizeLine(content, &events)
        case .contentBody, .chunkData, .chunkDataCR, .chunkDataLF, .failed:
            preconditionFailure("handleLine called outside a line state")
        }
    }

    /// `value + 1` without trapping at `Int.max` (a configured "unlimited").
    private static func plusOne(_ value: Int) -> Int { value < Int.max ? value + 1 : value }

    // Non-generic copies: the generic Sequence paths cost a metadata lookup per call in debug builds, which
    // dominates when bytes arrive one at a time.

    private static func copy(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[range]))
            initialized = range.count
        }
    }

    private static func append(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, to line: inout [UInt8]) {
        for index in range {
            line.append(bytes[index])
        }
    }

    mutating func fail(_ error: HTTPParseError, _ events: inout [HTTPParserEvent]) {
        state = .failed
        pending = nil
        line = []
        events.append(.error(error))
    }

    mutating func resetForNextMessage() {
        state = .requestLine
        pending = nil
        trailers = HTTPHeaders()
        scanningMethod = true
        leadingEmptyLines = 0
        headerBytes = 0
        headerCount = 0
        chunkedBodyBytes = 0
        chunkExtensionBytes = 0
    }
}
