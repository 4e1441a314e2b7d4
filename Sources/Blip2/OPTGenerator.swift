// Text generation with an OPT decoder: transformers' `GenerationMixin.generate` for decoder-only models
// (generation/utils.py, 5.23.0: `_sample` for greedy and sampling, `_beam_search`), driven from
// `inputs_embeds` as `Blip2ForConditionalGeneration.generate` calls it.
// Legend: T = input length (placeholders + padding + prompt), L = attended input positions, R = rows of a
// step, W = embedding width, V = vocabulary.

import Tensors

/// One input sequence: the ids transformers would see, their attention mask, and the embeddings to feed.
public struct GenerationInput: Sendable {
    /// The input row as upstream's `input_ids` (image placeholders, left padding, BOS and prompt).
    public let ids: [Int]
    /// 1 for attended positions, 0 for padding, per id.
    public let attentionMask: [Int]
    /// `inputs_embeds` [T, W]: token embeddings with the image placeholders replaced.
    public let embeddings: Tensor

    public init(ids: [Int], attentionMask: [Int], embeddings: Tensor) {
        self.ids = ids
        self.attentionMask = attentionMask
        self.embeddings = embeddings
    }
}

/// A generated token, as the streaming hook sees it.
public struct GenerationToken: Equatable, Sendable {
    /// Which input it belongs to.
    public let input: Int
    /// Which returned sequence of that input (a sample index; for beam search the rank).
    public let sequence: Int
    /// Position among the new tokens (0 = first).
    public let index: Int
    /// The id.
    public let token: Int
}

/// One forward step of the batch, as the step hook sees it.
public struct GenerationStep: Sendable {
    /// Step number (0 = prefill).
    public let step: Int
    /// (input, sequence or beam) of each row that took part; finished sequences are absent.
    public let rows: [(input: Int, sequence: Int)]
    /// Raw next-token logits [R, V] of those rows, before any processor.
    public let logits: Tensor
}

/// Hooks called during generation, on the calling thread.
public struct GenerationObserver {
    /// Called once per generated token, in order per sequence (greedy and sampling: as soon as it is
    /// chosen; beam search: when the search ends, since a beam's tokens are not final before).
    public var onToken: ((GenerationToken) -> Void)?
    /// Called once per forward step with the rows it computed.
    public var onStep: ((GenerationStep) -> Void)?
    /// Asked before each step for every live input: true ends that input's sequences there (its client left,
    /// its deadline passed), so the rest of the batch goes on without it. Greedy and sampled sequences keep the
    /// tokens chosen so far; a beam search that stops returns no sequence (no hypothesis is final yet).
    public var shouldStop: ((_ input: Int) -> Bool)?
    /// Continuous batching (greedy and sampling): asked at every step boundary for new inputs to start now.
    /// They are prefilled and decode alongside the running ones under the same options, numbered after every
    /// input so far (the output grows to match). Beam search does not ask.
    public var join: (() -> [GenerationInput])?

    public init(onToken: ((GenerationToken) -> Void)? = nil, onStep: ((GenerationStep) -> Void)? = nil,
                shouldStop: ((_ input: Int) -> Bool)? = nil, join: (() -> [GenerationInput])? = nil) {
        self.onToken = onToken
        self.onStep = onStep
        self.shouldStop = shouldStop
        self.join = join
    }
}

/// What `generate` returns.
public struct GenerationOutput: Equatable, Sendable {
    /// Per input, per returned sequence: the input ids followed by the generated ids (EOS included).
    public let sequences: [[[Int]]]
    /// Per input, per returned sequence: the number of generated ids.
    public let newTokenCounts: [[Int]]

    /// All sequences, input-major, padded with `padTokenID` to one length: transformers' `sequences`.
    public func padded(with padTokenID: Int) -> [[Int]] {
        let rows = sequences.flatMap { $0 }
        let width = rows.map(\.count).max() ?? 0
        return rows.map { $0 + [Int](repeating: padTokenID, count: width - $0.count) }
    }
}

/// Runs `generate` over an `OPTForCausalLM`: greedy, sampling or beam search, many inputs at once.
///
/// Every sequence (sample, beam) keeps its own `KVCache`; each step runs the new token of every live
/// sequence through one batched forward pass, and a sequence that finishes leaves the batch (its slot and
/// cache are released) while the others continue.
public struct OPTGenerator: Sendable {
    /// The language model.
    public let model: OPTForCausalLM

