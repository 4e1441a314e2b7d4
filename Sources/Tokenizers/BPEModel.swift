// Byte-pair encoding as in huggingface/tokenizers `models/bpe/` (model.rs, word.rs): a word starts as one symbol
// per character and the adjacent pair with the best (lowest) merge rank is merged, leftmost first, until no pair
// has a merge. GPT-2 / OPT use it over byte-level characters; the options (continuing-subword prefix, end-of-word
// suffix, unknown token, byte fallback, ignore_merges) are those of the Rust model.
import Foundation

/// The BPE vocabulary model (GPT-2, OPT, RoBERTa...).
public struct BPEModel: TokenizerModel {
    /// Words longer than this (in UTF-8 bytes) are not cached: they are rare, and would crowd out common words.
    public static let maxCachedWordBytes = 256
    /// Words kept in the cache. As the Rust library's default: enough for the working vocabulary of a text stream;
    /// once full, new words are encoded without being cached (no eviction bookkeeping on the hot path).
    public static let cacheCapacity = 10_000
    /// Ids are packed two to a 64-bit merge key; real vocabularies are far below 2^32 (GPT-2 has 50257 tokens).
    public static let maxTokenId = Int(UInt32.max)

    /// One merge rule: two adjacent symbols that become one (its rank is its position in the list).
    public struct Merge: Sendable, Equatable {
        public var left: String
        public var right: String
        public init(_ left: String, _ right: String) {
            self.left = left
            self.right = right
        }

        /// Parses `left right` (exactly one space, valid UTF-8).
        init?(line: some Collection<UInt8>) {
            let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard parts.count == 2, let left = String(validating: parts[0], as: UTF8.self),
                  let right = String(validating: parts[1], as: UTF8.self) else { return nil }
            self.init(left, right)
        }
    }

    /// The token for characters the vocabulary lacks; nil drops them (GPT-2 needs none: every byte is a token).
    public let unknownToken: String?
    /// Put in front of every symbol but a word's first (`##` in some BPE vocabularies); nil for none.
    public let continuingSubwordPrefix: String?
    /// Appended to a word's last symbol (`</w>` in the original BPE); nil for none.
    public let endOfWordSuffix: String?
    /// Consecutive unknown characters become one unknown token.
    public let fuseUnknown: Bool
    /// A character missing from the vocabulary becomes its UTF-8 bytes as `<0xXX>` tokens, when all 256 exist.
    public let byteFallback: Bool
    /// A word that is itself in the vocabulary is one token, whatever the merges would make of it.
    public let ignoreMerges: Bool

    /// Ids by the UTF-8 bytes of the token (see WordPieceModel for why not `String` keys).
    private let ids: [[UInt8]: Int]
    private let tokensById: [Int: String]
    /// (rank, id of the merged token) by the pair of ids, packed as `left << 32 | right`.
    private let merges: [UInt64: (rank: Int, id: Int)]
    private let unknownId: Int?
    /// The ids of `<0x00>`...`<0xFF>`, where all exist (byte fallback).
    private let byteIds: [Int]?
    private let cache: BPEWordCache

