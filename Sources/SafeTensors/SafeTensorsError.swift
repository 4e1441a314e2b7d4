/// Everything that can be wrong with a checkpoint file, shard index or weight lookup. Every
/// malformed or hostile input ends here, never in a crash. Messages name the file and key.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, read or mapped (`reason` is the system's message).
    case io(path: String, reason: String)
    /// Shorter than the 8-byte header length prefix.
    case fileTooSmall(path: String, size: Int)
    /// The declared header length is larger than the file or than `maxHeaderBytes`.
    case headerLengthInvalid(path: String, declared: UInt64, fileSize: Int)
    /// The header is not valid JSON, or not the structure safetensors requires.
    case invalidHeader(path: String, reason: String)
    /// The same tensor name appears twice in one header, or in two shards.
    case duplicateKey(path: String, key: String)
    /// A dtype string that is not a safetensors dtype at all.
    case unknownDType(path: String, key: String, dtype: String)
    /// A real safetensors dtype that this loader does not convert to f32 (e.g. I64).
    case unsupportedDType(key: String, dtype: String)
    /// `data_offsets` that are reversed, out of the data section, or disagree with shape × dtype.
    case invalidOffsets(path: String, key: String, reason: String)
    /// Two tensors share bytes.
    case overlappingTensors(path: String, first: String, second: String)
    /// Bytes of the data section that no tensor claims (the reference library rejects these too).
    case uncoveredData(path: String, from: Int, to: Int)
    /// The shard index is malformed or names a file that is missing or unsafe.
    case invalidIndex(path: String, reason: String)
    /// Neither `model.safetensors.index.json` nor `model.safetensors` in a model directory.
    case noWeightFiles(directory: String)
    /// A tensor the model asked for is in no file.
    case missingTensor(key: String)
    /// A tensor has a different shape from what the model expects.
    case shapeMismatch(key: String, got: [Int], expected: [Int])

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .fileTooSmall(path, size): return "\(path): \(size) bytes is too small for a safetensors file"
        case let .headerLengthInvalid(path, declared, fileSize):
            return "\(path): header length \(declared) is impossible for a file of \(fileSize) bytes " +
                "(limit \(SafeTensorsHeader.maxHeaderBytes))"
        case let .invalidHeader(path, reason): return "\(path): invalid header: \(reason)"
        case let .duplicateKey(path, key): return "\(path): tensor '\(key)' appears more than once"
        case let .unknownDType(path, key, dtype): return "\(path): tensor '\(key)' has unknown dtype '\(dtype)'"
        case let .unsupportedDType(key, dtype):
            return "tensor '\(key)' has dtype \(dtype); only F32, F16 and BF16 can be loaded"
        case let .invalidOffsets(path, key, reason): return "\(path): tensor '\(key)': \(reason)"
        case let .overlappingTensors(path, first, second):
            return "\(path): tensors '\(first)' and '\(second)' overlap"
        case let .uncoveredData(path, from, to):
            return "\(path): data bytes \(from)..<\(to) belong to no tensor"
        case let .invalidIndex(path, reason): return "\(path): invalid shard index: \(reason)"
        case let .noWeightFiles(directory):
            return "\(directory): no model.safetensors.index.json or model.safetensors"
        case let .missingTensor(key): return "missing tensor '\(key)'"
        case let .shapeMismatch(key, got, expected):
            return "tensor '\(key)' has shape \(got), expected \(expected)"
        }
    }
}