    public init(model: OPTForCausalLM) { self.model = model }

    /// Generates continuations of `inputs` under `options`.
    public func generate(
        _ inputs: [GenerationInput], options: GenerationOptions, observer: GenerationObserver = GenerationObserver()
    ) throws(GenerationError) -> GenerationOutput {
        let config = model.config
        try options.validate(vocabSize: config.vocabSize)
        var prompts: [Prompt] = []
        for (row, input) in inputs.enumerated() {
            prompts.append(try Prompt(input, row: row, config: config, maxNewTokens: options.maxNewTokens))
        }
        guard !prompts.isEmpty else { return GenerationOutput(sequences: [], newTokenCounts: []) }
        // Prefill every input once: caches [one per input], logits [inputs, V].
        var caches = prompts.map { model.decoder.makeCache(capacity: $0.attended.count + options.maxNewTokens) }
        let embeds = Tensor.concatenate(prompts.map(\.embeddings), axis: 0)
        let logits = try run { () throws(TensorError) in
            try model.nextTokenLogits(embeds, caches: &caches, counts: prompts.map(\.embeddings.shape[0]))
        }
        if options.numBeams > 1 {
            return try beamSearch(prompts, caches: consume caches, prefill: logits, options: options,
                                  observer: observer)
        }
        return try sample(prompts, caches: consume caches, prefill: logits, options: options, observer: observer)
    }

    /// A validated input: its upstream-visible ids and the attended positions fed to the model.
    struct Prompt {
        let ids: [Int]
        let attended: [Int]
        let ignoredPrefix: Int
        // [L, W]
        let embeddings: Tensor

        init(_ input: GenerationInput, row: Int, config: OPTConfig, maxNewTokens: Int) throws(GenerationError) {
            let t = input.ids.count
            guard input.attentionMask.count == t, input.embeddings.rank == 2, input.embeddings.shape[0] == t,
                  input.embeddings.shape[1] == config.wordEmbedProjDim else {
                throw .shapeMismatch("row \(row): \(t) ids, \(input.attentionMask.count) mask entries, "
                    + "embeddings \(input.embeddings.shape) (width \(config.wordEmbedProjDim) expected)")
            }
            for id in input.ids where id < 0 || id >= config.vocabSize {
                throw .tokenOutOfRange(id: id, vocabSize: config.vocabSize)
            }
            // Padding is dropped rather than masked: it is never attended, and positions skip it anyway
            // (upstream: cumsum of the mask), so the attended tokens see exactly what transformers computes.
            attended = input.attentionMask.indices.filter { input.attentionMask[$0] != 0 }
            guard let first = attended.first else { throw .emptyInput(row: row) }
            let needed = attended.count + maxNewTokens - 1
            guard needed <= config.maxPositionEmbeddings else {
                throw .sequenceTooLong(length: needed, maxPositions: config.maxPositionEmbeddings)
            }
            ids = input.ids
            ignoredPrefix = first
            if attended.count == t {
                embeddings = input.embeddings
            } else {
                var compact = Tensor(zeros: [attended.count, input.embeddings.shape[1]])
                for (to, from) in attended.enumerated() {
                    compact.update(axis: 0, at: to, from: input.embeddings.slice(axis: 0, from..<(from + 1)))
                }
                embeddings = compact
            }
        }
    }

    /// A live greedy or sampled sequence (its cache lives beside it, see `sample`).
    private struct Row {
        let input: Int
        let sequence: Int
        var context: GenerationContext
        var random: GenerationRandom
        var logitsRow: Int
    }

