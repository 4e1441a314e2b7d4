import Foundation
import HTTP1
import HTTPServer
import Inference

/// The request decoding and response shapes of each route.
enum Endpoints {
    // MARK: /embed

    static let embedKinds: [String: APIRequest.FieldKind] = [
        "granularity": .string, "encoding_format": .string, "timeout_ms": .int,
    ]

    static func embed(_ request: HTTPServerRequest, responder: HTTPResponder, engine: Engine) throws(APIError) {
        let body = try APIRequest(request, kinds: embedKinds)
        let fields = try JSONFields(body.fields, path: "", allowed: ["inputs", "granularity", "encoding_format",
                                                                     "timeout_ms"])
        var inputs: [EmbedInput] = body.images.map { .image($0) } + body.texts.map { .text($0) }
        if let list = try fields.array("inputs") {
            guard body.isJSON else { throw .badField("inputs", "is only read from a JSON body") }
            for (index, value) in list.enumerated() {
                let path = "inputs[\(index)]"
                let item = try JSONFields(value, path: path, allowed: ["image", "text"])
                switch (item.value("image"), try item.string("text")) {
                case (let image?, nil): inputs.append(.image(try APIRequest.imageBytes(image, path: path + ".image")))
                case (nil, let text?): inputs.append(.text(text))
                default: throw .badField(path, "must have exactly one of \"image\" and \"text\"")
                }
            }
        }
        guard !inputs.isEmpty else { throw .badRequest("no inputs: give images and/or texts") }
        let granularity = try fields.string("granularity") ?? "pooled"
        guard let grain = EmbedRequest.Granularity(rawValue: granularity) else {
            throw .badField("granularity", "must be \"pooled\" or \"tokens\"")
        }
        let encoding = try fields.string("encoding_format") ?? "float"
        guard encoding == "float" || encoding == "base64" else {
            throw .badField("encoding_format", "must be \"float\" or \"base64\"")
        }
        let embedRequest = EmbedRequest(inputs: inputs, granularity: grain, timeout: try APIRequest.timeout(fields))
        engine.embed(embedRequest, cancel: API.cancelToken(responder)) { result in
            API.reply(responder, result, timing: \.timing) { value in
                .json(200, embedJSON(value, granularity: grain, base64: encoding == "base64").bytes)
            }
        }
    }

    static func embedJSON(_ result: EmbedResult, granularity: EmbedRequest.Granularity, base64: Bool) -> JSON {
        func vector(_ v: [Float]) -> JSON { base64 ? .string(encode(v)) : .array(v.map { .float($0) }) }
        let data: [JSON] = result.items.map { item in
            var fields: [(String, JSON)] = [("index", .int(item.index)), ("modality", .string(item.modality))]
            if let error = item.error {
                fields.append(("error", APIError(error).itemJSON))
                return .object(fields)
            }
            let tokens = granularity == .tokens && item.modality == "image"
            fields.append(("embedding", tokens ? .array(item.embedding.map(vector))
                                               : vector(item.embedding.first ?? [])))
            fields.append(("cached", .bool(item.cached)))
            if let image = item.image { fields.append(("image", imageJSON(image))) }
            return .object(fields)
        }
        return .object([("object", .string("list")), ("model", .string(result.model)),
                        ("dim", .int(result.dimension)), ("normalized", .bool(true)), ("data", .array(data))])
    }

    /// Little-endian float32 bytes in base64 (what OpenAI clients decode for `encoding_format: base64`).
    static func encode(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        return Data(bytes).base64EncodedString()
    }

    static func imageJSON(_ image: ImageInfo) -> JSON {
        .object([("sha256", .string(image.sha256)), ("width", .int(image.width)), ("height", .int(image.height))])
    }

    // MARK: /match

    static let matchKinds: [String: APIRequest.FieldKind] = ["scores": .stringList, "top_k": .int, "timeout_ms": .int]

