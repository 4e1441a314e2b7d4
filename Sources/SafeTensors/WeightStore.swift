// A model directory's weights: sharded (`model.safetensors.index.json` + shards) or one
// `model.safetensors`. Components ask for their own relative names through a `WeightScope`; the
// store checks shapes, records what was used, and reports leftovers (style.md habit 2).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Tensors

/// All tensors of a checkpoint, looked up by full key (e.g.
/// `vision_model.encoder.layers.3.self_attn.qkv.weight`), with strict shape checks and a record
/// of which keys were loaded so leftovers can be reported with `unusedKeys`.
///
/// Thread-safe: lookups may run concurrently; the used-key record is serialised internally.
public final class WeightStore: Sendable {
    /// The shard index Hugging Face writes next to sharded checkpoints.
    public static let indexFileName = "model.safetensors.index.json"
    /// The single-file checkpoint name.
    public static let singleFileName = "model.safetensors"
    /// Largest shard index read: a 10 B-parameter model's index is well under 1 MB; the cap only
    /// stops a hostile or wrong file from being read whole into memory.
    public static let maxIndexBytes = 64 << 20

    /// The directory the weights came from (empty when built from files).
    public let directory: String
    /// Which file holds each key.
    private let location: [String: SafeTensorsFile]
    private let used = UsedKeys()

    /// Opens the weights of a model directory: the shard index when present, else
    /// `model.safetensors`. Every shard is mapped and its header validated up front.
    public init(directory: String) throws(SafeTensorsError) {
        self.directory = directory
        let indexPath = directory + "/" + Self.indexFileName
        let singlePath = directory + "/" + Self.singleFileName
        if Self.isFile(indexPath) {
            location = try Self.loadSharded(indexPath: indexPath, directory: directory)
        } else if Self.isFile(singlePath) {
            location = try Self.locate(files: [SafeTensorsFile(path: singlePath)])
        } else {
            throw .noWeightFiles(directory: directory)
        }
    }

    /// A store over already-opened files (their key sets must be disjoint).
    public init(files: [SafeTensorsFile]) throws(SafeTensorsError) {
        directory = ""
        location = try Self.locate(files: files)
    }

    /// Every key in the checkpoint, sorted.
    public var keys: [String] { location.keys.sorted() }

    /// Whether the checkpoint holds `key` (a full key).
    public func contains(_ key: String) -> Bool { location[key] != nil }

    /// The header entry (dtype, shape, byte range) of a full key, without loading it.
    public func entry(_ key: String) -> SafeTensorsHeader.Entry? { location[key]?.entry(key) }

    /// The tensor at full key `key`, which must have exactly `shape`; records the key as used.
    /// Throws `missingTensor` naming the key, or `shapeMismatch` with got and expected.
    public func tensor(_ key: String, shape: [Int]) throws(SafeTensorsError) -> Tensor {
        guard let file = location[key], let e = file.entry(key) else { throw .missingTensor(key: key) }
        guard e.shape == shape else { throw .shapeMismatch(key: key, got: e.shape, expected: shape) }
        let t = try file.tensor(named: key)
        used.insert(key)
        return t
    }

    /// The tensor at `key`, or, when the checkpoint omits it, the one at `fallbackKey` (both full
    /// keys): tied weights such as OPT's `lm_head.weight` ← `embed_tokens.weight`, which Hugging
    /// Face does not save. Only the key actually read is recorded as used. If both are missing
    /// the error names `key`.
    public func tensor(_ key: String, shape: [Int], tiedTo fallbackKey: String) throws(SafeTensorsError) -> Tensor {
        if contains(key) || !contains(fallbackKey) { return try tensor(key, shape: shape) }
        return try tensor(fallbackKey, shape: shape)
    }

    /// A view that prefixes every name with `prefix` and a dot.
    public func scope(_ prefix: String) -> WeightScope { WeightScope(store: self, prefix: prefix) }

    /// Keys loaded so far, sorted.
    public var usedKeys: [String] { used.snapshot().sorted() }

    /// Keys never loaded, sorted: after building a model, a non-empty list means the checkpoint
    /// holds tensors the model does not know (an "unexpected key" error or warning upstream).
    public var unusedKeys: [String] {
        let u = used.snapshot()
        return location.keys.filter { !u.contains($0) }.sorted()
    }

    // MARK: - opening