    /// Greedy search and multinomial sampling (upstream `_sample`).
    private func sample(
        _ prompts: [Prompt], caches: consuming [KVCache], prefill: Tensor, options: GenerationOptions,
        observer: GenerationObserver
    ) throws(GenerationError) -> GenerationOutput {
        let processors = GenerationLogitsProcessors.make(options)
        let perInput = options.doSample ? options.numReturnSequences : 1
        let eos = Set(options.eosTokenIDs)
        var results = prompts.map { p in [[Int]](repeating: p.ids, count: perInput) }
        var counts = prompts.map { _ in [Int](repeating: 0, count: perInput) }
        var live: [Row] = []
        // The caches of `live`, index for index. Kept out of `Row` and moved (never copied) into each step's
        // forward pass: a second reference would make every cache write copy the whole buffer.
        var liveCaches: [KVCache] = []
        for (i, p) in prompts.enumerated() {
            for s in 0..<perInput {
                live.append(Row(input: i, sequence: s,
                                context: GenerationContext(tokens: p.ids, promptLength: p.ids.count,
                                                           ignoredPrefix: p.ignoredPrefix),
                                random: GenerationRandom(seed: options.seed, stream: i * perInput + s),
                                logitsRow: i))
                liveCaches.append(caches[i])
            }
        }
        caches = []  // the live rows own the prefill caches now
        var logits = prefill
        var step = 0
        while !live.isEmpty {
            if let onStep = observer.onStep {
                // At step 0 the logits are per input; the hook sees one row per live sequence.
                onStep(GenerationStep(step: step, rows: live.map { ($0.input, $0.sequence) },
                                      logits: step == 0 ? Self.rows(prefill, live.map(\.logitsRow)) : logits))
            }
            var next: [Row] = []
            var nextCaches: [KVCache] = []
            for (slot, var row) in live.enumerated() {
                // A stopped input leaves like a finished one: no token, its cache released below.
                if observer.shouldStop?(row.input) == true { continue }
                var scores = Self.row(logits, row.logitsRow)
                for p in processors { p.process(&scores, context: row.context) }
                let token = options.doSample
                    ? GenerationMath.sample(scores, using: &row.random) : GenerationMath.argmax(scores)
                row.context.tokens.append(token)
                results[row.input][row.sequence].append(token)
                counts[row.input][row.sequence] += 1
                observer.onToken?(GenerationToken(input: row.input, sequence: row.sequence,
                                                  index: row.context.newTokenCount - 1, token: token))
                if !eos.contains(token), row.context.newTokenCount < options.maxNewTokens {
                    row.logitsRow = next.count
                    next.append(row)
                    nextCaches.append(liveCaches[slot])
                }
                // else: the sequence is done and its cache is released with `liveCaches` below.
            }
            live = next
            liveCaches = nextCaches
            nextCaches = []
            let joining = observer.join?() ?? []
            guard !live.isEmpty || !joining.isEmpty else { break }
            var stepLogits: Tensor?  // [live, V]
            if !live.isEmpty {
                let tokens = live.map { $0.context.tokens[$0.context.tokens.count - 1] }
                stepLogits = try run { () throws(TensorError) in
                    try model.nextTokenLogits(try model.decoder.embed(tokens), caches: &liveCaches,
                                              counts: [Int](repeating: 1, count: live.count))
                }
            }
            if !joining.isEmpty {
                // New inputs join at this boundary: their prefill logits follow the running rows' logits.
                var joined: [Prompt] = []
                for input in joining {
                    joined.append(try Prompt(input, row: results.count + joined.count, config: model.config,
                                             maxNewTokens: options.maxNewTokens))
                }
                var joinedCaches = joined.map {
                    model.decoder.makeCache(capacity: $0.attended.count + options.maxNewTokens)
                }
                let embeds = Tensor.concatenate(joined.map(\.embeddings), axis: 0)
                let prefill = try run { () throws(TensorError) in
                    try model.nextTokenLogits(
                        embeds, caches: &joinedCaches, counts: joined.map(\.embeddings.shape[0]))
                }
                var rowsOfPrefill: [Int] = []
                for (j, p) in joined.enumerated() {
                    let i = results.count
                    results.append([[Int]](repeating: p.ids, count: perInput))
                    counts.append([Int](repeating: 0, count: perInput))
                    for s in 0..<perInput {
                        live.append(Row(input: i, sequence: s,
                                        context: GenerationContext(tokens: p.ids, promptLength: p.ids.count,
                                                                   ignoredPrefix: p.ignoredPrefix),
                                        random: GenerationRandom(seed: options.seed, stream: i * perInput + s),
                                        logitsRow: live.count))
                        liveCaches.append(joinedCaches[j])
                        rowsOfPrefill.append(j)
                    }
                }
                let joinedLogits = Self.rows(prefill, rowsOfPrefill)  // one row per joined sequence
                logits = stepLogits.map { Tensor.concatenate([$0, joinedLogits], axis: 0) } ?? joinedLogits
            } else if let stepLogits {
                logits = stepLogits
            }
            step += 1
        }
        return GenerationOutput(sequences: results, newTokenCounts: counts)
    }

