import Blip2
import Dispatch
import Foundation
import ImagePipeline
import Tensors

/// The inference engine: the loaded models, one compute thread, a batching stage per pipeline step (images →
/// vision + Q-Former, texts → text encoder, pairs → ITM, query outputs → caption decoding), the query-token
/// cache with single-flight, admission (429 before any decoding), deadlines (504) and cancellation.
///
/// Every entry point is asynchronous: it returns at once and calls `completion` exactly once, from an engine
/// thread. Image decoding and tokenizing run on a small worker pool before a request joins a batch.
public final class Engine: @unchecked Sendable {
    public let configuration: EngineConfiguration
    public let retrieval: RetrievalModel?
    public let captioner: CaptionModel?
    public let metrics = EngineMetrics()
    /// Query tokens by image: key = SHA-256 of the bytes + model identity + preprocessing.
    public let cache: LRUCache<String, CachedImage>
    let flights = SingleFlight<String, CachedImage>()

    let compute = ComputeThread(name: "tiaoyu.compute")
    let workers: OperationQueue
    private let admissionLock = NSLock()
    private var inFlight = 0
    private var drain = DrainRate()

    var retrievalImages: EngineStage<ImageJob>?
    var captionImages: EngineStage<ImageJob>?
    var texts: EngineStage<TextJob>?
    var matches: EngineStage<MatchJob>?
    var captions: EngineStage<CaptionJob>?

    /// What the cache holds for one image: the decoded size, and the model outputs later requests need.
    public struct CachedImage: Sendable {
        public enum Features: Sendable {
            /// ITC embeddings, query output and vision tokens (for ITM), B = 1.
            case retrieval(Blip2ImageFeatures)
            /// The Q-Former query output [1, Q, C] the caption decoder starts from.
            case caption(Tensor)
        }

        public var features: Features
        public var width: Int
        public var height: Int

        var byteCount: Int {
            switch features {
            case .retrieval(let features): return features.byteCount
            case .caption(let query): return 4 * query.count
            }
        }
    }

    /// Loads each directory by the architecture its `config.json` names: at most one retrieval and one caption
    /// model. Loading is slow (weights are mapped and checked); call it before the server reports ready.
    public convenience init(modelDirectories: [String], configuration: EngineConfiguration = EngineConfiguration())
        throws(ModelLoadError)
    {
        var retrieval: RetrievalModel?
        var captioner: CaptionModel?
        for directory in modelDirectories {
            switch try Self.architecture(of: directory) {
            case Blip2Architecture.imageTextRetrieval.rawValue:
                guard retrieval == nil else {
                    throw ModelLoadError(directory: directory, file: "config.json",
                                         reason: "a second retrieval model; serve one per role")
                }
                retrieval = try RetrievalModel(directory: directory, decodeOptions: configuration.decodeOptions)
            case Blip2Architecture.conditionalGeneration.rawValue:
                guard captioner == nil else {
                    throw ModelLoadError(directory: directory, file: "config.json",
                                         reason: "a second captioning model; serve one per role")
                }
                captioner = try CaptionModel(directory: directory, decodeOptions: configuration.decodeOptions)
            case let other:
                throw ModelLoadError(directory: directory, file: "config.json",
                                     reason: "architecture \(other) is not served (want "
                                        + "Blip2ForImageTextRetrieval or Blip2ForConditionalGeneration)")
            }
        }
        self.init(retrieval: retrieval, captioner: captioner, configuration: configuration)
    }

    /// An engine over already loaded models.
    public init(retrieval: RetrievalModel?, captioner: CaptionModel?,
                configuration: EngineConfiguration = EngineConfiguration()) {
        self.configuration = configuration
        self.retrieval = retrieval
        self.captioner = captioner
        cache = LRUCache(byteBudget: configuration.cacheBytes)
        workers = OperationQueue()
        workers.name = "tiaoyu.preprocess"
        workers.maxConcurrentOperationCount = max(1, configuration.preprocessThreads)
        makeStages()
    }

