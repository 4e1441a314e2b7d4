import Blip2
import Dispatch
import Foundation
import Tensors

// The three request flows. Each: admission (429 before any decoding), then per item on the worker pool
// (hash → cache → decode → image stage; tokenize → text stage), then the ITM or caption stage, then one answer.
extension Engine {
    /// Embeds images (pooled or per query token) and texts ([CLS] projection) with the retrieval model.
    public func embed(_ request: EmbedRequest, cancel: CancelToken,
                      completion: @escaping @Sendable (Result<EmbedResult, EngineError>) -> Void) {
        guard let retrieval else {
            return completion(.failure(.modelNotLoaded("no retrieval model (Blip2ForImageTextRetrieval) is loaded")))
        }
        if let error = check(count: request.inputs.count) { return completion(.failure(error)) }
        if let error = admit() { return completion(.failure(error)) }
        let deadline = deadline(request.timeout)
        let timing = TimingRecorder()
        let model = Self.modelName(retrieval.directory)
        let gather = Gather<EmbedItem>(count: request.inputs.count) { [self] items in
            release()
            if cancel.isCancelled { return completion(.failure(.cancelled)) }
            if let error = Self.wholeRequestError(items.map(\.error)) { return completion(.failure(error)) }
            completion(.success(EmbedResult(
                model: model, dimension: retrieval.dimension, items: items, timing: timing.finished)))
        }
        let identity = "\(retrieval.directory)|retrieval|\(retrieval.preprocessor.config)"
        for (index, input) in request.inputs.enumerated() {
            switch input {
            case .image(let bytes):
                workers.addOperation { [self] in
                    image(bytes, identity: identity, preprocessor: retrieval.preprocessor, stage: retrievalImages,
                          deadline: deadline, cancel: cancel, timing: timing) { result in
                        var item = EmbedItem(index: index, modality: "image")
                        switch result {
                        case .success(let outcome):
                            guard case .retrieval(let features) = outcome.value.features else { return }
                            let rows = Self.rows(features.imageEmbeds)  // Q rows of D
                            item.embedding = request.granularity == .tokens ? rows : [Self.pooled(rows)]
                            item.cached = outcome.cached
                            item.image = outcome.info
                        case .failure(let error):
                            item.error = error
                        }
                        gather.set(index, item)
                    }
                }
            case .text(let text):
                workers.addOperation { [self] in
                    var item = EmbedItem(index: index, modality: "text")
                    let ids: [Int]
                    do throws(EngineError) {
                        ids = try textIDs(text, retrieval: retrieval)
                    } catch {
                        item.error = error
                        return gather.set(index, item)
                    }
                    item.tokenCount = ids.count
                    let base = item
                    embedText(ids: ids, deadline: deadline, cancel: cancel, timing: timing) { result in
                        var item = base
                        switch result {
                        case .success(let vector): item.embedding = [vector]
                        case .failure(let error): item.error = error
                        }
                        gather.set(index, item)
                    }
                }
            }
        }
    }