    /// Builds the model; fails when a merge names a token missing from the vocabulary, its result is missing, or
    /// the unknown token is not in the vocabulary.
    public init(vocabulary entries: [(token: String, id: Int)], merges mergeList: [Merge], unknownToken: String? = nil,
                continuingSubwordPrefix: String? = nil, endOfWordSuffix: String? = nil, fuseUnknown: Bool = false,
                byteFallback: Bool = false, ignoreMerges: Bool = false) throws(TokenizerError) {
        var ids: [[UInt8]: Int] = [:]
        ids.reserveCapacity(entries.count)
        for entry in entries {
            guard (0...Self.maxTokenId).contains(entry.id) else {
                throw .invalidField(stage: "model (BPE)", field: "vocab",
                                    reason: "id \(entry.id) of \"\(entry.token)\" is outside 0...\(Self.maxTokenId)")
            }
            ids[Array(entry.token.utf8)] = entry.id
        }
        var tokensById: [Int: String] = [:]
        tokensById.reserveCapacity(ids.count)
        for (bytes, id) in ids { tokensById[id] = String(decoding: bytes, as: UTF8.self) }

        let prefixLength = continuingSubwordPrefix?.utf8.count ?? 0
        var merges: [UInt64: (rank: Int, id: Int)] = [:]
        merges.reserveCapacity(mergeList.count)
        for (rank, merge) in mergeList.enumerated() {
            guard let left = ids[Array(merge.left.utf8)] else {
                throw .unknownToken(stage: "model (BPE merge \(rank + 1))", token: merge.left)
            }
            guard let right = ids[Array(merge.right.utf8)] else {
                throw .unknownToken(stage: "model (BPE merge \(rank + 1))", token: merge.right)
            }
            // As the Rust library: the right part loses the continuation prefix's length.
            let rightBytes = Array(merge.right.utf8)
            let merged = Array(merge.left.utf8) + rightBytes.dropFirst(min(prefixLength, rightBytes.count))
            guard let id = ids[merged] else {
                throw .unknownToken(stage: "model (BPE merge \(rank + 1))", token: String(decoding: merged,
                                                                                          as: UTF8.self))
            }
            let key = UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
            if merges[key] == nil { merges[key] = (rank, id) }
        }
        var unknownId: Int?
        if let unknownToken {
            guard let id = ids[Array(unknownToken.utf8)] else {
                throw .unknownToken(stage: "model (BPE unk_token)", token: unknownToken)
            }
            unknownId = id
        }
        let byteIds = (0..<256).compactMap { byte in ids[Array(Self.byteToken(UInt8(byte)).utf8)] }

        self.ids = ids
        self.tokensById = tokensById
        self.merges = merges
        self.unknownToken = unknownToken
        self.unknownId = unknownId
        self.continuingSubwordPrefix = continuingSubwordPrefix.flatMap { $0.isEmpty ? nil : $0 }
        self.endOfWordSuffix = endOfWordSuffix.flatMap { $0.isEmpty ? nil : $0 }
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.byteIds = byteIds.count == 256 ? byteIds : nil
        cache = BPEWordCache()
    }

    /// The byte-fallback token of a byte: `<0x0A>`.
    static func byteToken(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "<0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0x0F)])>"
    }

    /// Reads a `vocab.json` (token → id).
    public static func readVocabulary(_ data: Data, file: String = "vocab.json") throws(TokenizerError)
        -> [(token: String, id: Int)] {
        guard let object = try JSONValue.parse(data, file: file).objectValue else {
            throw .malformedFile(file: file, reason: "expected an object of token: id")
        }
        var entries: [(token: String, id: Int)] = []
        entries.reserveCapacity(object.pairs.count)
        for (token, value) in object.pairs {
            guard let id = value.intValue, id >= 0 else {
                throw .malformedFile(file: file, reason: "id of \"\(token)\" is not an integer >= 0")
            }
            entries.append((token: token, id: id))
        }
        guard !entries.isEmpty else { throw .missingVocabulary("\(file) is empty") }
        return entries
    }

