// Which body the C kernels (the `CKernels` target: small-row linear, GELU, exp/softmax) run.
import CKernels

/// The implementation a `CKernels` function runs: chosen from the CPU at run time (`automatic`: AVX2+FMA when
/// the CPU has both, else portable C), or forced, so tests can compare each body with its naive twin on any
/// machine. `avx2` on a CPU without AVX2+FMA runs the portable body.
enum KernelPath: Sendable, CaseIterable {
    case automatic, portable, avx2

    /// Whether this CPU runs the AVX2+FMA bodies (x86-64 with both features).
    static let hasAVX2FMA: Bool = ck_has_avx2_fma() != 0

    var c: ck_path {
        switch self {
        case .automatic: CK_PATH_AUTO
        case .portable: CK_PATH_PORTABLE
        case .avx2: CK_PATH_AVX2
        }
    }
}
