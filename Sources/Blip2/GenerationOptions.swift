// Decoding settings with transformers' `generate` semantics (generation/utils.py and
// generation/configuration_utils.py, 5.23.0), resolved from a checkpoint's generation config.

/// What `generate` should do: lengths, search strategy, sampling, penalties and stop ids.
///
/// Fields mirror transformers' names. Lengths count *new* tokens (upstream's `max_length`/`min_length`
/// count the prompt too, image placeholders included; `init(config:eosTokenIDs:padTokenID:)` converts).
public struct GenerationOptions: Equatable, Sendable {
    /// New tokens generated when neither the request nor the checkpoint's generation config sets a length.
    /// (The issue asks for 30; transformers' own unset default is 20.)
    public static let defaultMaxNewTokens = 30
    /// Upper bound on `maxNewTokens`: far beyond any caption or answer, and it keeps a hostile request from
    /// reserving unbounded KV-cache memory (the position table caps it again per model).
    public static let maxNewTokensLimit = 4096
    /// Upper bound on `numBeams`: every beam is a full KV cache; 64 is well past any useful width.
    public static let numBeamsLimit = 64
    /// Upper bound on `noRepeatNgramSize` (longer n-grams cost time and never match in practice).
    public static let noRepeatNgramSizeLimit = 64

    /// Tokens to generate at most (`max_new_tokens`).
    public var maxNewTokens: Int
    /// Tokens to generate before an EOS id may be chosen (`min_new_tokens`).
    public var minNewTokens: Int
    /// Sample instead of choosing the best token (`do_sample`).
    public var doSample: Bool
    /// Beam width; 1 is greedy or plain sampling (`num_beams`).
    public var numBeams: Int
    /// Divides the logits before sampling (`temperature`); must be > 0 when sampling.
    public var temperature: Double
    /// Keep only the k best tokens when sampling; 0 disables (`top_k`).
    public var topK: Int
    /// Keep the smallest set of tokens whose probability reaches p when sampling (`top_p`, in (0, 1]).
    public var topP: Double
    /// Divides positive (multiplies negative) scores of tokens already in the sequence (`repetition_penalty`).
    public var repetitionPenalty: Double
    /// Beam score = log-probability sum / generated length ^ this (`length_penalty`).
    public var lengthPenalty: Double
    /// Forbid any n-gram of this size from occurring twice; 0 disables (`no_repeat_ngram_size`).
    public var noRepeatNgramSize: Int
    /// Beam-search stopping rule (`early_stopping`).
    public var earlyStopping: GenerationConfig.EarlyStopping
    /// Sequences returned per input (`num_return_sequences`): ≤ `numBeams` for beam search; independent
    /// samples when sampling; 1 for greedy.
    public var numReturnSequences: Int
    /// Ids that end a sequence (`eos_token_id`); empty means run to `maxNewTokens`.
    public var eosTokenIDs: [Int]
    /// Id that fills finished rows in padded outputs (`pad_token_id`).
    public var padTokenID: Int?
    /// Seed of the sampling generator: the same seed gives the same samples (not torch's samples).
    public var seed: UInt64

    /// Options with explicit values; the defaults are transformers' (greedy, 30 new tokens, top-k 50).
    public init(
        maxNewTokens: Int = defaultMaxNewTokens, minNewTokens: Int = 0, doSample: Bool = false, numBeams: Int = 1,
        temperature: Double = 1, topK: Int = 50, topP: Double = 1, repetitionPenalty: Double = 1,
        lengthPenalty: Double = 1, noRepeatNgramSize: Int = 0,
        earlyStopping: GenerationConfig.EarlyStopping = .heuristic, numReturnSequences: Int = 1,
        eosTokenIDs: [Int] = [], padTokenID: Int? = nil, seed: UInt64 = 0
    ) {
        self.maxNewTokens = maxNewTokens
        self.minNewTokens = minNewTokens
        self.doSample = doSample
        self.numBeams = numBeams
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.lengthPenalty = lengthPenalty
        self.noRepeatNgramSize = noRepeatNgramSize
        self.earlyStopping = earlyStopping
        self.numReturnSequences = numReturnSequences
        self.eosTokenIDs = eosTokenIDs
        self.padTokenID = padTokenID
        self.seed = seed
    }

