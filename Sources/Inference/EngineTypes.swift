import Blip2

/// What the engine knows about a served image: its content hash and decoded size.
public struct ImageInfo: Sendable, Equatable {
    public var sha256: String
    public var width: Int
    public var height: Int
}

/// Where a request's time went, for the `Server-Timing` header.
public struct RequestTiming: Sendable, Equatable {
    /// Admission to answer, seconds.
    public var totalSeconds = 0.0
    /// Hashing, decoding and preprocessing images, tokenizing text (off the HTTP queues), seconds.
    public var preprocessSeconds = 0.0
    /// Largest batch this request's work ran in.
    public var batchSize = 0
    /// Seconds of model compute per stage this request's work ran in (`image` = vision + Q-Former, `text`,
    /// `itm`, `caption` = the language model's decode), the whole batch's time each.
    public var stageSeconds: [String: Double] = [:]
    public var cacheHits = 0
    public var cacheMisses = 0
}

/// One input of `/embed`.
public enum EmbedInput: Sendable, Equatable {
    case image([UInt8])
    case text(String)
}

/// A `/embed` call.
public struct EmbedRequest: Sendable {
    public enum Granularity: String, Sendable { case pooled, tokens }
    public var inputs: [EmbedInput]
    public var granularity: Granularity
    /// nil: the engine's default timeout.
    public var timeout: Duration?

    public init(inputs: [EmbedInput], granularity: Granularity = .pooled, timeout: Duration? = nil) {
        self.inputs = inputs
        self.granularity = granularity
        self.timeout = timeout
    }
}

/// One embedded input, or its error.
public struct EmbedItem: Sendable {
    public var index: Int
    /// `image` or `text`.
    public var modality: String
    /// Unit vectors of width D: one row (pooled image, text) or Q rows (image tokens).
    public var embedding: [[Float]] = []
    /// Tokens of a text input ([CLS] and [SEP] included), for usage reports; 0 for images.
    public var tokenCount = 0
    public var cached = false
    public var image: ImageInfo?
    public var error: EngineError?
}

/// The answer to a `/embed` call.
public struct EmbedResult: Sendable {
    public var model: String
    public var dimension: Int
    public var items: [EmbedItem]
    public var timing: RequestTiming
}

/// A `/match` call: every image against every text.
public struct MatchRequest: Sendable {
    public var images: [[UInt8]]
    public var texts: [String]
    public var itm: Bool
    public var itc: Bool
    public var timeout: Duration?

    public init(images: [[UInt8]], texts: [String], itm: Bool = true, itc: Bool = true, timeout: Duration? = nil) {
        self.images = images
        self.texts = texts
        self.itm = itm
        self.itc = itc
        self.timeout = timeout
    }
}

/// Scores image-major: `itm[i][t]` is P(match) of image i and text t, `itc[i][t]` the max cosine over queries.
/// An image that could not be decoded has nil rows and info, and its error in `errors[i]`.
public struct MatchResult: Sendable {
    public var model: String
    public var itm: [[Float]?]?
    public var itc: [[Float]?]?
    public var images: [ImageInfo?]
    public var cached: [Bool]
    public var errors: [EngineError?]
    public var timing: RequestTiming
}

/// Decoding options of a `/caption` call; nil keeps the checkpoint's default.
public struct CaptionOptions: Sendable, Equatable {
    public var maxNewTokens: Int?
    public var minNewTokens: Int?
    public var numBeams: Int?
    public var lengthPenalty: Double?
    public var repetitionPenalty: Double?
    public var noRepeatNgramSize: Int?
    public var doSample: Bool?
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var numCaptions: Int?
    public var seed: UInt64?

    public init() {}
}

/// One generated token of a streamed caption.
public struct CaptionStreamEvent: Sendable, Equatable {
    /// Which image of the request.
    public var index: Int
    /// Which of its `num_captions` sequences.
    public var sequence: Int
    public var tokenID: Int
    /// The text this token adds to the sequence's caption (may be empty while a character is incomplete).
    public var delta: String
}

/// A `/caption` call.
public struct CaptionRequest: Sendable {
    public var images: [[UInt8]]
    public var prompt: String?
    public var options: CaptionOptions
    public var timeout: Duration?
    /// Called from the compute thread as each token is chosen (greedy and sampling; beam search reports a
    /// beam's tokens when the search ends). Keep it short: the batch waits for it.
    public var onToken: (@Sendable (CaptionStreamEvent) -> Void)?

    public init(images: [[UInt8]], prompt: String? = nil, options: CaptionOptions = CaptionOptions(),
                timeout: Duration? = nil) {
        self.images = images
        self.prompt = prompt
        self.options = options
        self.timeout = timeout
    }
}

/// One captioned image, or its error.
public struct CaptionItem: Sendable {
    public var index: Int
    public var captions: [CaptionModel.Caption] = []
    public var image: ImageInfo?
    public var cached = false
    public var error: EngineError?
}

/// The answer to a `/caption` call.
public struct CaptionResult: Sendable {
    public var model: String
    public var items: [CaptionItem]
    public var timing: RequestTiming
}