    /// The first architecture listed in `directory/config.json`.
    static func architecture(of directory: String) throws(ModelLoadError) -> String {
        let url = URL(fileURLWithPath: directory).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ModelLoadError(directory: directory, file: "config.json", reason: "missing or unreadable")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = object["architectures"] as? [Any], let first = list.first as? String
        else {
            throw ModelLoadError(directory: directory, file: "config.json", reason: "no \"architectures\" list")
        }
        return first
    }

    /// Stops the compute thread after the queued batches (tests and shutdown).
    public func shutdown() { compute.stop() }

    /// The name a model is reported under (its directory's last component).
    public static func modelName(_ directory: String) -> String {
        URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
    }

    // MARK: - admission

    /// Admits a request or refuses it (the queue is full) with a `Retry-After` from queue depth and drain rate.
    func admit() -> EngineError? {
        admissionLock.withLock {
            guard inFlight < configuration.requestQueueCapacity else {
                metrics.recordRejected()
                let now = DispatchTime.now().uptimeNanoseconds
                guard let rate = drain.itemsPerSecond(now: now), rate > 0 else {
                    return .overloaded(retryAfterSeconds: 1)
                }
                let seconds = (Double(inFlight) / rate).rounded(.up)
                return .overloaded(retryAfterSeconds: Int(min(60, max(1, seconds))))
            }
            inFlight += 1
            return nil
        }
    }

    func release() {
        let now = DispatchTime.now().uptimeNanoseconds
        admissionLock.withLock {
            inFlight -= 1
            drain.record(1, now: now)
        }
        metrics.recordCompleted()
    }

    /// Requests admitted and not yet answered.
    public var queueDepth: Int { admissionLock.withLock { inFlight } }

    func deadline(_ timeout: Duration?) -> UInt64 {
        let wanted = timeout ?? configuration.defaultTimeout
        let capped = min(wanted, configuration.maxTimeout)
        return DispatchTime.now().uptimeNanoseconds &+ capped.nanosecondCount
    }

    // MARK: - images

    struct ImageJob: Sendable {
        var key: String
        var pixels: Tensor  // [1, 3, S, S]
        var width: Int
        var height: Int
        var cancel: CancelToken
        var timing: TimingRecorder
    }

    /// An image's cached or freshly computed features.
    struct ImageOutcome: Sendable {
        var value: CachedImage
        var info: ImageInfo
        var cached: Bool
    }