    /// Scores every image against every text: ITM probabilities and/or ITC similarities.
    public func match(_ request: MatchRequest, cancel: CancelToken,
                      completion: @escaping @Sendable (Result<MatchResult, EngineError>) -> Void) {
        guard let retrieval else {
            return completion(.failure(.modelNotLoaded("no retrieval model (Blip2ForImageTextRetrieval) is loaded")))
        }
        guard !request.images.isEmpty, !request.texts.isEmpty else {
            return completion(.failure(.invalidRequest("match needs at least one image and one text")))
        }
        guard request.itm || request.itc else {
            return completion(.failure(.invalidRequest("scores must name \"itm\", \"itc\" or both")))
        }
        if let error = check(count: request.images.count + request.texts.count) { return completion(.failure(error)) }
        if let error = admit() { return completion(.failure(error)) }
        let deadline = deadline(request.timeout)
        let timing = TimingRecorder()
        let model = Self.modelName(retrieval.directory)
        let finish: @Sendable (Result<MatchResult, EngineError>) -> Void = { [self] result in
            release()
            completion(cancel.isCancelled ? .failure(.cancelled) : result)
        }
        let identity = "\(retrieval.directory)|retrieval|\(retrieval.preprocessor.config)"
        let imageCount = request.images.count
        // Every image and every text first; then ITC here and ITM in its stage.
        let gather = Gather<Result<Part, EngineError>>(count: imageCount + request.texts.count) { [self] parts in
            // A bad image is a per-image error (its rows are absent); a bad text or an overload fails the call.
            var features: [Blip2ImageFeatures?] = []
            var infos: [ImageInfo?] = []
            var cached: [Bool] = []
            var errors: [EngineError?] = []
            var textIDs: [[Int]] = []
            var textEmbeds: [[Float]] = []
            for (index, part) in parts.enumerated() {
                switch part {
                case .failure(let error) where index < imageCount:
                    if Self.isRequestWide(error) { return finish(.failure(error)) }
                    features.append(nil)
                    infos.append(nil)
                    cached.append(false)
                    errors.append(error)
                case .failure(let error):
                    return finish(.failure(error))
                case .success(.image(let outcome)):
                    guard case .retrieval(let f) = outcome.value.features else {
                        return finish(.failure(.internalError("cached features of the wrong model")))
                    }
                    features.append(f)
                    infos.append(outcome.info)
                    cached.append(outcome.cached)
                    errors.append(nil)
                case .success(.text(let ids, let embed)):
                    textIDs.append(ids)
                    textEmbeds.append(embed)
                }
            }
            if let first = errors.first, errors.allSatisfy({ $0 != nil }) {
                return finish(.failure(first ?? .internalError("no image succeeded")))
            }
            let itc = request.itc
                ? features.map { f in f.map { f in textEmbeds.map { Self.maxCosine(f.imageEmbeds, $0) } } } : nil
            let result = MatchResult(model: model, itm: nil, itc: itc, images: infos, cached: cached, errors: errors,
                                     timing: timing.finished)
            guard request.itm else { return finish(.success(result)) }
            guard let stage = matches else { return finish(.failure(.internalError("no ITM stage"))) }
            let good = features.compactMap { $0 }
            let present = features.map { $0 != nil }
            let job = MatchJob(images: good, texts: textIDs, cancel: cancel, timing: timing) { outcome in
                switch outcome {
                case .success(let rows):
                    var result = result
                    var next = rows.makeIterator()
                    result.itm = present.map { $0 ? next.next() : nil }
                    result.timing = timing.finished
                    finish(.success(result))
                case .failure(let error):
                    finish(.failure(error))
                }
            }
            if let seconds = stage.submit(job, deadline: deadline, cancel: cancel) {
                metrics.recordRejected()
                finish(.failure(.overloaded(retryAfterSeconds: seconds)))
            }
        }
        for (index, bytes) in request.images.enumerated() {
            workers.addOperation { [self] in
                image(bytes, identity: identity, preprocessor: retrieval.preprocessor, stage: retrievalImages,
                      deadline: deadline, cancel: cancel, timing: timing) { result in
                    gather.set(index, result.map { .image($0) })
                }
            }
        }
        for (index, text) in request.texts.enumerated() {
            workers.addOperation { [self] in
                let ids: [Int]
                do throws(EngineError) {
                    ids = try textIDs(text, retrieval: retrieval)
                } catch {
                    return gather.set(imageCount + index, .failure(error))
                }
                guard request.itc else { return gather.set(imageCount + index, .success(.text(ids, []))) }
                embedText(ids: ids, deadline: deadline, cancel: cancel, timing: timing) { result in
                    gather.set(imageCount + index, result.map { .text(ids, $0) })
                }
            }
        }
    }

