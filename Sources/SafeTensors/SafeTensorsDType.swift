/// The element types a safetensors header may declare. All are recognised (so a file holding,
/// say, an I64 buffer still opens and validates); only F32, F16 and BF16 load as tensors.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case u16 = "U16", i16 = "I16", f16 = "F16", bf16 = "BF16"
    case u32 = "U32", i32 = "I32", f32 = "F32"
    case u64 = "U64", i64 = "I64", f64 = "F64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .u16, .i16, .f16, .bf16: return 2
        case .u32, .i32, .f32: return 4
        case .u64, .i64, .f64: return 8
        }
    }

    /// Whether `SafeTensorsFile.tensor(named:)` can widen this dtype to f32.
    public var isLoadable: Bool { self == .f32 || self == .f16 || self == .bf16 }
}