    static func match(_ request: HTTPServerRequest, responder: HTTPResponder, engine: Engine) throws(APIError) {
        let body = try APIRequest(request, kinds: matchKinds)
        let fields = try JSONFields(body.fields, path: "", allowed: ["images", "texts", "scores", "top_k",
                                                                     "timeout_ms"])
        var images = body.images
        var texts = body.texts
        if let list = try fields.array("images") {
            for (index, value) in list.enumerated() {
                images.append(try APIRequest.imageBytes(value, path: "images[\(index)]"))
            }
        }
        if let list = try fields.array("texts") {
            for (index, value) in list.enumerated() {
                guard case .string(let text) = value else { throw .badField("texts[\(index)]", "must be a string") }
                texts.append(text)
            }
        }
        guard !images.isEmpty else { throw .badRequest("no images: /match needs at least one image") }
        guard !texts.isEmpty else { throw .badRequest("no texts: /match needs at least one text") }
        var scores: Set<String> = ["itm", "itc"]
        if let list = try fields.array("scores") {
            scores = []
            for (index, value) in list.enumerated() {
                guard case .string(let name) = value, name == "itm" || name == "itc" else {
                    throw .badField("scores[\(index)]", "must be \"itm\" or \"itc\"")
                }
                scores.insert(name)
            }
        }
        let topK = try fields.int("top_k") ?? texts.count
        guard topK > 0 else { throw .badField("top_k", "must be positive") }
        let matchRequest = MatchRequest(images: images, texts: texts, itm: scores.contains("itm"),
                                        itc: scores.contains("itc"), timeout: try APIRequest.timeout(fields))
        engine.match(matchRequest, cancel: API.cancelToken(responder)) { result in
            API.reply(responder, result, timing: \.timing) { .json(200, matchJSON($0, topK: topK).bytes) }
        }
    }

    static func matchJSON(_ result: MatchResult, topK: Int) -> JSON {
        func matrix(_ m: [[Float]?]) -> JSON {
            .array(m.map { row in row.map { .array($0.map { .float($0) }) } ?? .null })
        }
        var fields: [(String, JSON)] = [("object", .string("match")), ("model", .string(result.model))]
        if let itm = result.itm { fields.append(("itm", matrix(itm))) }
        if let itc = result.itc { fields.append(("itc", matrix(itc))) }
        let results: [JSON] = result.images.indices.map { i in
            if let error = result.errors[i] {
                return .object([("image_index", .int(i)), ("error", APIError(error).itemJSON)])
            }
            let itmRow = result.itm?[i] ?? nil
            let itcRow = result.itc?[i] ?? nil
            let textCount = itmRow?.count ?? itcRow?.count ?? 0
            // Rank by ITM when computed (finer), else ITC; ties keep text order.
            let key: (Int) -> Float = { t in itmRow?[t] ?? itcRow?[t] ?? 0 }
            let order = (0..<textCount).sorted { key($0) != key($1) ? key($0) > key($1) : $0 < $1 }
            let ranking: [JSON] = order.prefix(topK).map { t in
                var entry: [(String, JSON)] = [("text_index", .int(t))]
                if let itmRow { entry.append(("itm", .float(itmRow[t]))) }
                if let itcRow { entry.append(("itc", .float(itcRow[t]))) }
                return .object(entry)
            }
            var entry: [(String, JSON)] = [("image_index", .int(i)), ("ranking", .array(ranking))]
            if let image = result.images[i] { entry.append(("image", imageJSON(image))) }
            entry.append(("cached", .bool(result.cached[i])))
            return .object(entry)
        }
        fields.append(("results", .array(results)))
        return .object(fields)
    }

    // MARK: /caption

    static let captionKinds: [String: APIRequest.FieldKind] = [
        "prompt": .string, "max_new_tokens": .int, "min_new_tokens": .int, "num_beams": .int,
        "length_penalty": .double, "repetition_penalty": .double, "no_repeat_ngram_size": .int, "do_sample": .bool,
        "temperature": .double, "top_k": .int, "top_p": .double, "num_captions": .int, "seed": .int,
        "timeout_ms": .int, "stream": .bool,
    ]