    /// Hashes, looks up, and on a miss decodes `bytes` and runs them through `stage` (once per key at a time).
    /// Runs on a worker thread.
    func image(
        _ bytes: [UInt8], identity: String, preprocessor: ImagePreprocessor, stage: EngineStage<ImageJob>?,
        deadline: UInt64, cancel: CancelToken, timing: TimingRecorder,
        completion: @escaping @Sendable (Result<ImageOutcome, EngineError>) -> Void
    ) {
        let started = DispatchTime.now().uptimeNanoseconds
        let sha = SHA256.hex(bytes)
        let key = identity + "|" + sha
        if let hit = cache.value(for: key) {
            timing.cache(hit: true)
            completion(.success(ImageOutcome(
                value: hit, info: ImageInfo(sha256: sha, width: hit.width, height: hit.height), cached: true)))
            return
        }
        timing.cache(hit: false)
        let leads = flights.join(key) { result in
            switch result {
            case .success(let value):
                completion(.success(ImageOutcome(
                    value: value, info: ImageInfo(sha256: sha, width: value.width, height: value.height),
                    cached: false)))
            case .failure(let error):
                completion(.failure(error as? EngineError ?? .internalError("\(error)")))
            }
        }
        guard leads else { return }
        guard let stage else {
            flights.complete(key, with: .failure(EngineError.internalError("no image stage")))
            return
        }
        let job: ImageJob
        do {
            let decoded = try ImageDecoder.decode(bytes, options: preprocessor.options)
            let values = try preprocessor.pixelValues(from: decoded)
            job = ImageJob(
                key: key,
                pixels: Tensor(shape: [1, values.channels, values.height, values.width], scalars: values.values),
                width: decoded.width, height: decoded.height, cancel: cancel, timing: timing)
        } catch let error as ImageError {
            flights.complete(key, with: .failure(EngineError(error)))
            return
        } catch {
            flights.complete(key, with: .failure(EngineError.invalidImage("\(error)")))
            return
        }
        timing.preprocessed(seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        guard DispatchTime.now().uptimeNanoseconds < deadline else {
            metrics.recordExpired()
            flights.complete(key, with: .failure(EngineError.deadlineExceeded))
            return
        }
        if let seconds = stage.submit(job, deadline: deadline, cancel: cancel) {
            metrics.recordRejected()
            flights.complete(key, with: .failure(EngineError.overloaded(retryAfterSeconds: seconds)))
        }
    }

    private func makeStages() {
        let compute = self.compute
        let flights = self.flights
        let cache = self.cache
        let dropImage: @Sendable (ImageJob, EngineError) -> Void = { job, error in
            flights.complete(job.key, with: .failure(error))
        }
        // An image is abandoned only when its leader's client left and no other request coalesced onto it.
        let imageAbandoned: @Sendable (ImageJob) -> Bool = { job in
            job.cancel.isCancelled && flights.waiterCount(job.key) <= 1
        }
        // Both image stages batch the pixels, time, cache and complete the flights the same way; they differ only
        // in what the model computes for a batch (`encode`) and keeps per image (the closure it returns).
        func imageStage(
            name: String, encode: @escaping @Sendable (Tensor) throws -> (Int) -> CachedImage.Features
        ) -> EngineStage<ImageJob> {
            EngineStage(
                name: name, configuration: configuration.imageStage, compute: compute, metrics: metrics,
                isCancelled: imageAbandoned, drop: dropImage
            ) { jobs in
                let started = DispatchTime.now().uptimeNanoseconds
                let pixels = Tensor.concatenate(jobs.map(\.pixels), axis: 0)
                do {
                    let features = try encode(pixels)
                    TimingRecorder.stamp(jobs.map(\.timing), stage: "image", since: started)
                    for (index, job) in jobs.enumerated() {
                        let value = CachedImage(features: features(index), width: job.width, height: job.height)
                        cache.insert(value, for: job.key, cost: value.byteCount)
                        flights.complete(job.key, with: .success(value))
                    }
                } catch {
                    for job in jobs { flights.complete(job.key, with: .failure(EngineError.internalError("\(error)"))) }
                }
            }
        }
        if let retrieval {
            retrievalImages = imageStage(name: "image") { pixels in
                let features = try retrieval.model.encodeImages(pixels)
                return { index in .retrieval(features.image(index)) }
            }
            texts = EngineStage(
                name: "text", configuration: configuration.textStage, compute: compute, metrics: metrics,
                isCancelled: { $0.cancel.isCancelled }, drop: { job, error in job.done(.failure(error)) }
            ) { jobs in
                let started = DispatchTime.now().uptimeNanoseconds
                do {
                    let batch = try Blip2TokenBatch(sequences: jobs.map(\.ids), padID: retrieval.padID)
                    let embeds = try retrieval.model.encodeTexts(batch).textEmbeds.scalars  // [T, D]
                    TimingRecorder.stamp(jobs.map(\.timing), stage: "text", since: started)
                    let d = retrieval.dimension
                    for (index, job) in jobs.enumerated() {
                        job.done(.success(Array(embeds[(index * d)..<((index + 1) * d)])))
                    }
                } catch {
                    for job in jobs { job.done(.failure(.internalError("\(error)"))) }
                }
            }
            matches = EngineStage(
                name: "itm", configuration: configuration.matchStage, compute: compute, metrics: metrics,
                isCancelled: { $0.cancel.isCancelled }, drop: { job, error in job.done(.failure(error)) }
            ) { jobs in Self.runMatches(jobs, model: retrieval) }
        }
        if let captioner {
            captionImages = imageStage(name: "caption_image") { pixels in
                let query = try captioner.model.queryOutput(pixels)  // [B, Q, C]
                return { index in .caption(query.slice(axis: 0, index..<(index + 1))) }
            }
            let metrics = self.metrics
            let maxBatch = configuration.captionStage.maxBatchSize
            // The stage's run needs the stage itself (to take joiners from its queue): a box closes the loop.
            let box = StageBox<CaptionJob>()
            captions = EngineStage(
                name: "caption", configuration: configuration.captionStage, compute: compute, metrics: metrics,
                isCancelled: { $0.cancel.isCancelled }, drop: { job, error in job.done(.failure(error)) }
            ) { jobs in
                Self.runCaptions(jobs, model: captioner, metrics: metrics, maxBatch: maxBatch,
                                 interleave: { compute.runQueued() }) { limit, accept in
                    box.stage?.takeWaiting(limit: limit, where: accept) ?? []
                }
            }
            box.stage = captions
        }
    }

    private static func identity(_ directory: String, _ preprocessor: ImagePreprocessor) -> String {
        "\(directory)|\(preprocessor.config)|\(preprocessor.options)"
    }

    // MARK: - text

    struct TextJob: Sendable {
        var ids: [Int]
        var cancel: CancelToken
        var timing: TimingRecorder
        var done: @Sendable (Result<[Float], EngineError>) -> Void
    }

    // MARK: - ITM

    struct MatchJob: Sendable {
        /// One B = 1 feature set per image.
        var images: [Blip2ImageFeatures]
        var texts: [[Int]]
        var cancel: CancelToken
        var timing: TimingRecorder
        /// P(match), image-major.
        var done: @Sendable (Result<[[Float]], EngineError>) -> Void
    }

    /// One joint pass over every (image, text) pair of every job in the batch.
    static func runMatches(_ jobs: [MatchJob], model: RetrievalModel) {
        var images: [Blip2ImageFeatures] = []
        var sequences: [[Int]] = []
        var pairs: [(image: Int, text: Int)] = []
        for job in jobs {
            let (imageBase, textBase) = (images.count, sequences.count)
            images += job.images
            sequences += job.texts
            for i in job.images.indices { for t in job.texts.indices { pairs.append((imageBase + i, textBase + t)) } }
        }
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let batch = try Blip2TokenBatch(sequences: sequences, padID: model.padID)
            let output = try model.model.match(
                images: Blip2ImageFeatures.concatenate(images), texts: batch, pairs: pairs)
            TimingRecorder.stamp(jobs.map(\.timing), stage: "itm", since: started)
            var offset = 0
            for job in jobs {
                let t = job.texts.count
                var rows: [[Float]] = []
                for _ in job.images {
                    rows.append(Array(output.probabilityMatch[offset..<(offset + t)]))
                    offset += t
                }
                job.done(.success(rows))
            }
        } catch {
            for job in jobs { job.done(.failure(.internalError("\(error)"))) }
        }
    }

