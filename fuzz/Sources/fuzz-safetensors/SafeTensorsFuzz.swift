import FuzzSupport
import QuillFormats

/// The safetensors reader on any bytes: it either throws a `SafeTensorsError` or checks every entry when it opens
/// the file, so that reading any tensor afterwards in its own element type is in bounds and gives `count` elements.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let file: SafeTensors
    do {
        file = try SafeTensors(bytes: Array(UnsafeBufferPointer(start: data, count: size)), source: "fuzz")
    } catch is SafeTensorsError {
        return 0
    } catch {
        require(false, "an error that is not a SafeTensorsError: \(error)")
        return 0
    }
    for name in file.names {
        do {
            let info = try file.info(name)
            let count: Int
            switch info.dtype {
            case .F32, .F64: count = try file.floats(name).count; _ = try file.doubles(name)
            case .I64, .I32, .I16, .I8, .U32, .U16, .U8, .BOOL:
                count = try file.int64s(name).count
                _ = try? file.int32s(name)  // throws `valueOutOfRange` for an I64 or U32 that does not fit
            case .F16, .BF16, .U64: continue  // stored, but no reader takes them
            }
            require(count == info.count, "\(name): read \(count) elements, shape \(info.shape) holds \(info.count)")
        } catch {
            require(false, "\(name): reading a checked entry in its own dtype threw \(error)")
        }
    }
    return 0
}
