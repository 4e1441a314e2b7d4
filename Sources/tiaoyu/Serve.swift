import API
import ArgumentParser
import Dispatch
import Foundation
import HTTP1
import HTTPServer
import Inference
import Logging

/// `tiaoyu serve`: every option also reads a `TIAOYU_*` environment variable (the flag wins), so containers and
/// systemd units configure the server without a command line.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the HTTP server.",
        discussion: "Every option has an environment twin: --max-body-bytes is TIAOYU_MAX_BODY_BYTES, and so on.")

    @Option(help: "Address to bind; '*' for all IPv4 and IPv6 addresses. [TIAOYU_HOST, default 127.0.0.1]")
    var host: String?
    @Option(help: "TCP port (0 picks a free one). [TIAOYU_PORT, default 8080]")
    var port: Int?
    @Option(help: "listen(2) backlog. [TIAOYU_BACKLOG, default 511]")
    var backlog: Int?
    @Option(help: "Maximum open client connections; more are refused with 503. [TIAOYU_MAX_CONNECTIONS, 1024]")
    var maxConnections: Int?
    @Option(help: "Requests served per connection before it closes. [TIAOYU_MAX_REQUESTS_PER_CONNECTION, 1000]")
    var maxRequestsPerConnection: Int?
    @Option(help: "Pipelined requests buffered per connection. [TIAOYU_MAX_PIPELINED_REQUESTS, 16]")
    var maxPipelinedRequests: Int?
    @Option(help: "Largest request body in bytes (413 above). [TIAOYU_MAX_BODY_BYTES, 33554432]")
    var maxBodyBytes: Int?
    @Option(help: "Longest request line in bytes (414 above). [TIAOYU_MAX_REQUEST_LINE_BYTES, 8192]")
    var maxRequestLineBytes: Int?
    @Option(help: "Largest request header section in bytes (431 above). [TIAOYU_MAX_HEADER_BYTES, 32768]")
    var maxHeaderBytes: Int?
    @Option(help: "Most header fields in a request (431 above). [TIAOYU_MAX_HEADER_COUNT, 100]")
    var maxHeaderCount: Int?
    @Option(help: "Seconds for a whole request head to arrive. [TIAOYU_HEADER_TIMEOUT, 15]")
    var headerTimeout: Double?
    @Option(help: "Seconds of silence allowed while a body uploads. [TIAOYU_BODY_TIMEOUT, 30]")
    var bodyTimeout: Double?
    @Option(help: "Seconds an idle keep-alive connection stays open. [TIAOYU_IDLE_TIMEOUT, 75]")
    var idleTimeout: Double?
    @Option(help: "Seconds without write progress before a slow reader is dropped. [TIAOYU_WRITE_TIMEOUT, 60]")
    var writeTimeout: Double?
    @Option(help: "Seconds to keep discarding input after an error response. [TIAOYU_LINGER_TIMEOUT, 3]")
    var lingerTimeout: Double?
    @Option(help: "Seconds in-flight requests get to finish on SIGTERM. [TIAOYU_DRAIN_TIMEOUT, 30]")
    var drainTimeout: Double?
    @Option(help: "Directory served at / (the web page). [TIAOYU_PUBLIC_DIR, Public/ beside the sources]")
    var publicDir: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. [TIAOYU_LOG_LEVEL, info]")
    var logLevel: String?
    @Option(help: "Log format: text or json (one object per line). [TIAOYU_LOG_FORMAT, text]")
    var logFormat: String?
    @Option(help: ArgumentHelp(
        "Reverse proxies (CIDR list) whose X-Forwarded-For/-Proto are believed. [TIAOYU_TRUSTED_PROXIES, none]",
        valueName: "cidrs"))
    var trustedProxies: String?
    @Option(help: "Path the server is mounted under behind a proxy, e.g. /tiaoyu. [TIAOYU_URL_PREFIX, none]")
    var urlPrefix: String?
    @Option(help: ArgumentHelp("PEM certificate chain: serve HTTPS directly (with --tls-key). [TIAOYU_TLS_CERT]",
                               valueName: "path"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("PEM private key of --tls-cert. [TIAOYU_TLS_KEY]", valueName: "path"))
    var tlsKey: String?
    @Option(help: "Seconds a client gets to finish the TLS handshake. [TIAOYU_TLS_HANDSHAKE_TIMEOUT, 10]")
    var tlsHandshakeTimeout: Double?

    @OptionGroup(title: "Inference")
    var engine: EngineOptions

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let settings = Settings(environment: environment)
        var configuration = HTTPServerConfiguration()
        configuration.host = try settings.value(host, "TIAOYU_HOST", default: configuration.host)
        configuration.port = try settings.value(port, "TIAOYU_PORT", default: configuration.port, in: 0...65535)
        configuration.backlog = try settings.value(backlog, "TIAOYU_BACKLOG", default: configuration.backlog,
                                                   in: 1...65535)
        configuration.maxConnections = try settings.value(
            maxConnections, "TIAOYU_MAX_CONNECTIONS", default: configuration.maxConnections, in: 1...1_000_000)
        configuration.maxRequestsPerConnection = try settings.value(
            maxRequestsPerConnection, "TIAOYU_MAX_REQUESTS_PER_CONNECTION",
            default: configuration.maxRequestsPerConnection, in: 1...Int.max)
        configuration.maxPipelinedRequests = try settings.value(
            maxPipelinedRequests, "TIAOYU_MAX_PIPELINED_REQUESTS", default: configuration.maxPipelinedRequests,
            in: 1...1024)
        configuration.limits.maxBodyBytes = try settings.value(
            maxBodyBytes, "TIAOYU_MAX_BODY_BYTES", default: configuration.limits.maxBodyBytes, in: 0...(1 << 40))
        configuration.limits.maxRequestLineBytes = try settings.value(
            maxRequestLineBytes, "TIAOYU_MAX_REQUEST_LINE_BYTES", default: configuration.limits.maxRequestLineBytes,
            in: 64...(1 << 20))
        configuration.limits.maxHeaderBytes = try settings.value(
            maxHeaderBytes, "TIAOYU_MAX_HEADER_BYTES", default: configuration.limits.maxHeaderBytes,
            in: 256...(1 << 24))
        configuration.limits.maxHeaderCount = try settings.value(
            maxHeaderCount, "TIAOYU_MAX_HEADER_COUNT", default: configuration.limits.maxHeaderCount, in: 1...10_000)
        configuration.headerTimeout = try settings.seconds(headerTimeout, "TIAOYU_HEADER_TIMEOUT",
                                                           default: configuration.headerTimeout)
        configuration.bodyTimeout = try settings.seconds(bodyTimeout, "TIAOYU_BODY_TIMEOUT",
                                                         default: configuration.bodyTimeout)
        configuration.idleTimeout = try settings.seconds(idleTimeout, "TIAOYU_IDLE_TIMEOUT",
                                                         default: configuration.idleTimeout)
        configuration.writeTimeout = try settings.seconds(writeTimeout, "TIAOYU_WRITE_TIMEOUT",
                                                          default: configuration.writeTimeout)
        configuration.lingerTimeout = try settings.seconds(lingerTimeout, "TIAOYU_LINGER_TIMEOUT",
                                                           default: configuration.lingerTimeout)
        configuration.drainTimeout = try settings.seconds(drainTimeout, "TIAOYU_DRAIN_TIMEOUT",
                                                          default: configuration.drainTimeout)
        configuration.tlsHandshakeTimeout = try settings.seconds(
            tlsHandshakeTimeout, "TIAOYU_TLS_HANDSHAKE_TIMEOUT", default: configuration.tlsHandshakeTimeout)
        do {
            configuration.trustedProxies = try IPAddressRange.parseList(
                settings.value(trustedProxies, "TIAOYU_TRUSTED_PROXIES", default: ""))
        } catch {
            throw ValidationError("TIAOYU_TRUSTED_PROXIES / --trusted-proxies: \(error)")
        }
        do {
            configuration.urlPrefix = try URLPrefix(settings.value(urlPrefix, "TIAOYU_URL_PREFIX", default: ""))
        } catch {
            throw ValidationError("TIAOYU_URL_PREFIX / --url-prefix: \(error)")
        }
        let certificatePath = try settings.value(tlsCert, "TIAOYU_TLS_CERT", default: "")
        let keyPath = try settings.value(tlsKey, "TIAOYU_TLS_KEY", default: "")
        guard certificatePath.isEmpty == keyPath.isEmpty else {
            throw ValidationError("TLS needs both --tls-cert and --tls-key (TIAOYU_TLS_CERT, TIAOYU_TLS_KEY)")
        }

        let modelDirectories = try engine.modelDirectories(settings)
        let engineConfiguration = try engine.configuration(settings)

        let level = try settings.value(logLevel, "TIAOYU_LOG_LEVEL", default: "info")
        guard let parsedLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw ValidationError("unknown log level '\(level)'")
        }
        let format = try settings.value(logFormat, "TIAOYU_LOG_FORMAT", default: "text")
        guard let parsedFormat = LineLogHandler.Format(rawValue: format.lowercased()) else {
            throw ValidationError("unknown log format '\(format)' (text or json)")
        }
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: parsedFormat)
            handler.logLevel = parsedLevel
            return handler
        }
        let logger = Logger(label: "tiaoyu")

        let publicDirectory = try settings.value(publicDir, "TIAOYU_PUBLIC_DIR", default: "")
        let resolvedPublic = publicDirectory.isEmpty ? ResourceLocator.publicDirectory() : publicDirectory
        if resolvedPublic == nil { logger.warning("no Public/ directory found: the web page is not served") }

        var tls: TLSContext?
        if !certificatePath.isEmpty {
            do {
                tls = try TLSContext(certificatePath: certificatePath, keyPath: keyPath)
            } catch {
                logger.critical("cannot set up TLS", metadata: ["error": .string(error.description)])
                throw ExitCode(2)
            }
        }

        let server = HTTPServer(configuration: configuration, publicDirectory: resolvedPublic, tls: tls,
                                logger: Logger(label: "tiaoyu.http"))
        // Signals first: once "listening" is logged, an orchestrator's SIGTERM must drain the server, never be lost.
        ShutdownSignals.install(logger: logger) {
            server.shutdown {
                logger.info("drained, exiting")
                terminateProcess(0)
            }
        }
        do {
            try server.start()
        } catch {
            logger.critical("cannot listen", metadata: ["error": .string(error.description)])
            throw ExitCode(2)
        }
        // /healthz answers at once; /readyz says "loading" until the models are loaded and a warm-up batch ran
        // (API.install sets it ready). Loading happens off the main thread so signals are handled meanwhile.
        server.readiness = .loading
        Thread.detachNewThread {
            let started = Date()
            do {
                let engine = try Engine(modelDirectories: modelDirectories, configuration: engineConfiguration)
                logger.info("models loaded", metadata: [
                    "models": .string(modelDirectories.joined(separator: ",")),
                    "seconds": .string(String(format: "%.2f", Date().timeIntervalSince(started))),
                ])
                API.install(on: server, engine: engine)
            } catch {
                logger.critical("cannot load the models", metadata: ["error": .string("\(error)")])
                terminateProcess(2)
            }
        }

        dispatchMain()
    }
}

