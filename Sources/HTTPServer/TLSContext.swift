import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// Why TLS could not be set up; each case names the file and says what OpenSSL (or the system) reported, so a
/// bad `--tls-cert` / `--tls-key` is a clear startup error rather than a failed handshake later.
public enum TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadableFile(path: String, reason: String)
    case badCertificate(path: String, reason: String)
    case badPrivateKey(path: String, reason: String)
    case keyDoesNotMatchCertificate(certificate: String, key: String)
    case setup(String)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason): "cannot read \(path): \(reason)"
        case .badCertificate(let path, let reason): "\(path) is not a usable PEM certificate chain: \(reason)"
        case .badPrivateKey(let path, let reason): "\(path) is not a usable PEM private key: \(reason)"
        case .keyDoesNotMatchCertificate(let certificate, let key):
            "the private key \(key) does not belong to the certificate \(certificate)"
        case .setup(let reason): "TLS setup failed: \(reason)"
        }
    }
}

/// The server's TLS configuration: one OpenSSL context holding the certificate chain and key, TLS 1.2 and 1.3
/// only, forward-secret AEAD ciphers for 1.2, ALPN `http/1.1`. Shared by every connection (SSL_new is
/// thread-safe on a configured context); each connection gets its own `TLSSession`.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let certificatePath: String
    public let keyPath: String

    /// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305 only, the
    /// "intermediate" profile without the CBC and static-RSA suites. TLS 1.3 keeps OpenSSL's defaults (all AEAD).
    static let tls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1"

    /// Loads a PEM certificate chain (leaf first) and its PEM private key.
    public init(certificatePath: String, keyPath: String) throws(TLSError) {
        for path in [certificatePath, keyPath] {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .unreadableFile(path: path, reason: String(cString: strerror(errno))) }
            close(fd)
        }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw .setup(Self.openSSLError()) }
        self.context = context
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        // From here `deinit` frees the context on every throw.
        guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1 else {
            throw .setup(Self.openSSLError())
        }
        _ = SSL_CTX_set_options(context, tiaoyu_tls_server_options())
        // Partial writes and a movable buffer suit the connection's growing output queue; idle keep-alive
        // connections give their 34 KiB of record buffers back.
        let mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS
        _ = SSL_CTX_ctrl(context, SSL_CTRL_MODE, Int(mode), nil)
        guard SSL_CTX_set_cipher_list(context, Self.tls12Ciphers) == 1 else { throw .setup(Self.openSSLError()) }
        SSL_CTX_set_alpn_select_cb(context, selectHTTP11, nil)

        guard SSL_CTX_use_certificate_chain_file(context, certificatePath) == 1 else {
            throw .badCertificate(path: certificatePath, reason: Self.openSSLError())
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyPath, SSL_FILETYPE_PEM) == 1 else {
            // A well-formed key of another certificate fails here already, as a key/certificate mismatch.
            if ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH {
                ERR_clear_error()
                throw .keyDoesNotMatchCertificate(certificate: certificatePath, key: keyPath)
            }
            throw .badPrivateKey(path: keyPath, reason: Self.openSSLError())
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            ERR_clear_error()
            throw .keyDoesNotMatchCertificate(certificate: certificatePath, key: keyPath)
        }
    }

    deinit { SSL_CTX_free(context) }

    /// The oldest queued OpenSSL error as text (the root cause), and a clean queue for the next operation.
    static func openSSLError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "unknown OpenSSL error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// ALPN: we speak HTTP/1.1 only. Chosen when offered; otherwise no protocol is agreed (RFC 7301 lets the
/// handshake go on), and a client that insists on h2 alone fails at its end instead of ours.
private func selectHTTP11(
    _ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ outLength: UnsafeMutablePointer<UInt8>?, _ input: UnsafePointer<UInt8>?, _ inputLength: UInt32,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let input, let out, let outLength else { return SSL_TLSEXT_ERR_NOACK }
    let wanted: [UInt8] = Array("http/1.1".utf8)
    let offered = UnsafeBufferPointer(start: input, count: Int(inputLength))
    var index = 0
    while index < offered.count {
        let length = Int(offered[index])
        let start = index + 1
        guard start + length <= offered.count else { break }
        if length == wanted.count, offered[start..<start + length].elementsEqual(wanted) {
            out.pointee = input + start
            outLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        index = start + length
    }
    return SSL_TLSEXT_ERR_NOACK
}
