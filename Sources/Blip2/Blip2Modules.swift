// The two torch building blocks every BLIP-2 component is made of, `nn.Linear` and `nn.LayerNorm`, read
// through a weight scope. Upstream: torch.nn.Linear / torch.nn.LayerNorm as used by
// transformers/models/blip_2/modeling_blip_2.py (5.23.0).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SafeTensors
import Tensors

/// `nn.Linear(in, out, bias)`: `weight` [out, in] and `bias` [out] under the scope, applied as one GEMM over
/// all leading rows (`Kernels.linear`).
struct Blip2Linear: Sendable {
    /// [Out, In], Hugging Face's layout (never transposed).
    let weight: Tensor
    /// [Out], or nil for a bias-free projection.
    let bias: Tensor?

    var inFeatures: Int { weight.shape[1] }
    var outFeatures: Int { weight.shape[0] }

    /// Reads `weight` (and `bias` when `hasBias`) under `scope`, with their shapes checked.
    init(_ scope: WeightScope, inFeatures: Int, outFeatures: Int, hasBias: Bool = true) throws(Blip2ModelError) {
        weight = try Blip2ModelError.loading { () throws(SafeTensorsError) in
            try scope.tensor("weight", shape: [outFeatures, inFeatures])
        }
        bias = hasBias ? try Blip2ModelError.loading { () throws(SafeTensorsError) in
            try scope.tensor("bias", shape: [outFeatures])
        } : nil
    }

    /// A projection made of given tensors (e.g. one third of a fused QKV weight).
    init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        self.weight = weight
        self.bias = bias
    }

    /// x: [..., In] -> [..., Out].
    func callAsFunction(_ x: Tensor) -> Tensor {
        Kernels.linear(x, weight: weight, bias: bias)
    }
}

/// `nn.LayerNorm(C, eps)`: `weight` and `bias` [C] under the scope.
struct Blip2LayerNorm: Sendable {
    let weight: Tensor
    let bias: Tensor
    let eps: Float

    init(_ scope: WeightScope, width: Int, eps: Double) throws(Blip2ModelError) {
        (weight, bias) = try Blip2ModelError.loading { () throws(SafeTensorsError) in
            (try scope.tensor("weight", shape: [width]), try scope.tensor("bias", shape: [width]))
        }
        self.eps = Float(eps)
    }

    /// x: [..., C] -> [..., C].
    func callAsFunction(_ x: Tensor) -> Tensor {
        Kernels.layerNorm(x, weight: weight, bias: bias, eps: eps)
    }
}

extension ActivationFunction {
    /// Applies this nonlinearity to every element of `x`, in place.
    func applyInPlace(_ x: inout Tensor) {
        switch self {
        case .gelu: Kernels.geluInPlace(&x)
        case .relu: Kernels.reluInPlace(&x)
        case .geluNew:
            // transformers NewGELUActivation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
            let sqrtTwoOverPi: Float = 0.7978845608028654
            x.withUnsafeMutableBufferPointer { xs in
                for i in xs.indices {
                    let v = xs[i]
                    xs[i] = 0.5 * v * (1 + tanhf(sqrtTwoOverPi * (v + 0.044715 * v * v * v)))
                }
            }
        }
    }
}