    static func caption(_ request: HTTPServerRequest, responder: HTTPResponder, engine: Engine) throws(APIError) {
        let body = try APIRequest(request, kinds: captionKinds)
        let fields = try JSONFields(body.fields, path: "", allowed: Set(captionKinds.keys).union(["images"]))
        var images = body.images
        if let list = try fields.array("images") {
            for (index, value) in list.enumerated() {
                images.append(try APIRequest.imageBytes(value, path: "images[\(index)]"))
            }
        }
        // Texts (form fields or query items) have no meaning here; a silently ignored field would hide a mistake.
        guard body.texts.isEmpty else { throw .badField("text", "is not a field of /caption (a prompt is \"prompt\")") }
        guard !images.isEmpty else { throw .badRequest("no image: send a file field \"image\", a raw image body, "
                                                       + "or JSON {\"images\": [{\"data\": ...}]}") }
        let stream = try fields.bool("stream") ?? (request.headers["Accept"]?.contains("text/event-stream") == true)
        var options = CaptionOptions()
        options.maxNewTokens = try fields.int("max_new_tokens")
        options.minNewTokens = try fields.int("min_new_tokens")
        options.numBeams = try fields.int("num_beams")
        options.lengthPenalty = try fields.double("length_penalty")
        options.repetitionPenalty = try fields.double("repetition_penalty")
        options.noRepeatNgramSize = try fields.int("no_repeat_ngram_size")
        options.doSample = try fields.bool("do_sample")
        options.temperature = try fields.double("temperature")
        options.topK = try fields.int("top_k")
        options.topP = try fields.double("top_p")
        options.numCaptions = try fields.int("num_captions")
        if let seed = try fields.int("seed") {
            guard seed >= 0 else { throw .badField("seed", "must not be negative") }
            options.seed = UInt64(seed)
        }
        let plain = wantsPlainText(request.headers["Accept"])
        var captionRequest = CaptionRequest(images: images, prompt: try fields.string("prompt"), options: options,
                                            timeout: try APIRequest.timeout(fields))
        if stream {
            let events = CaptionEventStream(responder)
            captionRequest.onToken = { event in events.token(event) }
            engine.caption(captionRequest, cancel: API.cancelToken(responder)) { result in
                events.finish(result.map(captionJSON).mapError(APIError.init))
            }
            return
        }
        engine.caption(captionRequest, cancel: API.cancelToken(responder)) { result in
            API.reply(responder, result, timing: \.timing) { value in
                guard plain else { return .json(200, captionJSON(value).bytes) }
                let lines = value.items.map { item in
                    item.error.map { "error: \(APIError($0).message)" }
                        ?? item.captions.map(\.text).joined(separator: "\n")
                }
                return .text(200, lines.joined(separator: "\n") + "\n")
            }
        }
    }

    /// `Accept: text/plain` (and not JSON first): curl users get just the text.
    static func wantsPlainText(_ accept: String?) -> Bool {
        guard let accept else { return false }
        // Only the first listed type counts; an empty or odd header (",;") simply is not text/plain.
        let first = accept.split(separator: ",").first?.split(separator: ";").first
        return first?.trimmingCharacters(in: .whitespaces).lowercased() == "text/plain"
    }

    static func captionJSON(_ result: CaptionResult) -> JSON {
        let data: [JSON] = result.items.map { item in
            var fields: [(String, JSON)] = [("index", .int(item.index))]
            if let error = item.error {
                fields.append(("error", APIError(error).itemJSON))
                return .object(fields)
            }
            fields.append(("captions", .array(item.captions.map { caption in
                .object([("text", .string(caption.text)), ("token_ids", .array(caption.tokenIDs.map { .int($0) })),
                         ("finish_reason", .string(caption.finishReason))])
            })))
            if let image = item.image { fields.append(("image", imageJSON(image))) }
            fields.append(("cached", .bool(item.cached)))
            return .object(fields)
        }
        return .object([("object", .string("caption.list")), ("model", .string(result.model)),
                        ("data", .array(data))])
    }

    // MARK: operational

    static func info(_ engine: Engine) -> JSON {
        let c = engine.configuration
        func stage(_ s: EngineConfiguration.Stage) -> JSON {
            .object([("max_batch_size", .int(s.maxBatchSize)),
                     ("max_batch_wait_ms", .double(Double(s.maxBatchWait / .milliseconds(1)))),
                     ("queue_capacity", .int(s.queueCapacity))])
        }
        var models: [JSON] = []
        if let r = engine.retrieval {
            models.append(.object([("id", .string(Engine.modelName(r.directory))), ("directory", .string(r.directory)),
                                   ("architecture", .string("Blip2ForImageTextRetrieval")),
                                   ("capabilities", .array([.string("embed"), .string("match")])),
                                   ("dim", .int(r.dimension))]))
        }
        if let m = engine.captioner {
            models.append(.object([("id", .string(Engine.modelName(m.directory))), ("directory", .string(m.directory)),
                                   ("architecture", .string("Blip2ForConditionalGeneration")),
                                   ("capabilities", .array([.string("caption")]))]))
        }
        return .object([
            ("models", .array(models)),
            ("batching", .object([("image", stage(c.imageStage)), ("text", stage(c.textStage)),
                                  ("itm", stage(c.matchStage)), ("caption", stage(c.captionStage)),
                                  ("continuous_decode", .bool(true))])),
            ("cache", .object([("bytes", .int(c.cacheBytes))])),
            ("limits", .object([("request_queue_capacity", .int(c.requestQueueCapacity)),
                                ("max_items_per_request", .int(c.maxItemsPerRequest)),
                                ("max_text_characters", .int(c.maxTextCharacters)),
                                ("max_pixels", .int(c.decodeOptions.maxPixels)),
                                ("default_timeout_ms", .double(Double(c.defaultTimeout / .milliseconds(1)))),
                                ("max_timeout_ms", .double(Double(c.maxTimeout / .milliseconds(1))))])),
            ("threads", .object([("compute", .int(1)), ("preprocess", .int(c.preprocessThreads))])),
        ])
    }

