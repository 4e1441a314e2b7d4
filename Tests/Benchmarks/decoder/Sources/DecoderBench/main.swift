// Times the Swift OPT decoder (OPTGenerator, greedy with KV caches) and the whole captioning model
// (Blip2ForConditionalGeneration, pixels to ids) in a release build, on the random BLIP-2 OPT-125M weights that
// torch_reference.py saved; checks the generated ids equal transformers' and compares with its timing JSON.
// Run through run.sh.
//
// Usage: DecoderBench WEIGHTS_DIR [TORCH_JSON]
// DECODER_BENCH_ONLY=1, 8 or caption runs just that part (for quick before/after comparisons and `perf`).

import Blip2
import CBLAS
import Foundation
import SafeTensors
import Tensors

// The same settings as torch_reference.py (both sides must time the same work).
/// Prompt length of the decode runs (the issue's "context 40").
let context = 40
/// New tokens per decode run, forced with min_new_tokens so EOS cannot end a run early.
let newTokens = 32
/// New tokens of the caption run (the server's default max_new_tokens).
let captionTokens = 30
let batches = [1, 8]
/// Timed runs after warm-up, per batch size; the median is reported.
let repeats = [1: 5, 8: 3]
let captionRepeats = 3
let warmup = 1
let eosTokenID = 2
let padTokenID = 1

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Fastest run of each named timing (the least disturbed by other load), printed at the end.
nonisolated(unsafe) var minima: [(String, Double)] = []

/// Median seconds of `count` runs after `warmup`, and the last run's result; records the fastest as `name`.
func timed<T>(_ count: Int, _ name: String, _ body: () throws -> T) throws -> (Double, T) {
    var times: [Double] = []
    var last: T?
    for i in 0..<(warmup + count) {
        let t = try seconds { last = try body() }
        if i >= warmup { times.append(t) }
    }
    guard let last else { throw BenchError.noRun }
    minima.append((name, times.min() ?? 0))
    return (median(times), last)
}

enum BenchError: Error { case noRun, badInput(String) }

func intRows(_ t: Tensor) -> [[Int]] {
    let (rows, cols) = (t.shape[0], t.shape[1])
    let s = t.scalars
    return (0..<rows).map { r in (0..<cols).map { Int(s[r * cols + $0]) } }
}

func options(_ n: Int) -> GenerationOptions {
    GenerationOptions(maxNewTokens: n, minNewTokens: n, eosTokenIDs: [eosTokenID], padTokenID: padTokenID)
}