    // MARK: - captions

    struct CaptionJob: Sendable {
        var queryOutput: Tensor  // [1, Q, C]
        /// The prompt's OPT ids (BOS first), tokenized before the job joins a batch.
        var promptIDs: [Int]?
        var options: GenerationOptions
        var cancel: CancelToken
        /// Monotonic nanoseconds: decoding stops at the first step boundary past it (504).
        var deadline: UInt64
        var timing: TimingRecorder
        /// Streaming: each chosen token as (sequence, token id).
        var onToken: (@Sendable (_ sequence: Int, _ token: Int) -> Void)?
        var done: @Sendable (Result<[CaptionModel.Caption], EngineError>) -> Void
    }

    /// Caption requests grouped by decoding options (one `generate` call cannot mix them). Greedy and sampled
    /// groups batch continuously: at every step boundary, waiting requests with the same options join the running
    /// decode (up to `maxBatch` images live) and finished ones leave. Beam search runs whole requests per call.
    /// In every mode a request whose client left (cancelled) or whose deadline passed (504) stops at the next step.
    ///
    /// `interleave` runs other stages' queued batches at each boundary (one compute thread runs everything), so
    /// a request whose image arrives mid-decode gets its query tokens and can join.
    static func runCaptions(_ jobs: [CaptionJob], model: CaptionModel, metrics: EngineMetrics, maxBatch: Int,
                            interleave: @escaping () -> Void,
                            takeWaiting: @escaping (Int, (CaptionJob) -> Bool) -> [CaptionJob]) {
        var groups: [(options: GenerationOptions, jobs: [CaptionJob])] = []
        for job in jobs {
            if let index = groups.firstIndex(where: { $0.options == job.options }) {
                groups[index].jobs.append(job)
            } else {
                groups.append((job.options, [job]))
            }
        }
        for group in groups {
            // The jobs of this decode by input index; joiners are appended as they join.
            var running = group.jobs
            var liveInputs = running.count
            // Inputs stopped because their deadline passed mid-decode (answered 504, not cancelled).
            var expired: Set<Int> = []
            let bridge = model.model.languageBridge
            let options = group.options
            let observer = GenerationObserver(
                onToken: { token in running[token.input].onToken?(token.sequence, token.token) },
                onStep: { step in liveInputs = Set(step.rows.map(\.input)).count },
                // A job whose client left or whose deadline passed stops decoding at the next step (beam search
                // included); the others go on.
                shouldStop: { input in
                    if running[input].cancel.isCancelled { return true }
                    guard DispatchTime.now().uptimeNanoseconds >= running[input].deadline else { return false }
                    expired.insert(input)
                    return true
                },
                join: options.numBeams > 1 ? nil : {
                    interleave()
                    let joining = takeWaiting(maxBatch - liveInputs) { $0.options == options }
                    guard !joining.isEmpty else { return [] }
                    do {
                        let ids = try joining.map { job throws(GenerationError) in
                            try bridge.inputIDs(prompt: job.promptIDs)
                        }
                        let query = Tensor.concatenate(joining.map(\.queryOutput), axis: 0)
                        let inputs = try bridge.inputs(
                            ids: ids, projected: bridge.project(query), decoder: model.model.languageModel.decoder)
                        running += joining
                        liveInputs += joining.count
                        metrics.recordJoined(joining.count)
                        return inputs
                    } catch {
                        for job in joining { job.done(.failure(.internalError("\(error)"))) }
                        return []
                    }
                })
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                let query = Tensor.concatenate(group.jobs.map(\.queryOutput), axis: 0)
                let output = try model.model.generate(
                    queryOutput: query, prompts: group.jobs.map(\.promptIDs), options: options, observer: observer)
                let results = model.captions(from: output, options: options)
                TimingRecorder.stamp(running.map(\.timing), stage: "caption", since: started)
                for (input, (job, captions)) in zip(running, results).enumerated() {
                    metrics.recordGenerated(captions.reduce(0) { $0 + $1.tokenIDs.count })
                    if job.cancel.isCancelled {
                        metrics.recordCancelled()
                        job.done(.failure(.cancelled))
                    } else if expired.contains(input) {
                        metrics.recordExpired()
                        job.done(.failure(.deadlineExceeded))
                    } else {
                        job.done(.success(captions))
                    }
                }
            } catch {
                for job in running { job.done(.failure(.internalError("\(error)"))) }
            }
        }
    }
}

