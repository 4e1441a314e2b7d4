import ArgumentParser
import Foundation
import Inference

/// The inference engine's knobs for `tiaoyu serve`, each with a `TIAOYU_*` twin (the flag wins).
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong("model"), help: ArgumentHelp(
        "A model directory to serve; repeatable. Blip2ForConditionalGeneration serves /caption, "
            + "Blip2ForImageTextRetrieval serves /embed and /match. [TIAOYU_MODEL, comma-separated; "
            + "default: the embedded shapes model]"))
    var models: [String] = []
    @Option(help: "Images per vision + Q-Former batch. [TIAOYU_IMAGE_BATCH_SIZE, 8]")
    var imageBatchSize: Int?
    @Option(help: "Milliseconds the oldest image waits for companions. [TIAOYU_IMAGE_BATCH_WAIT_MS, 5]")
    var imageBatchWaitMs: Int?
    @Option(help: "Texts per text-encoder batch. [TIAOYU_TEXT_BATCH_SIZE, 32]")
    var textBatchSize: Int?
    @Option(help: "Milliseconds the oldest text waits for companions. [TIAOYU_TEXT_BATCH_WAIT_MS, 5]")
    var textBatchWaitMs: Int?
    @Option(help: "Image-text pairs per ITM batch. [TIAOYU_MATCH_BATCH_SIZE, 64]")
    var matchBatchSize: Int?
    @Option(help: "Milliseconds the oldest pair waits for companions. [TIAOYU_MATCH_BATCH_WAIT_MS, 5]")
    var matchBatchWaitMs: Int?
    @Option(help: "Sequences decoded together. [TIAOYU_CAPTION_BATCH_SIZE, 8]")
    var captionBatchSize: Int?
    @Option(help: "Milliseconds the oldest caption waits for companions. [TIAOYU_CAPTION_BATCH_WAIT_MS, 10]")
    var captionBatchWaitMs: Int?
    @Option(help: "Requests waiting per stage before 429. [TIAOYU_STAGE_QUEUE_CAPACITY, 1024]")
    var stageQueueCapacity: Int?
    @Option(help: "Requests admitted at once before 429. [TIAOYU_QUEUE_CAPACITY, 256]")
    var queueCapacity: Int?
    @Option(help: "Bytes of query tokens cached per model. [TIAOYU_CACHE_BYTES, 268435456]")
    var cacheBytes: Int?
    @Option(help: "Seconds a request may wait and compute unless it asks otherwise (504). [TIAOYU_TIMEOUT, 60]")
    var timeout: Double?
    @Option(help: "Largest timeout_ms a request may ask for, in seconds. [TIAOYU_MAX_TIMEOUT, 600]")
    var maxTimeout: Double?
    @Option(help: "Threads decoding images and tokenizing. [TIAOYU_PREPROCESS_THREADS, 2]")
    var preprocessThreads: Int?
    @Option(help: "Images or texts in one request (413 above). [TIAOYU_MAX_ITEMS_PER_REQUEST, 32]")
    var maxItemsPerRequest: Int?
    @Option(help: "Characters in one text or prompt. [TIAOYU_MAX_TEXT_CHARACTERS, 4096]")
    var maxTextCharacters: Int?
    @Option(help: "Pixels in one decoded image, checked before decoding. [TIAOYU_MAX_IMAGE_PIXELS, 40000000]")
    var maxImagePixels: Int?
    @Option(help: "Longest image side in pixels. [TIAOYU_MAX_IMAGE_SIDE, 16384]")
    var maxImageSide: Int?

    /// The model directories to serve: flags, else `TIAOYU_MODEL`, else the embedded default model.
    func modelDirectories(_ settings: Settings) throws -> [String] {
        if !models.isEmpty { return models }
        if let listed = settings.environment["TIAOYU_MODEL"], !listed.isEmpty {
            return listed.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        let embedded = [DefaultModel.captionName, DefaultModel.retrievalName].compactMap(
            ResourceLocator.defaultModelDirectory)
        guard embedded.count == 2 else {
            throw ValidationError("the embedded default model was not found; pass --model DIR (or TIAOYU_MODEL)")
        }
        return embedded
    }

    func configuration(_ settings: Settings) throws -> EngineConfiguration {
        var c = EngineConfiguration()
        func stage(_ base: EngineConfiguration.Stage, size: Int?, sizeName: String, wait: Int?, waitName: String)
            throws -> EngineConfiguration.Stage
        {
            var stage = base
            stage.maxBatchSize = try settings.value(size, sizeName, default: base.maxBatchSize, in: 1...1024)
            let waitMs = try settings.value(wait, waitName, default: Int(base.maxBatchWait / .milliseconds(1)),
                                            in: 0...60_000)
            stage.maxBatchWait = .milliseconds(waitMs)
            stage.queueCapacity = try settings.value(
                stageQueueCapacity, "TIAOYU_STAGE_QUEUE_CAPACITY", default: base.queueCapacity, in: 1...1_000_000)
            return stage
        }
        c.imageStage = try stage(c.imageStage, size: imageBatchSize, sizeName: "TIAOYU_IMAGE_BATCH_SIZE",
                                 wait: imageBatchWaitMs, waitName: "TIAOYU_IMAGE_BATCH_WAIT_MS")
        c.textStage = try stage(c.textStage, size: textBatchSize, sizeName: "TIAOYU_TEXT_BATCH_SIZE",
                                wait: textBatchWaitMs, waitName: "TIAOYU_TEXT_BATCH_WAIT_MS")
        c.matchStage = try stage(c.matchStage, size: matchBatchSize, sizeName: "TIAOYU_MATCH_BATCH_SIZE",
                                 wait: matchBatchWaitMs, waitName: "TIAOYU_MATCH_BATCH_WAIT_MS")
        c.captionStage = try stage(c.captionStage, size: captionBatchSize, sizeName: "TIAOYU_CAPTION_BATCH_SIZE",
                                   wait: captionBatchWaitMs, waitName: "TIAOYU_CAPTION_BATCH_WAIT_MS")
        c.requestQueueCapacity = try settings.value(
            queueCapacity, "TIAOYU_QUEUE_CAPACITY", default: c.requestQueueCapacity, in: 1...1_000_000)
        c.cacheBytes = try settings.value(cacheBytes, "TIAOYU_CACHE_BYTES", default: c.cacheBytes, in: 0...(1 << 40))
        c.defaultTimeout = try settings.seconds(timeout, "TIAOYU_TIMEOUT", default: c.defaultTimeout)
        c.maxTimeout = try settings.seconds(maxTimeout, "TIAOYU_MAX_TIMEOUT", default: c.maxTimeout)
        c.preprocessThreads = try settings.value(
            preprocessThreads, "TIAOYU_PREPROCESS_THREADS", default: c.preprocessThreads, in: 1...64)
        c.maxItemsPerRequest = try settings.value(
            maxItemsPerRequest, "TIAOYU_MAX_ITEMS_PER_REQUEST", default: c.maxItemsPerRequest, in: 1...10_000)
        c.maxTextCharacters = try settings.value(
            maxTextCharacters, "TIAOYU_MAX_TEXT_CHARACTERS", default: c.maxTextCharacters, in: 1...1_000_000)
        c.decodeOptions.maxPixels = try settings.value(
            maxImagePixels, "TIAOYU_MAX_IMAGE_PIXELS", default: c.decodeOptions.maxPixels, in: 1...1_000_000_000)
        c.decodeOptions.maxDimension = try settings.value(
            maxImageSide, "TIAOYU_MAX_IMAGE_SIDE", default: c.decodeOptions.maxDimension, in: 1...1_000_000)
        return c
    }
}
