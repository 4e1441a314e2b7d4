// Follows `Blip2VisionEmbeddings` in transformers/models/blip_2/modeling_blip_2.py (5.23.0): a patch
// convolution, a learned class token in front, learned absolute position embeddings added.
//
// Legend for shape comments in the vision files: B = images, Ch = 3 colour channels, S = image side,
// p = patch side, N = (S/p)² patches, P = N + 1 tokens (class token first), C = vision width,
// F = MLP width, H = heads.

import SafeTensors
import Tensors

/// The vision tower's input layer: pixels [B, 3, S, S] -> tokens [B, P, C].
///
/// No position interpolation (`interpolate_pos_encoding`): the model runs at the checkpoint's image size,
/// which `Blip2VisionModel` checks before calling this.
struct Blip2VisionEmbeddings: Sendable {
    let config: Blip2VisionConfig
    /// [1, 1, C]
    let classEmbedding: Tensor
    /// [C, Ch, p, p], Conv2d(kernel = stride = p)
    let patchWeight: Tensor
    /// [C]
    let patchBias: Tensor
    /// [1, P, C]
    let positionEmbedding: Tensor

    init(config: Blip2VisionConfig, weights: WeightScope) throws(Blip2ModelError) {
        self.config = config
        let c = config.hiddenSize
        let p = config.patchSize
        (classEmbedding, patchWeight, patchBias, positionEmbedding) = try Blip2ModelError.loading {
            () throws(SafeTensorsError) in
            (try weights.tensor("class_embedding", shape: [1, 1, c]),
             try weights.tensor("patch_embedding.weight", shape: [c, Blip2VisionConfig.channelCount, p, p]),
             try weights.tensor("patch_embedding.bias", shape: [c]),
             try weights.tensor("position_embedding", shape: [1, config.numPositions, c]))
        }
    }

    /// pixels: [B, Ch, S, S] (checked by the caller) -> [B, P, C].
    func callAsFunction(_ pixels: Tensor) -> Tensor {
        let b = pixels.shape[0]
        let c = config.hiddenSize
        let patches = Kernels.patchEmbedding(pixels: pixels, weight: patchWeight, bias: patchBias)  // [B, N, C]
        var out = Tensor(zeros: [b, config.numPositions, c])
        out.update(axis: 1, at: 0, from: classEmbedding.broadcast(to: [b, 1, c]))
        out.update(axis: 1, at: 1, from: patches)
        Kernels.addInPlace(&out, positionEmbedding)  // [1, P, C] broadcast over B
        return out
    }
}