    /// Beam search (upstream `_beam_search`); every input searches independently, their beams share steps.
    private func beamSearch(
        _ prompts: [Prompt], caches: consuming [KVCache], prefill: Tensor, options: GenerationOptions,
        observer: GenerationObserver
    ) throws(GenerationError) -> GenerationOutput {
        let processors = GenerationLogitsProcessors.make(options)
        let n = options.numBeams
        var searches = prompts.map { GenerationBeamSearch(options: options, promptLength: $0.ids.count) }
        // Per input: the caches of its running beams (all the prefill cache at first).
        var beamCaches = caches.map { [KVCache](repeating: $0, count: n) }
        caches = []
        // Logits rows [R, V] of the live inputs' beams, input-major; the prefill row serves every beam.
        var live = Array(prompts.indices)
        var logits = Self.rows(prefill, live.flatMap { [Int](repeating: $0, count: n) })
        var stopped: Set<Int> = []
        var step = 0
        while !live.isEmpty {
            observer.onStep?(GenerationStep(step: step, rows: live.flatMap { i in (0..<n).map { (i, $0) } },
                                            logits: logits))
            var stillLive: [Int] = []
            for (slot, i) in live.enumerated() {
                // A stopped input's beams leave the batch; its caches go with `beamCaches[i]`.
                if observer.shouldStop?(i) == true {
                    stopped.insert(i)
                    beamCaches[i] = []
                    continue
                }
                let logProbs = (0..<n).map { beam in
                    var lp = GenerationMath.logSoftmax(Self.row(logits, slot * n + beam))
                    let context = GenerationContext(tokens: prompts[i].ids + searches[i].running[beam].tokens,
                                                    promptLength: prompts[i].ids.count,
                                                    ignoredPrefix: prompts[i].ignoredPrefix)
                    for p in processors { p.process(&lp, context: context) }
                    return lp
                }
                let parents = searches[i].step(logProbs: logProbs)
                beamCaches[i] = parents.map { beamCaches[i][$0] }
                if searches[i].isDone { beamCaches[i] = [] } else { stillLive.append(i) }
            }
            live = stillLive
            guard !live.isEmpty else { break }
            var stepCaches = live.flatMap { beamCaches[$0] }
            // Move, not share: only beams that forked from one parent should copy on write.
            for i in live { beamCaches[i] = [] }
            let tokens = live.flatMap { i in searches[i].running.map { $0.tokens[$0.tokens.count - 1] } }
            logits = try run { () throws(TensorError) in
                try model.nextTokenLogits(try model.decoder.embed(tokens), caches: &stepCaches,
                                          counts: [Int](repeating: 1, count: tokens.count))
            }
            for (slot, i) in live.enumerated() { beamCaches[i] = Array(stepCaches[(slot * n)..<((slot + 1) * n)]) }
            step += 1
        }
        var sequences: [[[Int]]] = []
        var counts: [[Int]] = []
        for (i, search) in searches.enumerated() {
            let best = stopped.contains(i) ? [] : search.finished.prefix(options.numReturnSequences)
            for (rank, hypothesis) in best.enumerated() {
                for (index, token) in hypothesis.tokens.enumerated() {
                    observer.onToken?(GenerationToken(input: i, sequence: rank, index: index, token: token))
                }
            }
            sequences.append(best.map { prompts[i].ids + $0.tokens })
            counts.append(best.map(\.tokens.count))
        }
        return GenerationOutput(sequences: sequences, newTokenCounts: counts)
    }

    /// Row `r` of a [R, V] tensor as an array.
    static func row(_ logits: Tensor, _ r: Int) -> [Float] {
        let v = logits.shape[1]
        return logits.withUnsafeBufferPointer { Array($0[(r * v)..<((r + 1) * v)]) }
    }

    /// The rows `indices` of a [R, V] tensor, in that order.
    static func rows(_ logits: Tensor, _ indices: [Int]) -> Tensor {
        var out = Tensor(zeros: [indices.count, logits.shape[1]])
        for (to, from) in indices.enumerated() {
            out.update(axis: 0, at: to, from: logits.slice(axis: 0, from..<(from + 1)))
        }
        return out
    }

    /// Runs a model call, turning a tensor error (an id or position off its table) into a generation error.
    private func run<T>(_ body: () throws(TensorError) -> T) throws(GenerationError) -> T {
        do {
            return try body()
        } catch {
            throw .shapeMismatch("model call failed: \(error)")
        }
    }
}