func run() throws {
    let args = CommandLine.arguments
    guard args.count >= 2 else {
        print("usage: DecoderBench WEIGHTS_DIR [TORCH_JSON]")
        exit(2)
    }
    let dir = args[1]
    let model = try Blip2ForConditionalGeneration.load(directory: dir)
    let generator = OPTGenerator(model: model.languageModel)
    let inputs = try SafeTensorsFile(path: dir + "/inputs.safetensors")
    let prompts = intRows(try inputs.tensor(named: "prompt_ids"))
    let pixels = try inputs.tensor(named: "pixel_values")
    guard prompts.count >= (batches.max() ?? 1), prompts.allSatisfy({ $0.count == context }) else {
        throw BenchError.badInput("prompt_ids must be [\(batches.max() ?? 1), \(context)]")
    }
    let torchIDs = try? SafeTensorsFile(path: dir + "/torch_ids.safetensors")

    let corename = openblas_get_corename().map { String(cString: $0) } ?? "?"
    let env = ProcessInfo.processInfo.environment
    print("openblas core: \(corename) (OPENBLAS_CORETYPE=\(env["OPENBLAS_CORETYPE"] ?? "unset")), "
        + "BLAS threads \(Kernels.blasThreadCount)")
    var torch: [String: Any] = [:]
    if args.count >= 3, let data = FileManager.default.contents(atPath: args[2]),
       let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
        torch = json
        print("torch: \(json["torch"] ?? "?"), transformers \(json["transformers"] ?? "?"), "
            + "threads \(json["threads"] ?? "?"), attention \(json["attn_implementation"] ?? "?")")
    }
    let torchDecode = torch["decode_seconds"] as? [String: Double] ?? [:]
    let torchPrefill = torch["prefill_seconds"] as? [String: Double] ?? [:]

    func check(_ name: String, _ ours: [[Int]]) {
        guard let file = torchIDs, let theirs = try? file.tensor(named: name) else {
            print("  check \(name): no torch ids")
            return
        }
        let same = intRows(theirs) == ours
        print("  check \(name): ids \(same ? "EQUAL" : "DIFFER") to transformers' greedy ids"
            + (same ? "" : "\n    swift \(ours)\n    torch \(intRows(theirs))"))
    }

    print("decode: context \(context), \(newTokens) new tokens (greedy, KV cache); tokens/s = batch × new / time")
    let only = env["DECODER_BENCH_ONLY"]
    for batch in batches where only == nil || only == String(batch) {
        let rows = Array(prompts[0..<batch])
        func decode(_ n: Int) throws -> GenerationOutput {
            var generation: [GenerationInput] = []
            for ids in rows {
                generation.append(GenerationInput(
                    ids: ids, attentionMask: [Int](repeating: 1, count: ids.count),
                    embeddings: try model.languageModel.decoder.embed(ids)))
            }
            return try generator.generate(generation, options: options(n))
        }
        let (t, out) = try timed(repeats[batch] ?? 3, "decode.\(batch)") { try decode(newTokens) }
        let (prefill, _) = try timed(repeats[batch] ?? 3, "prefill.\(batch)") { try decode(1) }
        let rate = Double(batch * newTokens) / t
        let stepRate = Double(batch * (newTokens - 1)) / (t - prefill)
        var line = String(format: "batch %d: swift %.3f s = %.1f tok/s (prefill %.3f s; steps after it %.1f tok/s)",
                          batch, t, rate, prefill, stepRate)
        if let tt = torchDecode[String(batch)], let tp = torchPrefill[String(batch)] {
            let torchRate = Double(batch * newTokens) / tt
            line += String(format: "\n         torch %.3f s = %.1f tok/s (prefill %.3f s; steps after it %.1f tok/s)"
                + "\n         swift/torch tokens/s = %.2fx (steps after prefill %.2fx)",
                tt, torchRate, tp, Double(batch * (newTokens - 1)) / (tt - tp), rate / torchRate,
                stepRate / (Double(batch * (newTokens - 1)) / (tt - tp)))
        }
        print(line)
        check("decode.\(batch)", out.sequences.map { Array($0[0].suffix(newTokens)) })
    }

    guard only == nil || only == "caption" else { return }
    print("caption: one image, pixels [1, 3, 224, 224] to \(captionTokens) ids (preprocessing not timed)")
    let (t, out) = try timed(captionRepeats, "caption") {
        let query = try model.queryOutput(pixels)
        return try model.generate(queryOutput: query, prompts: [nil], options: options(captionTokens))
    }
    var line = String(format: "caption: swift %.3f s", t)
    if let tt = torch["caption_seconds"] as? Double {
        line += String(format: "; torch %.3f s; torch/swift = %.2fx", tt, tt / t)
    }
    print(line)
    check("caption", out.sequences.map { Array($0[0].suffix(captionTokens)) })
    let (half, _) = try timed(captionRepeats, "caption_image_half") { try model.queryOutput(pixels) }
    line = String(format: "  of which the image half (vision + Q-Former): swift %.3f s", half)
    if let th = torch["caption_image_half_seconds"] as? Double { line += String(format: "; torch %.3f s", th) }
    print(line)
}

/// The fastest runs of both sides, and their ratios (torch time / swift time).
func printMinima(_ torchMinima: [String: Double]) {
    print("fastest runs (torch/swift time ratio):")
    for (name, t) in minima {
        var line = "  \(name): " + String(format: "swift %.3f s", t)
        if let tt = torchMinima[name] { line += String(format: "; torch %.3f s; %.2fx", tt, tt / t) }
        print(line)
    }
}

do {
    try run()
    var torchMinima: [String: Double] = [:]
    if CommandLine.arguments.count >= 3, let data = FileManager.default.contents(atPath: CommandLine.arguments[2]),
       let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
        torchMinima = json["min_seconds"] as? [String: Double] ?? [:]
    }
    printMinima(torchMinima)
} catch {
    print("error: \(error)")
    exit(1)
}
