// Follows `Blip2ForImageTextRetrieval` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): the
// blip2-itm-vit-g head. ITC = image query output and [CLS] text output projected to D and L2-normalised,
// similarity = max over the Q query vectors of the cosine; ITM = the joint pass (queries + text,
// bidirectional, queries cross-attend the image) and a 2-way head averaged over the query rows.
//
// Legend: B images, T texts, N image–text pairs, P image tokens, Q query tokens, L padded text length,
// C Q-Former width, D ITC width.

import SafeTensors
import Tensors

/// BLIP-2's image–text retrieval model: image and text embeddings (ITC) and match probabilities (ITM).
///
/// Images and texts are encoded separately and in batches; ITM reuses the images' vision tokens, so a batch
/// of pairs runs the vision tower once per image, not once per pair. Every stage can report its output to a
/// `Blip2Trace` under the names the reference script uses (`vision.*`, `qformer.query.*`, `itc.*`, `itm.*`).
public struct Blip2ForImageTextRetrieval: Sendable {
    /// The checkpoint's configuration.
    public let config: Blip2Config
    /// Vision tower, query tokens and Q-Former (`vision_model.*`, `query_tokens`, `qformer.*`).
    public let imageQueryEncoder: Blip2ImageQueryEncoder
    /// The Q-Former's text embeddings (`embeddings.*`).
    public let embeddings: Blip2TextEmbeddings
    let visionProjection: Blip2Linear
    let textProjection: Blip2Linear
    let itmHead: Blip2Linear
    /// Checkpoint keys present but deliberately not used (`Blip2Checkpoint.ignoredKeys`), for a warning.
    public private(set) var ignoredCheckpointKeys: [String] = []

    /// Builds the model from `weights` (keys as in the published checkpoint), checking every shape. Does not
    /// check for leftover keys; `load(directory:)` does.
    public init(config: Blip2Config, weights: WeightStore) throws(Blip2ModelError) {
        guard config.architecture == .imageTextRetrieval else {
            throw .wrongArchitecture(found: config.architecture, expected: .imageTextRetrieval)
        }
        self.config = config
        let q = config.qformerConfig
        let c = q.hiddenSize
        let d = config.imageTextHiddenSize
        imageQueryEncoder = try Blip2ImageQueryEncoder(config: config, weights: weights)
        embeddings = try Blip2TextEmbeddings(config: q, weights: weights.scope(Blip2Checkpoint.textEmbeddingsPrefix))
        visionProjection = try Blip2Linear(
            weights.scope(Blip2Checkpoint.visionProjectionPrefix), inFeatures: c, outFeatures: d)
        textProjection = try Blip2Linear(
            weights.scope(Blip2Checkpoint.textProjectionPrefix), inFeatures: c, outFeatures: d)
        itmHead = try Blip2Linear(weights.scope(Blip2Checkpoint.itmHeadPrefix), inFeatures: c, outFeatures: 2)
    }

    /// Loads `config.json` and the weights of a model directory strictly: a missing or mis-shaped tensor, or
    /// any key the model does not read (other than `Blip2Checkpoint.ignoredKeys`), is an error naming it.
    public static func load(directory: String) throws(Blip2ModelError) -> Blip2ForImageTextRetrieval {
        let (config, store) = try Blip2Checkpoint.open(directory: directory)
        var model = try Blip2ForImageTextRetrieval(config: config, weights: store)
        model.ignoredCheckpointKeys = try Blip2Checkpoint.finishLoading(store)
        return model
    }

    /// Number of query tokens Q.
    public var numQueryTokens: Int { config.numQueryTokens }
    /// The vision tower (`vision_model.*`).
    public var visionModel: Blip2VisionModel { imageQueryEncoder.visionModel }
    /// The Q-Former (`qformer.*`).
    public var qformer: Blip2QFormerModel { imageQueryEncoder.qformer }

    // MARK: - ITC

    /// Encodes a batch of images, pixels [B, 3, S, S] as the checkpoint's preprocessor makes them.
    /// Trace names: `vision.*`, `qformer.query.*`, `itc.image_embeds`.
    public func encodeImages(_ pixels: Tensor, trace: Blip2Trace? = nil) throws(Blip2ModelError)
        -> Blip2ImageFeatures {
        let (vision, queryOutput) = try imageQueryEncoder(pixels, trace: trace)  // [B, Q, C]
        let imageEmbeds = Kernels.l2Normalize(visionProjection(queryOutput))  // [B, Q, D]
        trace?.record("itc.image_embeds", imageEmbeds)
        return Blip2ImageFeatures(vision: vision, queryOutput: queryOutput, imageEmbeds: imageEmbeds)
    }

    /// Encodes a batch of texts (token ids with [CLS] first, as the BERT tokenizer makes them) with the
    /// Q-Former's text face alone. Trace names: `itc.text.embeddings`, `itc.text.*`, `itc.text_embeds`.
    public func encodeTexts(_ tokens: Blip2TokenBatch, trace: Blip2Trace? = nil) throws(Blip2ModelError)
        -> Blip2TextFeatures {
        let x = try embeddings(tokens)  // [T, L, C]
        trace?.record("itc.text.embeddings", x)
        let hidden = try qformer(
            x, queryLength: 0, attentionMask: Blip2QFormerAttentionMask.padding(tokens),
            trace: trace?.scoped("itc.text"))
        let cls = hidden.slice(axis: 1, 0..<1).reshaped([tokens.count, qformer.config.hiddenSize])  // [T, C]
        let textEmbeds = Kernels.l2Normalize(textProjection(cls))  // [T, D]
        trace?.record("itc.text_embeds", textEmbeds)
        return Blip2TextFeatures(lastHiddenState: hidden, textEmbeds: textEmbeds)
    }