/// Resolves an option from its flag, then its environment variable, then the default, validating either source.
struct Settings {
    let environment: [String: String]

    func value(_ flag: String?, _ name: String, default fallback: String) throws -> String {
        flag ?? environment[name] ?? fallback
    }

    func value(_ flag: Int?, _ name: String, default fallback: Int, in range: ClosedRange<Int>? = nil) throws -> Int {
        var result = fallback
        if let flag {
            result = flag
        } else if let text = environment[name] {
            guard let parsed = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(name)='\(text)' is not an integer")
            }
            result = parsed
        }
        if let range, !range.contains(result) {
            throw ValidationError("\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(result)")
        }
        return result
    }

    func seconds(_ flag: Double?, _ name: String, default fallback: Duration) throws -> Duration {
        var seconds: Double?
        if let flag {
            seconds = flag
        } else if let text = environment[name] {
            guard let parsed = Double(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(name)='\(text)' is not a number of seconds")
            }
            seconds = parsed
        }
        guard let seconds else { return fallback }
        guard seconds.isFinite, seconds > 0, seconds <= 86_400 * 7 else {
            throw ValidationError("\(name) must be a positive number of seconds (at most a week), got \(seconds)")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

/// SIGTERM / SIGINT start a graceful drain; a second signal exits at once.
enum ShutdownSignals {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let queue = DispatchQueue(label: "tiaoyu.signals")

    /// Returns once the signals are taken over, so a server that listens afterwards never loses one.
    static func install(logger: Logger, onFirst: @escaping @Sendable () -> Void) {
        let state = SignalState()
        let numbers = [SIGTERM, SIGINT]
        for number in numbers {
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if state.received {
                    logger.warning("second signal: exiting without draining")
                    terminateProcess(1)
                }
                state.received = true
                logger.info("signal received: draining", metadata: ["signal": .stringConvertible(number)])
                onFirst()
            }
            source.activate()
            sources.append(source)
        }
        // Linux's libdispatch takes a signal over when its manager thread registers the source, a little after
        // `activate`, by installing a handler of its own that forwards the signal to its signalfd. Until then the
        // default action stands, so a SIGTERM ends a server that is not yet listening. The old recipe (P17) set
        // SIG_IGN before the source instead; a SIGTERM in that window was ignored for good, and a server that was
        // already listening never drained (measured: 2 of 4 servers signalled as soon as they listened).
        let deadline = DispatchTime.now() + .seconds(2)
        while numbers.contains(where: { !hasHandler($0) }), DispatchTime.now() < deadline { usleep(1_000) }
        // A Dispatch that installs no handler (Darwin's kqueue) needs the default action off for the source to see
        // the signal.
        for number in numbers where !hasHandler(number) { signal(number, SIG_IGN) }
    }

    /// Whether the signal's disposition is no longer the default action (libdispatch's handler, or ignored).
    private static func hasHandler(_ number: Int32) -> Bool {
        var action = sigaction()
        guard sigaction(number, nil, &action) == 0 else { return false }
        return action.__sigaction_handler.sa_handler != nil
    }

    private final class SignalState: @unchecked Sendable {
        var received = false  // only touched on `queue`
    }
}

/// Ends the process with `code` without running atexit handlers: other threads (model loading, the compute
/// thread) may still hold runtime or stdio locks that those handlers need, and `exit` would then hang.
/// Logs are written unbuffered, so nothing is lost.
func terminateProcess(_ code: Int32) -> Never {
    fflush(nil)
    _exit(code)
}