    /// Captions each image with the captioning model; a bad image is a per-item error.
    public func caption(_ request: CaptionRequest, cancel: CancelToken,
                        completion: @escaping @Sendable (Result<CaptionResult, EngineError>) -> Void) {
        guard let captioner else {
            return completion(.failure(.modelNotLoaded(
                "no captioning model (Blip2ForConditionalGeneration) is loaded")))
        }
        if let error = check(count: request.images.count) { return completion(.failure(error)) }
        guard !request.images.isEmpty else { return completion(.failure(.invalidRequest("no image given"))) }
        let options: GenerationOptions
        let promptIDs: [Int]?
        do {
            (options, promptIDs) = try captionOptions(request, model: captioner)
        } catch {
            return completion(.failure(error))
        }
        if let error = admit() { return completion(.failure(error)) }
        let deadline = deadline(request.timeout)
        let timing = TimingRecorder()
        let model = Self.modelName(captioner.directory)
        let gather = Gather<CaptionItem>(count: request.images.count) { [self] items in
            release()
            if cancel.isCancelled { return completion(.failure(.cancelled)) }
            if let error = Self.wholeRequestError(items.map(\.error)) { return completion(.failure(error)) }
            completion(.success(CaptionResult(model: model, items: items, timing: timing.finished)))
        }
        let identity = "\(captioner.directory)|caption|\(captioner.preprocessor.config)"
        for (index, bytes) in request.images.enumerated() {
            workers.addOperation { [self] in
                image(bytes, identity: identity, preprocessor: captioner.preprocessor, stage: captionImages,
                      deadline: deadline, cancel: cancel, timing: timing) { [self] result in
                    var item = CaptionItem(index: index)
                    switch result {
                    case .failure(let error):
                        item.error = error
                        return gather.set(index, item)
                    case .success(let outcome):
                        item.image = outcome.info
                        item.cached = outcome.cached
                        guard case .caption(let query) = outcome.value.features, let stage = captions else {
                            item.error = .internalError("cached features of the wrong model")
                            return gather.set(index, item)
                        }
                        let base = item
                        let stream = request.onToken.map { onToken in
                            CaptionStream(index: index, tokenizer: captioner, onToken: onToken)
                        }
                        let job = CaptionJob(queryOutput: query, promptIDs: promptIDs, options: options,
                                             cancel: cancel, deadline: deadline, timing: timing,
                                             onToken: stream.map { $0.token }) { captions in
                            var item = base
                            switch captions {
                            case .success(let captions): item.captions = captions
                            case .failure(let error): item.error = error
                            }
                            gather.set(index, item)
                        }
                        if let seconds = stage.submit(job, deadline: deadline, cancel: cancel) {
                            metrics.recordRejected()
                            item.error = .overloaded(retryAfterSeconds: seconds)
                            gather.set(index, item)
                        }
                    }
                }
            }
        }
    }

    // MARK: - helpers

    /// Turns one image's token stream into text deltas: each sequence's ids so far are decoded whole and the
    /// new suffix is sent (byte-level BPE can split a character over tokens, so per-token decoding would not do).
    final class CaptionStream: @unchecked Sendable {
        let index: Int
        let captioner: CaptionModel
        let onToken: @Sendable (CaptionStreamEvent) -> Void
        private var tokens: [Int: [Int]] = [:]
        private var texts: [Int: String] = [:]

        init(index: Int, tokenizer: CaptionModel, onToken: @escaping @Sendable (CaptionStreamEvent) -> Void) {
            self.index = index
            self.captioner = tokenizer
            self.onToken = onToken
        }

        /// On the compute thread only (so no lock).
        func token(_ sequence: Int, _ id: Int) {
            tokens[sequence, default: []].append(id)
            let text = captioner.tokenizer.decode(tokens[sequence] ?? [], skipSpecialTokens: true)
            let previous = texts[sequence] ?? ""
            // A trailing U+FFFD is a character whose bytes have not all arrived: hold it back until they have.
            var delta = ""
            if !text.hasSuffix("\u{FFFD}"), text.hasPrefix(previous) {
                delta = String(text.dropFirst(previous.count))
                texts[sequence] = text
            }
            onToken(CaptionStreamEvent(index: index, sequence: sequence, tokenID: id, delta: delta))
        }
    }

    enum Part: Sendable {
        case image(ImageOutcome)
        case text([Int], [Float])
    }

    /// Errors that concern the whole call, not one item: the client left, the queue is full, time ran out.
    static func isRequestWide(_ error: EngineError) -> Bool {
        switch error {
        case .cancelled, .overloaded, .deadlineExceeded: return true
        default: return false
        }
    }

    private func check(count: Int) -> EngineError? {
        count > configuration.maxItemsPerRequest
            ? .tooLarge("\(count) items in one request, more than the limit of \(configuration.maxItemsPerRequest)")
            : nil
    }

