import COpenSSL

/// What one non-blocking transport operation did. Plain sockets and TLS both report this way, so
/// `HTTPConnection` maps "would block" onto its read and write sources in one place.
enum TransportResult: Equatable {
    /// Bytes moved (read into the buffer, or taken for sending).
    case transferred(Int)
    /// The peer finished sending (FIN, or a TLS close_notify).
    case endOfStream
    /// Retry once the socket is readable / writable. TLS may need the other direction than the call's own:
    /// a write can wait for the peer's bytes and a read for room to send.
    case wantRead
    case wantWrite
    /// Fatal: reset, protocol error, bad handshake.
    case failed
}

/// One connection's OpenSSL session over its non-blocking socket. Confined to the connection's queue. The
/// socket BIO does not own the fd: the connection's last cancel handler still closes it (P1).
final class TLSSession {
    private let ssl: OpaquePointer
    /// After a fatal error OpenSSL must not be asked to send close_notify.
    private(set) var failed = false
    private(set) var sentCloseNotify = false
    private(set) var handshakeDone = false

    init?(context: TLSContext, fd: Int32) {
        guard let ssl = SSL_new(context.context) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        self.ssl = ssl
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake; `.transferred(0)` once it is complete.
    func handshake() -> TransportResult {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            handshakeDone = true
            return .transferred(0)
        }
        return classify(rc)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        ERR_clear_error()
        let rc = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        return rc > 0 ? .transferred(Int(rc)) : classify(rc)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        guard !bytes.isEmpty else { return .transferred(0) }
        ERR_clear_error()
        let rc = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        return rc > 0 ? .transferred(Int(rc)) : classify(rc)
    }

    /// Decrypted bytes OpenSSL holds that the socket will not signal again.
    var hasBufferedPlaintext: Bool { SSL_pending(ssl) > 0 }

    /// Sends close_notify once, best effort (a full socket buffer just means the peer sees a plain FIN).
    func sendCloseNotify() {
        guard handshakeDone, !failed, !sentCloseNotify else { return }
        sentCloseNotify = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The negotiated protocol, e.g. "TLSv1.3", for logs.
    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    private func classify(_ rc: Int32) -> TransportResult {
        let error = SSL_get_error(ssl, rc)
        switch error {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .endOfStream
        case SSL_ERROR_SYSCALL where rc == 0 && ERR_peek_error() == 0: return .endOfStream
        default:
            failed = true
            ERR_clear_error()
            return .failed
        }
    }
}