/// A weak reference to a stage, set once after the stage is built.
final class StageBox<Item: Sendable>: @unchecked Sendable {
    weak var stage: EngineStage<Item>?
}

/// Collects a request's timing from several threads.
final class TimingRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var timing = RequestTiming()
    let started = DispatchTime.now().uptimeNanoseconds

    func cache(hit: Bool) { lock.withLock { if hit { timing.cacheHits += 1 } else { timing.cacheMisses += 1 } } }
    func preprocessed(seconds: Double) { lock.withLock { timing.preprocessSeconds += seconds } }
    /// This request's work ran `seconds` in a batch of `size` in `stage`.
    func ran(stage: String, seconds: Double, batch size: Int) {
        lock.withLock {
            timing.batchSize = max(timing.batchSize, size)
            timing.stageSeconds[stage, default: 0] += seconds
        }
    }

    /// Stamps every job's recorder with the batch that ran from `started` until now.
    static func stamp(_ recorders: [TimingRecorder], stage: String, since started: UInt64) {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        for recorder in recorders { recorder.ran(stage: stage, seconds: seconds, batch: recorders.count) }
    }

    var finished: RequestTiming {
        lock.withLock {
            var out = timing
            out.totalSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            return out
        }
    }
}

/// Gathers `count` results from any threads and calls `done` once, with them in order.
final class Gather<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Value?]
    private var remaining: Int
    private let done: @Sendable ([Value]) -> Void

    init(count: Int, done: @escaping @Sendable ([Value]) -> Void) {
        values = Array(repeating: nil, count: count)
        remaining = count
        self.done = done
        if count == 0 { done([]) }
    }

    func set(_ index: Int, _ value: Value) {
        let finished: [Value]? = lock.withLock {
            guard values.indices.contains(index), values[index] == nil else { return nil }
            values[index] = value
            remaining -= 1
            return remaining == 0 ? values.compactMap { $0 } : nil
        }
        if let finished { done(finished) }
    }
}