    /// When every item failed, the request fails with the first item's error (so one bad image is a 4xx);
    /// cancellation and overload always fail the whole request.
    static func wholeRequestError(_ errors: [EngineError?]) -> EngineError? {
        if let wide = errors.compactMap({ $0 }).first(where: isRequestWide) { return wide }
        guard !errors.isEmpty, errors.allSatisfy({ $0 != nil }) else { return nil }
        return errors.first ?? nil
    }

    /// Token ids of a text, refused when too long in characters (before tokenizing) or tokens.
    private func textIDs(_ text: String, retrieval: RetrievalModel) throws(EngineError) -> [Int] {
        guard text.count <= configuration.maxTextCharacters else {
            throw .tooLarge("text has \(text.count) characters, more than the limit of "
                + "\(configuration.maxTextCharacters)")
        }
        return try retrieval.textIDs(text)
    }

    private func embedText(ids: [Int], deadline: UInt64, cancel: CancelToken, timing: TimingRecorder,
                           completion: @escaping @Sendable (Result<[Float], EngineError>) -> Void) {
        guard let stage = texts else { return completion(.failure(.internalError("no text stage"))) }
        let job = TextJob(ids: ids, cancel: cancel, timing: timing, done: completion)
        if let seconds = stage.submit(job, deadline: deadline, cancel: cancel) {
            metrics.recordRejected()
            completion(.failure(.overloaded(retryAfterSeconds: seconds)))
        }
    }

    /// The checkpoint's defaults with the request's overrides, validated.
    private func captionOptions(_ request: CaptionRequest, model: CaptionModel) throws(EngineError)
        -> (options: GenerationOptions, promptIDs: [Int]?)
    {
        var promptLength = 1  // BOS alone when there is no prompt
        var promptIDs: [Int]?
        if let prompt = request.prompt {
            guard prompt.count <= configuration.maxTextCharacters else {
                throw .tooLarge("prompt is longer than \(configuration.maxTextCharacters) characters")
            }
            do {
                promptIDs = try model.promptIDs(prompt)
                promptLength = promptIDs?.count ?? 1
            } catch {
                throw .invalidRequest("cannot tokenize the prompt: \(error)")
            }
        }
        var options = model.model.defaultOptions(promptLength: promptLength)
        let o = request.options
        if let v = o.maxNewTokens { options.maxNewTokens = v }
        if let v = o.minNewTokens { options.minNewTokens = v }
        if let v = o.numBeams { options.numBeams = v }
        if let v = o.lengthPenalty { options.lengthPenalty = v }
        if let v = o.repetitionPenalty { options.repetitionPenalty = v }
        if let v = o.noRepeatNgramSize { options.noRepeatNgramSize = v }
        if let v = o.doSample { options.doSample = v }
        if let v = o.temperature { options.temperature = v }
        if let v = o.topK { options.topK = v }
        if let v = o.topP { options.topP = v }
        if let v = o.numCaptions { options.numReturnSequences = v }
        if let v = o.seed { options.seed = v }
        do {
            try options.validate(vocabSize: model.model.textConfig.vocabSize)
        } catch {
            throw .invalidRequest("\(error)")
        }
        return (options, promptIDs)
    }

    /// [1, Q, D] → Q rows of D.
    static func rows(_ embeds: Tensor) -> [[Float]] {
        let d = embeds.shape[embeds.rank - 1]
        let all = embeds.scalars
        return stride(from: 0, to: all.count, by: d).map { Array(all[$0..<($0 + d)]) }
    }

    /// The mean of unit rows, renormalised to unit length.
    static func pooled(_ rows: [[Float]]) -> [Float] {
        guard let width = rows.first?.count else { return [] }
        var sum = [Double](repeating: 0, count: width)
        for row in rows { for (j, v) in row.enumerated() { sum[j] += Double(v) } }
        let norm = max(sum.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        return sum.map { Float($0 / norm) }
    }

    /// ITC: the largest cosine between `text` [D] and any query row of `imageEmbeds` [1, Q, D] (all unit).
    static func maxCosine(_ imageEmbeds: Tensor, _ text: [Float]) -> Float {
        rows(imageEmbeds).map { row in zip(row, text).reduce(Float(0)) { $0 + $1.0 * $1.1 } }.max() ?? 0
    }
}