    private static func locate(files: [SafeTensorsFile]) throws(SafeTensorsError) -> [String: SafeTensorsFile] {
        var location: [String: SafeTensorsFile] = [:]
        for file in files {
            for name in file.names {
                guard location[name] == nil else { throw .duplicateKey(path: file.path, key: name) }
                location[name] = file
            }
        }
        return location
    }

    private static func loadSharded(
        indexPath: String, directory: String
    ) throws(SafeTensorsError) -> [String: SafeTensorsFile] {
        let bytes = try readFile(indexPath, limit: maxIndexBytes)
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes)
        } catch {
            throw .invalidIndex(path: indexPath, reason: "\(error.reason) at byte \(error.offset)")
        }
        guard case let .object(members) = root else {
            throw .invalidIndex(path: indexPath, reason: "not a JSON object")
        }
        let maps = members.filter { $0.key == "weight_map" }
        guard maps.count == 1, let map = maps.first, case let .object(entries) = map.value else {
            throw .invalidIndex(path: indexPath, reason: "needs exactly one 'weight_map' object")
        }
        var shardOfKey: [String: String] = [:]
        for member in entries {
            let (key, value) = (member.key, member.value)
            guard case let .string(shard) = value else {
                throw .invalidIndex(path: indexPath,
                                    reason: "weight_map['\(key)'] is \(value.kindName), not a file name")
            }
            guard isPlainFileName(shard) else {
                throw .invalidIndex(path: indexPath, reason: "shard name '\(shard)' is not a plain file name")
            }
            guard shardOfKey[key] == nil else { throw .duplicateKey(path: indexPath, key: key) }
            shardOfKey[key] = shard
        }
        var files: [SafeTensorsFile] = []
        for shard in Set(shardOfKey.values).sorted() {
            files.append(try SafeTensorsFile(path: directory + "/" + shard))
        }
        let location = try locate(files: files)
        for (key, shard) in shardOfKey where location[key]?.path != directory + "/" + shard {
            throw .invalidIndex(path: indexPath, reason: "'\(key)' is listed in \(shard) but is not in it")
        }
        return location
    }

    /// A shard name must stay inside the model directory.
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }

    private static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    private static func readFile(_ path: String, limit: Int) throws(SafeTensorsError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            guard out.count <= limit else { throw .invalidIndex(path: path, reason: "larger than \(limit) bytes") }
        }
    }
}

/// A prefix into a `WeightStore`, so a component asks only for its own relative names
/// (`scope.tensor("self_attn.qkv.weight", shape: ...)`) and its parent chooses the prefix.
public struct WeightScope: Sendable {
    /// The store this scope reads.
    public let store: WeightStore
    /// The key prefix, without the trailing dot ("" for the root).
    public let prefix: String

    /// The full key of a relative `name`.
    public func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

    /// A nested scope (`scope("encoder").scope("layers.3")` == `scope("encoder.layers.3")`).
    public func scope(_ name: String) -> WeightScope { WeightScope(store: store, prefix: key(name)) }

    /// Whether the checkpoint holds relative `name`.
    public func contains(_ name: String) -> Bool { store.contains(key(name)) }

    /// The tensor at relative `name` with exactly `shape` (errors name the full key).
    public func tensor(_ name: String, shape: [Int]) throws(SafeTensorsError) -> Tensor {
        try store.tensor(key(name), shape: shape)
    }

    /// The tensor at relative `name`, falling back to the **full** key `fallbackKey` when the
    /// checkpoint omits it (tied weights; see `WeightStore.tensor(_:shape:tiedTo:)`).
    public func tensor(_ name: String, shape: [Int], tiedTo fallbackKey: String) throws(SafeTensorsError) -> Tensor {
        try store.tensor(key(name), shape: shape, tiedTo: fallbackKey)
    }

    /// The tensor at relative `name` if present (shape still checked), nil if absent: for
    /// parameters a config may switch off, such as biases when `enable_bias` is false.
    public func optionalTensor(_ name: String, shape: [Int]) throws(SafeTensorsError) -> Tensor? {
        contains(name) ? try tensor(name, shape: shape) : nil
    }
}

/// The set of loaded keys, behind a serial queue so concurrent loads stay consistent.
private final class UsedKeys: @unchecked Sendable {
    private var keys: Set<String> = []
    private let queue = DispatchQueue(label: "tiaoyu.safetensors.used-keys")

    func insert(_ key: String) { queue.sync { _ = keys.insert(key) } }
    func snapshot() -> Set<String> { queue.sync { keys } }
}