extension Engine {
    /// Items waiting for a batch, by stage (`image`, `caption_image`, `text`, `itm`, `caption`).
    public var stageQueueDepths: [String: Int] {
        var out: [String: Int] = [:]
        for stage in [retrievalImages, captionImages].compactMap({ $0 }) { out[stage.name] = stage.queueDepth }
        if let texts { out[texts.name] = texts.queueDepth }
        if let matches { out[matches.name] = matches.queueDepth }
        if let captions { out[captions.name] = captions.queueDepth }
        return out
    }

    /// Images that waited on an identical image's computation instead of repeating it.
    public var coalesced: Int { flights.coalesced }
}

extension Engine {
    /// Runs one small batch through every loaded model on the compute thread (first-touch of the weights, BLAS
    /// buffers), then calls `completion`; `/readyz` should report ready only after it.
    public func warmUp(completion: @escaping @Sendable (Result<Void, EngineError>) -> Void) {
        let (retrieval, captioner) = (self.retrieval, self.captioner)
        compute.submit {
            do {
                if let retrieval {
                    let size = retrieval.preprocessor.config.size
                    _ = try retrieval.model.encodeImages(Tensor(zeros: [1, 3, size.height, size.width]))
                    let batch = try Blip2TokenBatch(
                        sequences: [try retrieval.textIDs("warm up")], padID: retrieval.padID)
                    _ = try retrieval.model.encodeTexts(batch)
                }
                if let captioner {
                    let size = captioner.preprocessor.config.size
                    var options = captioner.model.defaultOptions(promptLength: 1)
                    options.maxNewTokens = 1
                    options.minNewTokens = 0
                    options.numBeams = 1
                    options.numReturnSequences = 1
                    _ = try captioner.caption(pixels: Tensor(zeros: [1, 3, size.height, size.width]), prompts: [nil],
                                              options: options)
                }
                completion(.success(()))
            } catch {
                completion(.failure(.internalError("warm-up failed: \(error)")))
            }
        }
    }
}