    /// Reads a `merges.txt`: an optional `#version` line, then one merge a line, two tokens separated by one space.
    /// The line number (after the header) is the rank.
    public static func readMerges(_ data: Data, file: String = "merges.txt") throws(TokenizerError) -> [Merge] {
        // Split as bytes: as `Character`s, "\r\n" is one character and a space followed by a combining mark too.
        var lines = Array(data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // the newline ending the last line starts no new line
        var merges: [Merge] = []
        merges.reserveCapacity(lines.count)
        for (number, rawLine) in lines.enumerated() {
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            if line.starts(with: Array("#version".utf8)) { continue }
            guard let merge = Merge(line: line) else {
                throw .malformedFile(file: file,
                                     reason: "line \(number + 1) is not two UTF-8 tokens separated by a space")
            }
            merges.append(merge)
        }
        return merges
    }

    public var vocabularySize: Int { ids.count }
    public func tokenToId(_ token: String) -> Int? { ids[Array(token.utf8)] }
    public func idToToken(_ id: Int) -> String? { tokensById[id] }

    public func tokenize(_ piece: NormalizedText) -> [Token] {
        guard !piece.isEmpty else { return [] }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(piece.count * 2)
        // The scalar each UTF-8 byte of the piece belongs to: symbol spans are in bytes (as the Rust library
        // counts them), offsets are in scalars.
        var scalarOfByte: [Int] = []
        scalarOfByte.reserveCapacity(piece.count * 2)
        for (index, scalar) in piece.scalars.enumerated() {
            let before = bytes.count
            if let encoded = UTF8.encode(scalar) { bytes.append(contentsOf: encoded) }
            scalarOfByte.append(contentsOf: repeatElement(index, count: bytes.count - before))
        }
        if ignoreMerges, let id = ids[bytes] {
            return [Token(id: id, value: tokensById[id] ?? "", offsets: piece.originalRange)]
        }
        let symbols: [BPESymbol]
        if bytes.count <= Self.maxCachedWordBytes, let cached = cache.symbols(for: bytes) {
            symbols = cached
        } else {
            symbols = mergeWord(piece.scalars)
            if bytes.count <= Self.maxCachedWordBytes { cache.store(symbols, for: bytes, capacity: Self.cacheCapacity) }
        }
        return symbols.map { symbol in
            // Byte-fallback pieces may count prefix/suffix bytes the text does not have: clamp to the piece.
            let lower = min(symbol.start, bytes.count)
            let upper = min(symbol.start + symbol.length, bytes.count)
            let scalars: Range<Int>
            if lower < upper {
                scalars = scalarOfByte[lower]..<(scalarOfByte[upper - 1] + 1)
            } else {
                let at = lower < bytes.count ? scalarOfByte[lower] : piece.count
                scalars = at..<at
            }
            return Token(id: symbol.id, value: tokensById[symbol.id] ?? "", offsets: piece.originalRange(scalars))
        }
    }

    /// The initial symbols of a word (one per character, with prefix/suffix, byte fallback, unknown) merged by rank.
    func mergeWord(_ scalars: [Unicode.Scalar]) -> [BPESymbol] {
        var word = BPEWord()
        var pendingUnknown: (id: Int, length: Int)?
        for (index, scalar) in scalars.enumerated() {
            guard let encoded = UTF8.encode(scalar) else { continue }
            let byteLength = encoded.count
            var symbol: [UInt8] = []
            if index > 0, let prefix = continuingSubwordPrefix { symbol.append(contentsOf: prefix.utf8) }
            symbol.append(contentsOf: encoded)
            if index == scalars.count - 1, let suffix = endOfWordSuffix { symbol.append(contentsOf: suffix.utf8) }
            if let id = ids[symbol] {
                if let unknown = pendingUnknown {
                    word.add(id: unknown.id, length: unknown.length)
                    pendingUnknown = nil
                }
                word.add(id: id, length: byteLength)
                continue
            }
            if byteFallback, let byteIds {
                // One symbol per byte of the symbol string, prefix and suffix included, each one byte long: as the
                // Rust library, whose spans are running sums of symbol lengths and then run past the character.
                for byte in symbol { word.add(id: byteIds[Int(byte)], length: 1) }
                continue
            }
            guard let unknownId else { continue }  // no unknown token: the character is dropped
            if let unknown = pendingUnknown {
                if fuseUnknown {
                    pendingUnknown = (unknown.id, unknown.length + byteLength)
                    continue
                }
                word.add(id: unknown.id, length: unknown.length)
            }
            pendingUnknown = (unknownId, byteLength)
        }
        if let unknown = pendingUnknown {
            word.add(id: unknown.id, length: unknown.length)
        }
        word.mergeAll(merges)
        return word.symbols
    }
}

/// One symbol of a word being merged: its id and the bytes of the word it covers.
struct BPESymbol: Sendable, Equatable {
    var id: Int
    var start: Int
    var length: Int
}

/// A word as a doubly linked list of symbols, merged pair by pair in rank order (tokenizers `Word::merge_all`).
struct BPEWord {
    private(set) var nodes: [(symbol: BPESymbol, previous: Int, next: Int)] = []

