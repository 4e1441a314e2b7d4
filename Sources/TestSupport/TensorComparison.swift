import Tensors

/// Largest |a − b| over two same-shaped tensors: infinity when the shapes differ or a value is NaN, so a
/// parity check can never pass by accident.
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a.scalars, b.scalars) {
        let d = abs(x - y)
        if !(d <= worst) { worst = d.isNaN ? .infinity : d }
    }
    return worst
}
