import Synchronization

/// The server's Prometheus metrics: requests by route/method/status, a latency histogram per route, open
/// connections, bytes in and out. Other layers append their own families through `addCollector`.
public final class HTTPServerMetrics: @unchecked Sendable {
    /// Latency bucket upper bounds in seconds: from a cached health check to a long generation.
    public static let latencyBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private struct RequestKey: Hashable { var route: String; var method: String; var status: Int }
    private struct Histogram {
        var counts = [Int](repeating: 0, count: HTTPServerMetrics.latencyBuckets.count)
        var sum = 0.0
        var total = 0

        mutating func record(_ seconds: Double) {
            for (index, bound) in HTTPServerMetrics.latencyBuckets.enumerated() where seconds <= bound {
                counts[index] += 1
            }
            sum += seconds
            total += 1
        }
    }

    private let lock = Lock()
    private var requests: [RequestKey: Int] = [:]
    private var latency: [String: Histogram] = [:]
    private var openConnections = 0
    private var acceptedConnections = 0
    private var refusedConnections = 0
    /// Counted on every read and write: atomics, so the hot path takes no lock for them.
    private let bytesIn = Atomic<Int>(0)
    private let bytesOut = Atomic<Int>(0)
    private var collectors: [@Sendable () -> String] = []

    public init() {}

    public func recordRequest(route: String, method: String, status: Int, seconds: Double) {
        lock.withLock {
            requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            latency[route, default: Histogram()].record(seconds)  // in place: a copy would copy `counts` too
        }
    }

    func connectionOpened() { lock.withLock { openConnections += 1; acceptedConnections += 1 } }
    func connectionClosed() { lock.withLock { openConnections -= 1 } }
    func connectionRefused() { lock.withLock { refusedConnections += 1 } }
    func addBytesIn(_ count: Int) { bytesIn.wrappingAdd(count, ordering: .relaxed) }
    func addBytesOut(_ count: Int) { bytesOut.wrappingAdd(count, ordering: .relaxed) }

    public var openConnectionCount: Int { lock.withLock { openConnections } }

    /// Adds a function whose Prometheus text is appended to every scrape.
    public func addCollector(_ collector: @escaping @Sendable () -> String) {
        lock.withLock { collectors.append(collector) }
    }

    /// The Prometheus text exposition (format 0.0.4).
    public func render() -> String {
        var out = ""
        let extra: [@Sendable () -> String] = lock.withLock {
            out += "# HELP tiaoyu_http_requests_total HTTP requests answered, by route, method and status.\n"
            out += "# TYPE tiaoyu_http_requests_total counter\n"
            for (key, count) in requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status)
                < ($1.key.route, $1.key.method, $1.key.status) })
            {
                out += "tiaoyu_http_requests_total{route=\(Self.label(key.route)),method=\(Self.label(key.method)),"
                    + "status=\"\(key.status)\"} \(count)\n"
            }
            out += "# HELP tiaoyu_http_request_duration_seconds Time from complete request head to response.\n"
            out += "# TYPE tiaoyu_http_request_duration_seconds histogram\n"
            for (route, histogram) in latency.sorted(by: { $0.key < $1.key }) {
                let name = "tiaoyu_http_request_duration_seconds"
                for (index, bound) in Self.latencyBuckets.enumerated() {
                    out += "\(name)_bucket{route=\(Self.label(route)),le=\"\(bound)\"} \(histogram.counts[index])\n"
                }
                out += "\(name)_bucket{route=\(Self.label(route)),le=\"+Inf\"} \(histogram.total)\n"
                out += "\(name)_sum{route=\(Self.label(route))} \(histogram.sum)\n"
                out += "\(name)_count{route=\(Self.label(route))} \(histogram.total)\n"
            }
            out += "# HELP tiaoyu_http_open_connections Client connections open now.\n"
            out += "# TYPE tiaoyu_http_open_connections gauge\ntiaoyu_http_open_connections \(openConnections)\n"
            out += "# HELP tiaoyu_http_connections_total Client connections accepted.\n"
            out += "# TYPE tiaoyu_http_connections_total counter\ntiaoyu_http_connections_total \(acceptedConnections)\n"
            out += "# HELP tiaoyu_http_connections_refused_total Connections refused (connection limit or no fds).\n"
            out += "# TYPE tiaoyu_http_connections_refused_total counter\n"
            out += "tiaoyu_http_connections_refused_total \(refusedConnections)\n"
            out += "# HELP tiaoyu_http_received_bytes_total Bytes read from clients.\n"
            out += "# TYPE tiaoyu_http_received_bytes_total counter\n"
            out += "tiaoyu_http_received_bytes_total \(bytesIn.load(ordering: .relaxed))\n"
            out += "# HELP tiaoyu_http_sent_bytes_total Bytes written to clients.\n"
            out += "# TYPE tiaoyu_http_sent_bytes_total counter\n"
            out += "tiaoyu_http_sent_bytes_total \(bytesOut.load(ordering: .relaxed))\n"
            return collectors
        }
        for collector in extra { out += collector() }
        return out
    }

    /// A Prometheus label value in quotes, escaped.
    public static func label(_ value: String) -> String {
        var out = "\""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out + "\""
    }
}

/// What `/readyz` reports: loading until the application says it is ready, draining during shutdown.
public enum HTTPServerReadiness: String, Sendable {
    case loading, ready, draining
}
