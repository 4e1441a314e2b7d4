// Times the Swift vision tower + Q-Former query pass (release build) on the random ViT-B/16 + BERT-base
// weights that torch_reference.py saved, checks it computes what transformers computes, measures the sgemm
// peak of this machine, and compares with the PyTorch timing JSON. Run through run.sh.
//
// Usage: VisionBench WEIGHTS_DIR [TORCH_JSON]
// VISION_BENCH_ONLY=1 or 8 runs just that batch size (for quick before/after comparisons and `perf`).

import Blip2
import CBLAS
import Foundation
import SafeTensors
import Tensors

/// Batches timed, and how many timed runs (after warm-up) each gets; the median is reported.
let batches = [1, 8]
let repeats = [1: 10, 8: 4]
let warmup = 2
/// Side of the square sgemm used to estimate the peak: large enough that packing overhead is small,
/// small enough to finish in well under a second per run on two cores.
let peakSide = 1536

struct Shapes {
    let width = 768, layers = 12, heads = 12, mlp = 3072, patch = 16, image = 224
    let qWidth = 768, qLayers = 12, qHeads = 12, qFFN = 3072, queries = 32, crossEvery = 2
    var tokens: Int { (image / patch) * (image / patch) + 1 }

    /// Multiply-adds ×2 of every GEMM in one image's forward (attention products included).
    var flopsPerImage: Double {
        let p = Double(tokens), c = Double(width), f = Double(mlp)
        var vision = 2 * (p - 1) * Double(3 * patch * patch) * c  // patch embedding
        vision += Double(layers) * (2 * p * c * 3 * c + 2 * 2 * p * p * c + 2 * p * c * c + 2 * 2 * p * c * f)
        let q = Double(queries), h = Double(qWidth), ff = Double(qFFN)
        var qformer = 0.0
        for layer in 0..<qLayers {
            qformer += 2 * q * h * 3 * h + 2 * 2 * q * q * h + 2 * q * h * h + 2 * 2 * q * h * ff
            if layer % crossEvery == 0 {
                qformer += 2 * q * h * h + 2 * 2 * p * c * h + 2 * 2 * q * p * h + 2 * q * h * h
            }
        }
        return vision + qformer
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func sgemmPeak() -> Double {
    let n = peakSide
    let a = Tensor(shape: [n, n], repeating: 0.5)
    let b = Tensor(shape: [n, n], repeating: 0.25)
    var best = Double.infinity
    for _ in 0..<5 { best = min(best, seconds { _ = Kernels.matmul(a, b) }) }
    return 2 * Double(n * n * n) / best / 1e9
}

func run() throws {
    let args = CommandLine.arguments
    guard args.count >= 2 else {
        print("usage: VisionBench WEIGHTS_DIR [TORCH_JSON]")
        exit(2)
    }
    let dir = args[1]
    let s = Shapes()
    let vision = try Blip2VisionConfig(
        hiddenSize: s.width, intermediateSize: s.mlp, numHiddenLayers: s.layers, numAttentionHeads: s.heads,
        imageSize: s.image, patchSize: s.patch)
    let qformerConfig = try Blip2QFormerConfig(
        hiddenSize: s.qWidth, numHiddenLayers: s.qLayers, numAttentionHeads: s.qHeads, intermediateSize: s.qFFN,
        crossAttentionFrequency: s.crossEvery, encoderHiddenSize: s.width)
    let store = try WeightStore(directory: dir)
    let visionModel = try Blip2VisionModel(config: vision, weights: store.scope(Blip2Checkpoint.visionModelPrefix))
    let qformer = try Blip2QFormerModel(config: qformerConfig, weights: store.scope(Blip2Checkpoint.qformerPrefix))
    let queryTokens = try store.tensor(Blip2Checkpoint.queryTokensKey, shape: [1, s.queries, s.qWidth])

    func forward(_ pixels: Tensor) throws -> Tensor {
        let image = try visionModel(pixels)
        let queries = queryTokens.broadcast(to: [pixels.shape[0], s.queries, s.qWidth])
        return try qformer(queries, queryLength: s.queries,
                           imageMemory: Blip2QFormerImageMemory(hiddenStates: image.lastHiddenState))
    }

    let check = try SafeTensorsFile(path: dir + "/check.safetensors")
    let reference = try check.tensor(named: "query_output")
    let ours = try forward(try check.tensor(named: "pixel_values"))
    var worst: Float = 0
    for (x, y) in zip(ours.scalars, reference.scalars) { worst = max(worst, abs(x - y)) }
    print("check: max |swift - transformers| over the query output = \(worst)")

    let corename = openblas_get_corename().map { String(cString: $0) } ?? "?"
    let env = ProcessInfo.processInfo.environment
    print("openblas core: \(corename) (OPENBLAS_CORETYPE=\(env["OPENBLAS_CORETYPE"] ?? "unset")), "
        + "BLAS threads \(Kernels.blasThreadCount)")
    let peak = sgemmPeak()
    print(String(format: "sgemm peak (%d³): %.1f GFLOP/s", peakSide, peak))

    var torchSeconds: [String: Double] = [:]
    var torchFastest: [String: Double] = [:]
    if args.count >= 3, let data = FileManager.default.contents(atPath: args[2]),
       let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
       let secs = json["seconds"] as? [String: Double] {
        torchSeconds = secs
        torchFastest = json["fastest"] as? [String: Double] ?? [:]
        print("torch: \(json["torch"] ?? "?"), threads \(json["threads"] ?? "?"), "
            + "attention \(json["attn_implementation"] ?? "?")")
    }
    // VISION_BENCH_ONLY=1 or 8 times one batch size (for quick before/after comparisons and `perf`).
    let only = env["VISION_BENCH_ONLY"].flatMap { Int($0) }
    for batch in batches where only == nil || only == batch {
        var state = UInt64(batch)
        let pixels = Tensor(shape: [batch, 3, s.image, s.image]) { out in
            for i in out.indices {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                out[i] = Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
            }
        }
        var times: [Double] = []
        for i in 0..<(warmup + (repeats[batch] ?? 3)) {
            let t = try seconds { _ = try forward(pixels) }
            if i >= warmup { times.append(t) }
        }
        let t = median(times)
        let gflops = s.flopsPerImage * Double(batch) / t / 1e9
        var line = String(format: "batch %d: swift %.3f s (%.1f GFLOP/s, %.0f%% of sgemm peak)",
                          batch, t, gflops, 100 * gflops / peak)
        if let torch = torchSeconds[String(batch)] {
            line += String(format: "; torch %.3f s (%.1f GFLOP/s); torch/swift = %.2fx",
                           torch, s.flopsPerImage * Double(batch) / torch / 1e9, torch / t)
        }
        print(line)
        var fastest = String(format: "  fastest runs: swift %.3f s", times.min() ?? 0)
        if let torch = torchFastest[String(batch)] {
            fastest += String(format: "; torch %.3f s; torch/swift = %.2fx", torch, torch / (times.min() ?? 1))
        }
        print(fastest)
    }
}

do {
    try run()
} catch {
    print("error: \(error)")
    exit(1)
}