    static func models(_ engine: Engine) -> JSON {
        let ids = [engine.retrieval?.directory, engine.captioner?.directory].compactMap { $0 }.map(Engine.modelName)
        return .object([("object", .string("list")), ("data", .array(ids.map { id in
            .object([("id", .string(id)), ("object", .string("model")), ("owned_by", .string("tiaoyu"))])
        }))])
    }

    static func prometheus(_ engine: Engine) -> String {
        let m = engine.metrics.snapshot
        let cache = engine.cache.statistics
        var out = "# HELP tiaoyu_engine_queue_depth Requests admitted and not yet answered.\n"
        out += "# TYPE tiaoyu_engine_queue_depth gauge\ntiaoyu_engine_queue_depth \(engine.queueDepth)\n"
        out += "# HELP tiaoyu_engine_stage_queue_depth Items waiting for a batch, by stage.\n"
        out += "# TYPE tiaoyu_engine_stage_queue_depth gauge\n"
        for (stage, depth) in engine.stageQueueDepths.sorted(by: { $0.key < $1.key }) {
            out += "tiaoyu_engine_stage_queue_depth{stage=\"\(stage)\"} \(depth)\n"
        }
        out += "# HELP tiaoyu_engine_batches_total Batches run, by stage and size.\n"
        out += "# TYPE tiaoyu_engine_batches_total counter\n"
        for (stage, sizes) in m.batchSizes.sorted(by: { $0.key < $1.key }) {
            for (size, count) in sizes.sorted(by: { $0.key < $1.key }) {
                out += "tiaoyu_engine_batches_total{stage=\"\(stage)\",size=\"\(size)\"} \(count)\n"
            }
        }
        out += "# HELP tiaoyu_engine_batch_duration_seconds Time to run one batch, by stage.\n"
        out += "# TYPE tiaoyu_engine_batch_duration_seconds histogram\n"
        let name = "tiaoyu_engine_batch_duration_seconds"
        // Stages come from the batch counts, recorded before a batch runs (its duration only after it).
        for stage in m.batchSizes.keys.sorted() {
            let buckets = m.stageLatencyBuckets[stage] ?? [Int](repeating: 0, count: EngineMetrics.latencyBuckets.count)
            for (bound, count) in zip(EngineMetrics.latencyBuckets, buckets) {
                out += "\(name)_bucket{stage=\"\(stage)\",le=\"\(bound)\"} \(count)\n"
            }
            let total = m.batchSizes[stage]?.values.reduce(0, +) ?? 0
            out += "\(name)_bucket{stage=\"\(stage)\",le=\"+Inf\"} \(total)\n"
            out += "\(name)_sum{stage=\"\(stage)\"} \(m.stageSeconds[stage] ?? 0)\n"
            out += "\(name)_count{stage=\"\(stage)\"} \(total)\n"
        }
        let counters: [(String, String, Int)] = [
            ("rejected", "Requests or items refused because a queue was full (429).", m.rejected),
            ("expired", "Queued work dropped because its deadline passed (504).", m.expired),
            ("cancelled", "Queued work dropped because its client disconnected.", m.cancelled),
            ("generated_tokens", "Caption tokens generated.", m.generatedTokens),
            ("decode_joined", "Caption requests that joined a running decode at a step boundary.", m.joinedDecodes),
            ("cache_hits", "Images found in the query-token cache.", cache.hits),
            ("cache_misses", "Images not in the query-token cache.", cache.misses),
            ("cache_coalesced", "Images that waited on an identical image's computation.", engine.coalesced),
        ]
        for (name, help, value) in counters {
            out += "# HELP tiaoyu_engine_\(name)_total \(help)\n# TYPE tiaoyu_engine_\(name)_total counter\n"
            out += "tiaoyu_engine_\(name)_total \(value)\n"
        }
        out += "# HELP tiaoyu_engine_cache_bytes Bytes held by the query-token cache.\n"
        out += "# TYPE tiaoyu_engine_cache_bytes gauge\ntiaoyu_engine_cache_bytes \(cache.bytes)\n"
        return out
    }
}
