// The language half of `Blip2ForConditionalGeneration.generate` (models/blip_2/modeling_blip_2.py, 5.23.0) in
// one call: project the query outputs, build and stitch the inputs, generate with the OPT decoder.
// Legend: B = images, Q = query tokens, Cq = Q-Former width.

import Tensors

extension Blip2LanguageBridge {
    /// Captions (prompt nil) or continuations of `prompts[b]` (token ids starting with BOS, as the OPT
    /// tokenizer encodes them) for each image's query output [B, Q, Cq].
    ///
    /// Prompts of different lengths need no padding: every sequence decodes with its own cache. The ids
    /// equal transformers' for a left-padded batch, except where a processor reads the padding itself
    /// (transformers' repetition penalty and n-gram ban also see the pad ids of padded rows).
    public func generate(
        queryOutput: Tensor, prompts: [[Int]?], model: OPTForCausalLM, options: GenerationOptions,
        observer: GenerationObserver = GenerationObserver()
    ) throws(GenerationError) -> GenerationOutput {
        guard queryOutput.rank == 3, queryOutput.shape[0] == prompts.count else {
            throw .shapeMismatch("query output \(queryOutput.shape) for \(prompts.count) prompts")
        }
        guard queryOutput.shape[1] == numQueryTokens, queryOutput.shape[2] == projectionWeight.shape[1] else {
            throw .shapeMismatch("query output \(queryOutput.shape), expected [B, \(numQueryTokens), "
                + "\(projectionWeight.shape[1])]")
        }
        var ids: [[Int]] = []
        for prompt in prompts { ids.append(try inputIDs(prompt: prompt)) }
        let inputs = try self.inputs(ids: ids, projected: project(queryOutput), decoder: model.decoder)
        return try OPTGenerator(model: model).generate(inputs, options: options, observer: observer)
    }
}