    /// Appends a symbol spanning the next `length` bytes (spans are running sums, as the Rust library's).
    mutating func add(id: Int, length: Int) {
        let index = nodes.count
        let start = nodes.last.map { $0.symbol.start + $0.symbol.length } ?? 0
        if index > 0 { nodes[index - 1].next = index }
        nodes.append((BPESymbol(id: id, start: start, length: length), index - 1, -1))
    }

    /// The live symbols, in order.
    var symbols: [BPESymbol] { nodes.compactMap { $0.symbol.id >= 0 ? $0.symbol : nil } }

    private static func key(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    /// Merges until no adjacent pair has a merge: always the pair of lowest rank, leftmost among equal ranks.
    mutating func mergeAll(_ merges: [UInt64: (rank: Int, id: Int)]) {
        guard nodes.count > 1 else { return }
        var queue = BPEMergeQueue()
        for index in 0..<(nodes.count - 1) {
            if let merge = merges[Self.key(nodes[index].symbol.id, nodes[index + 1].symbol.id)] {
                queue.push(BPEMergeQueue.Entry(rank: merge.rank, position: index, id: merge.id))
            }
        }
        while let top = queue.pop() {
            let position = top.position
            // Skip entries made stale by an earlier merge: the left symbol was absorbed, has no right neighbour,
            // or the pair there is no longer the one this entry merges.
            guard nodes[position].symbol.id >= 0 else { continue }
            let nextIndex = nodes[position].next
            guard nextIndex >= 0 else { continue }
            guard let merge = merges[Self.key(nodes[position].symbol.id, nodes[nextIndex].symbol.id)],
                  merge.id == top.id else { continue }
            // Absorb the right symbol.
            nodes[position].symbol.id = top.id
            nodes[position].symbol.length += nodes[nextIndex].symbol.length
            let after = nodes[nextIndex].next
            nodes[position].next = after
            if after >= 0 { nodes[after].previous = position }
            nodes[nextIndex].symbol.id = -1
            // New pairs with the neighbours.
            let before = nodes[position].previous
            if before >= 0, let left = merges[Self.key(nodes[before].symbol.id, top.id)] {
                queue.push(BPEMergeQueue.Entry(rank: left.rank, position: before, id: left.id))
            }
            if after >= 0, let right = merges[Self.key(top.id, nodes[after].symbol.id)] {
                queue.push(BPEMergeQueue.Entry(rank: right.rank, position: position, id: right.id))
            }
        }
    }
}

/// A binary min-heap of pending merges ordered by (rank, position).
struct BPEMergeQueue {
    struct Entry {
        var rank: Int
        var position: Int
        var id: Int

        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var heap: [Entry] = []

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return first }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var best = parent
            if left < heap.count, heap[left].precedes(heap[best]) { best = left }
            if right < heap.count, heap[right].precedes(heap[best]) { best = right }
            if best == parent { break }
            heap.swapAt(parent, best)
            parent = best
        }
        return first
    }
}

/// Merged symbols by word bytes, shared by the copies of a model (a `Tokenizer` is a value; its cache is not).
final class BPEWordCache: @unchecked Sendable {
    // Guarded by `lock`: encodes may run on several threads at once.
    private var entries: [[UInt8]: [BPESymbol]] = [:]
    private let lock = NSLock()

    func symbols(for word: [UInt8]) -> [BPESymbol]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[word]
    }

    func store(_ symbols: [BPESymbol], for word: [UInt8], capacity: Int) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count < capacity { entries[word] = symbols }
    }
}
