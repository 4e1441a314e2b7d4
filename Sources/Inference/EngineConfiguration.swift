import ImagePipeline

/// Every knob of the inference engine, with the defaults `tiaoyu serve` uses. The executable maps each to a flag
/// and a `TIAOYU_*` variable; `/info` shows the effective values.
public struct EngineConfiguration: Sendable, Equatable {
    /// Batching of one pipeline stage.
    public struct Stage: Sendable, Equatable {
        /// Most items in one forward pass.
        public var maxBatchSize: Int
        /// Longest an item waits for companions, counted from the oldest waiting item.
        public var maxBatchWait: Duration
        /// Items waiting in this stage beyond which new ones are refused (429).
        public var queueCapacity: Int

        public init(maxBatchSize: Int, maxBatchWait: Duration, queueCapacity: Int = 1024) {
            self.maxBatchSize = max(1, maxBatchSize)
            self.maxBatchWait = maxBatchWait
            self.queueCapacity = max(1, queueCapacity)
        }
    }

    /// Vision tower + Q-Former over a batch of images. 8 images of 224² keep one batch under a second on two
    /// cores for ViT-g while amortising the weight reads.
    public var imageStage = Stage(maxBatchSize: 8, maxBatchWait: .milliseconds(5))
    /// The Q-Former's text face (ITC text embeddings): cheap, so wider batches.
    public var textStage = Stage(maxBatchSize: 32, maxBatchWait: .milliseconds(5))
    /// The joint ITM pass: one row per (image, text) pair.
    public var matchStage = Stage(maxBatchSize: 64, maxBatchWait: .milliseconds(5))
    /// Caption decoding: images decoding at once. Greedy and sampled requests join a running decode at step
    /// boundaries up to `maxBatchSize`; beam search runs whole requests per call.
    public var captionStage = Stage(maxBatchSize: 8, maxBatchWait: .milliseconds(10))
    /// Requests admitted and not yet answered; beyond it a request gets 429 before its images are decoded.
    public var requestQueueCapacity = 256
    /// Query-token cache budget in bytes (0 disables the cache). 256 MiB holds about 150 ViT-g images with their
    /// vision tokens, or thousands of caption query outputs.
    public var cacheBytes = 256 << 20
    /// Deadline of a request that sets no `timeout_ms`.
    public var defaultTimeout: Duration = .seconds(60)
    /// Largest `timeout_ms` a request may ask for, so a client cannot pin queue slots for hours.
    public var maxTimeout: Duration = .seconds(600)
    /// Threads that decode images and tokenize text before admission to a batch (never the HTTP queues).
    public var preprocessThreads = 2
    /// Images plus texts in one request; more is 413.
    public var maxItemsPerRequest = 32
    /// Longest text in characters; more is 400 (the Q-Former truncates at its position limit anyway).
    public var maxTextCharacters = 4096
    /// Image decoding limits (pixels, side length, PNG chunks).
    public var decodeOptions = DecodeOptions()

    public init() {}
}
