// One safetensors file, memory-mapped read-only. Only this module maps files (architecture.md).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Tensors

/// A safetensors file mapped read-only into memory, with its validated header.
///
/// The mapping lives as long as this object or any tensor borrowed from it: F32 tensors whose
/// data is 4-byte aligned are returned zero-copy (they read the mapping; the OS pages them in on
/// demand and can drop them again), F16/BF16 (and misaligned F32) are widened into fresh f32
/// storage. Immutable after `init`, so safe to share between threads.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The validated header.
    public let header: SafeTensorsHeader
    private let base: UnsafeRawPointer
    private let size: Int

    /// Maps and validates the file at `path`.
    public init(path: String) throws(SafeTensorsError) {
        self.path = path
        // O_NONBLOCK: opening a FIFO placed where a checkpoint should be must not hang; it is
        // then rejected as not a regular file. No effect on regular files.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .io(path: path, reason: Self.systemError()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: path, reason: Self.systemError()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, reason: "not a regular file") }
        let size = Int(info.st_size)
        guard size >= SafeTensorsHeader.prefixBytes else { throw .fileTooSmall(path: path, size: size) }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .io(path: path, reason: "mmap failed: \(Self.systemError())")
        }
        do {
            header = try SafeTensorsHeader.parse(file: UnsafeRawBufferPointer(start: mapped, count: size), path: path)
        } catch {
            munmap(mapped, size)
            throw error
        }
        base = UnsafeRawPointer(mapped)
        self.size = size
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), size)
    }

    private static func systemError() -> String {
        String(cString: strerror(errno))
    }

    /// Tensor names in header order.
    public var names: [String] { header.names }

    /// The `__metadata__` strings.
    public var metadata: [String: String] { header.metadata }

    /// The header entry for `name`, if present.
    public func entry(_ name: String) -> SafeTensorsHeader.Entry? { header.entries[name] }

    /// The tensor `name` as f32 (F32 zero-copy when aligned; F16/BF16 widened exactly).
    public func tensor(named name: String) throws(SafeTensorsError) -> Tensor {
        guard let e = header.entries[name] else { throw .missingTensor(key: name) }
        let bytes = UnsafeRawBufferPointer(start: base + header.dataStart + e.byteRange.lowerBound,
                                           count: e.byteRange.count)
        switch e.dtype {
        case .f32:
            #if _endian(little)
            if let p = bytes.baseAddress, Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 {
                return Tensor(borrowing: p.assumingMemoryBound(to: Float.self), shape: e.shape, owner: self)
            }
            #endif
            return Tensor(shape: e.shape) { out in
                for i in 0..<out.count {
                    let bits = bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                    out[i] = Float(bitPattern: UInt32(littleEndian: bits))
                }
            }
        case .f16:
            return Tensor(shape: e.shape) { out in
                for i in 0..<out.count {
                    let bits = bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    out[i] = HalfFloat.widen(UInt16(littleEndian: bits))
                }
            }
        case .bf16:
            return Tensor(shape: e.shape) { out in
                for i in 0..<out.count {
                    let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            }
        default:
            throw .unsupportedDType(key: name, dtype: e.dtype.rawValue)
        }
    }
}

/// IEEE 754 binary16 → binary32, exact for every value (subnormals, ±0, ±inf, NaN payloads).
/// Written out rather than using `Float16`, which is not available on every platform Swift runs on.
enum HalfFloat {
    static func widen(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0x1F {  // inf or NaN
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // zero or subnormal: mantissa · 2^-24, exact in f32
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}