    /// Every row of the text output projected and normalised, [T, L, D]: what upstream's
    /// `Blip2TextModelWithProjection` returns as `text_embeds` (row 0 is the ITC vector).
    public func projectedTextRows(_ texts: Blip2TextFeatures) -> Tensor {
        Kernels.l2Normalize(textProjection(texts.lastHiddenState))
    }

    /// ITC similarity, [B, T]: for image b and text t, the largest cosine between the text vector and any of
    /// the image's Q query vectors. These are upstream's `logits_per_image` exactly: transformers applies no
    /// temperature (LAVIS's learned `temp` is not in the converted checkpoint), so they are raw cosines in
    /// [-1, 1]. Transpose for `logits_per_text`.
    public func similarity(images: Blip2ImageFeatures, texts: Blip2TextFeatures) -> Tensor {
        let (b, q, d) = (images.imageEmbeds.shape[0], images.imageEmbeds.shape[1], images.imageEmbeds.shape[2])
        let t = texts.count
        let cosines = Kernels.matmul(images.imageEmbeds.reshaped([b * q, d]), texts.textEmbeds, transposeB: true)
        var out = Tensor(zeros: [b, t])  // [B*Q, T] -> max over Q -> [B, T]
        cosines.withUnsafeBufferPointer { cs in
            out.withUnsafeMutableBufferPointer { os in
                for i in 0..<b {
                    for j in 0..<t {
                        var best = -Float.infinity
                        for k in 0..<q { best = max(best, cs[(i * q + k) * t + j]) }
                        os[i * t + j] = best
                    }
                }
            }
        }
        return out
    }

    // MARK: - ITM

    /// Image–text matching for the given (image, text) pairs: indices into `images` and `texts`. Trace
    /// names: `itm.embeddings`, `itm.*` (Q-Former), `itm.query_logits`, `itm.logits`.
    ///
    /// `texts` holds text ids only. A checkpoint whose config has an `image_token_index` gets processor ids
    /// with Q placeholders in front, which upstream strips (keeping their mask ones); passing the text alone
    /// here is the same computation.
    public func match(
        images: Blip2ImageFeatures, texts: Blip2TokenBatch, pairs: [(image: Int, text: Int)],
        trace: Blip2Trace? = nil
    ) throws(Blip2ModelError) -> Blip2MatchOutput {
        guard !pairs.isEmpty else { throw .invalidInput("no image–text pairs to match") }
        for pair in pairs {
            guard (0..<images.count).contains(pair.image), (0..<texts.count).contains(pair.text) else {
                throw .invalidInput("pair (image \(pair.image), text \(pair.text)) is outside "
                    + "\(images.count) images and \(texts.count) texts")
            }
        }
        let n = pairs.count
        let q = numQueryTokens
        let tokens = texts.rows(pairs.map(\.text))
        let x = try embeddings(tokens, queryEmbeds: imageQueryEncoder.queryEmbeddings(batch: n))  // [N, Q + L, C]
        trace?.record("itm.embeddings", x)
        let memory = Blip2QFormerImageMemory(
            hiddenStates: images.vision.lastHiddenState, imageIndex: pairs.map(\.image))
        let hidden = try qformer(
            x, queryLength: q, attentionMask: Blip2QFormerAttentionMask.joint(queryLength: q, text: tokens),
            imageMemory: memory, trace: trace?.scoped("itm"))
        let queryLogits = itmHead(hidden.slice(axis: 1, 0..<q))  // [N, Q, 2]
        trace?.record("itm.query_logits", queryLogits)
        let logits = Self.meanOverQueries(queryLogits)  // [N, 2]
        trace?.record("itm.logits", logits)
        let probabilities = Kernels.softmax(logits).scalars
        let probabilityMatch = (0..<n).map { probabilities[2 * $0 + 1] }
        return Blip2MatchOutput(queryLogits: queryLogits, logits: logits, probabilityMatch: probabilityMatch)
    }

    /// ITM for every image with every text, image-major (pair n = image n / T, text n % T).
    public func matchAll(images: Blip2ImageFeatures, texts: Blip2TokenBatch, trace: Blip2Trace? = nil)
        throws(Blip2ModelError) -> Blip2MatchOutput {
        let pairs = (0..<images.count).flatMap { i in (0..<texts.count).map { (image: i, text: $0) } }
        return try match(images: images, texts: texts, pairs: pairs, trace: trace)
    }

    /// x: [N, Q, K] -> mean over Q -> [N, K], summed in f64.
    static func meanOverQueries(_ x: Tensor) -> Tensor {
        let (n, q, k) = (x.shape[0], x.shape[1], x.shape[2])
        var out = Tensor(zeros: [n, k])
        x.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { os in
                for i in 0..<n {
                    for j in 0..<k {
                        var sum = 0.0
                        for r in 0..<q { sum += Double(xs[(i * q + r) * k + j]) }
                        os[i * k + j] = Float(sum / Double(q))
                    }
                }
            }
        }
        return out
    }
}
