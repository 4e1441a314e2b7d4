// The additive self-attention masks of the Q-Former's regimes. Upstream (transformers 5.23.0) builds the
// bidirectional ones with `create_bidirectional_mask` (dtype-min where the mask is 0); the generation mask
// follows LAVIS's `get_extended_attention_mask(..., is_decoder=True)` with query tokens as a prefix
// (blip2_qformer.py ITG loss), which transformers does not implement.
// Shapes: see Blip2QFormerMultiHeadAttention.

import Tensors

/// Builders of the Q-Former's self-attention masks (values 0 = attend, −inf = hidden).
public enum Blip2QFormerAttentionMask {
    /// Text only (ITC text side): each row sees the non-padding tokens of its sequence. -> [T, 1, 1, L].
    public static func padding(_ tokens: Blip2TokenBatch) -> Tensor {
        Kernels.paddingMask(tokens.maskTensor)
    }

    /// Query tokens then text, bidirectional (ITM): every row sees all Q queries and the non-padding text.
    /// The retrieval checkpoint has no image-token placeholder, so, as upstream, Q ones are put in front of
    /// the text mask. -> [T, 1, 1, Q + L].
    public static func joint(queryLength q: Int, text tokens: Blip2TokenBatch) -> Tensor {
        let (t, l) = (tokens.count, tokens.length)
        var scalars = [Float](repeating: 0, count: t * (q + l))
        for i in 0..<t {
            for j in 0..<l where tokens.mask[i * l + j] == 0 { scalars[i * (q + l) + q + j] = Kernels.maskedScore }
        }
        return Tensor(shape: [t, 1, 1, q + l], scalars: scalars)
    }

    /// Query tokens then text, for image-grounded text generation (ITG): query rows see only the queries;
    /// text row i sees every query and the non-padding text rows 0...i (causal). -> [T, 1, Q + L, Q + L].
    public static func generation(queryLength q: Int, text tokens: Blip2TokenBatch) -> Tensor {
        let (t, l) = (tokens.count, tokens.length)
        let n = q + l
        var scalars = [Float](repeating: 0, count: t * n * n)
        for b in 0..<t {
            for row in 0..<n {
                for col in q..<n {
                    let hidden = row < q || col > row || tokens.mask[b * l + col - q] == 0
                    if hidden { scalars[(b * n + row) * n + col] = Kernels.maskedScore }
                }
            }
        }
        return Tensor(shape: [t, 1, n, n], scalars: scalars)
    }
}