    /// The defaults a checkpoint implies: its `generation_config.json` when it has one, otherwise greedy with
    /// `defaultMaxNewTokens`; special ids fall back to the language model's config.
    ///
    /// transformers counts `max_length`/`min_length` over the whole input, which for BLIP-2 includes the
    /// image placeholders: `promptLength` (placeholders + prompt, as the processor builds it) converts them.
    /// A `max_length` equal to upstream's unset default (20) is read as unset.
    public init(checkpoint config: GenerationConfig?, text: OPTConfig, promptLength: Int = 0) {
        self.init(eosTokenIDs: text.eosTokenID?.values ?? [], padTokenID: text.padTokenID)
        guard let config else { return }
        if let maxNew = config.maxNewTokens {
            maxNewTokens = maxNew
        } else if config.maxLength != Self.upstreamUnsetMaxLength {
            maxNewTokens = max(config.maxLength - promptLength, 1)
        }
        minNewTokens = config.minNewTokens ?? max(config.minLength - promptLength, 0)
        doSample = config.doSample
        numBeams = config.numBeams
        temperature = config.temperature
        topK = config.topK
        topP = config.topP
        repetitionPenalty = config.repetitionPenalty
        lengthPenalty = config.lengthPenalty
        noRepeatNgramSize = config.noRepeatNgramSize
        earlyStopping = config.earlyStopping
        numReturnSequences = config.numReturnSequences
        if let eos = config.eosTokenID { eosTokenIDs = eos.values }
        if let pad = config.padTokenID { padTokenID = pad }
    }

    /// transformers' class default for `max_length`, which `generate` treats as "not set".
    static let upstreamUnsetMaxLength = 20

    /// Checks every option against transformers' rules and this port's limits; `vocabSize` bounds the ids.
    public func validate(vocabSize: Int) throws(GenerationError) {
        func bad(_ option: String, _ reason: String) -> GenerationError {
            .invalidOption(option: option, reason: reason)
        }
        guard maxNewTokens >= 1, maxNewTokens <= Self.maxNewTokensLimit else {
            throw bad("max_new_tokens", "must be in 1...\(Self.maxNewTokensLimit), got \(maxNewTokens)")
        }
        guard minNewTokens >= 0 else { throw bad("min_new_tokens", "must be >= 0, got \(minNewTokens)") }
        guard numBeams >= 1, numBeams <= Self.numBeamsLimit else {
            throw bad("num_beams", "must be in 1...\(Self.numBeamsLimit), got \(numBeams)")
        }
        guard numReturnSequences >= 1 else {
            throw bad("num_return_sequences", "must be >= 1, got \(numReturnSequences)")
        }
        if numBeams > 1 {
            guard numReturnSequences <= numBeams else {
                throw bad("num_return_sequences", "must be <= num_beams (\(numBeams)), got \(numReturnSequences)")
            }
            if doSample { throw .unsupported("beam sampling (do_sample with num_beams > 1)") }
        } else if !doSample, numReturnSequences != 1 {
            throw bad("num_return_sequences", "greedy search returns one sequence, got \(numReturnSequences)")
        } else if numReturnSequences > Self.numBeamsLimit {
            throw bad("num_return_sequences", "must be <= \(Self.numBeamsLimit), got \(numReturnSequences)")
        }
        if doSample {
            guard temperature.isFinite, temperature > 0 else {
                throw bad("temperature", "must be > 0 when sampling, got \(temperature)")
            }
        }
        // Checked even without sampling (where they are unused): a request that sets them wrongly is wrong.
        guard topK >= 0 else { throw bad("top_k", "must be >= 0, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw bad("top_p", "must be in (0, 1], got \(topP)") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw bad("repetition_penalty", "must be > 0, got \(repetitionPenalty)")
        }
        guard lengthPenalty.isFinite else { throw bad("length_penalty", "must be finite, got \(lengthPenalty)") }
        guard noRepeatNgramSize >= 0, noRepeatNgramSize <= Self.noRepeatNgramSizeLimit else {
            throw bad("no_repeat_ngram_size", "must be in 0...\(Self.noRepeatNgramSizeLimit), got \(noRepeatNgramSize)")
        }
        for id in eosTokenIDs where id < 0 || id >= vocabSize {
            throw bad("eos_token_id", "\(id) is outside the vocabulary (size \(vocabSize))")
        }
    }
}
