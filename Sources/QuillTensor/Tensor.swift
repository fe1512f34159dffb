/// A 64-byte aligned, zero-initialised buffer of `Float`s, owned by this object and freed with it.
///
/// 64 bytes is one cache line and one AVX-512 register, so every tensor starting at a buffer start (or at a
/// ``ParameterSet`` slot) can be loaded with aligned vector loads.
public final class AlignedBuffer: @unchecked Sendable {
    /// The alignment, in bytes, of every allocation.
    public static let alignment = 64

    /// The first element; valid for ``count`` elements while this object lives.
    public let base: UnsafeMutablePointer<Float>
    /// The number of `Float`s.
    public let count: Int

    /// Allocates `count` zeroed floats.
    public init(count: Int) {
        precondition(count >= 0, "negative buffer size \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: AlignedBuffer.alignment)
        base = raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    /// The whole buffer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// Sets every element to zero (one memset).
    public func zero() {
        UnsafeMutableRawPointer(base).initializeMemory(as: UInt8.self, repeating: 0, count: count * 4)
    }
}

/// A contiguous row-major `Float` tensor: a shape and a view into an ``AlignedBuffer``.
///
/// Tensors have reference semantics: copies of a `Tensor` (and the named views of a ``ParameterSet``) share
/// storage, as the kernels write into buffers they are given.
public struct Tensor: @unchecked Sendable {
    /// The storage; kept alive by every view.
    public let storage: AlignedBuffer
    /// The index of the first element in ``storage``.
    public let offset: Int
    /// The extents, outermost first (row-major: the last index varies fastest).
    public let shape: [Int]
    /// The number of elements, the product of ``shape``.
    public let count: Int

    /// A zero tensor of `shape` in a new 64-byte aligned buffer.
    public init(zeros shape: [Int]) {
        let count = Tensor.elementCount(shape)
        self.init(storage: AlignedBuffer(count: count), offset: 0, shape: shape)
    }

    /// A tensor of `shape` holding `scalars` (row-major); `scalars.count` must equal the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        self.init(zeros: shape)
        precondition(scalars.count == count, "\(scalars.count) scalars for shape \(shape)")
        scalars.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: count) }
    }

    /// A view of `shape` at `offset` into `storage`.
    public init(storage: AlignedBuffer, offset: Int, shape: [Int]) {
        let count = Tensor.elementCount(shape)
        precondition(offset >= 0 && offset + count <= storage.count, "view \(shape) at \(offset) outside buffer")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = count
    }

    /// The first element. Valid while ``storage`` lives: keep the tensor (or its ``ParameterSet``) alive across the
    /// use — `someFunction().base` of a temporary dangles (`withExtendedLifetime` where in doubt).
    public var base: UnsafeMutablePointer<Float> { storage.base + offset }

    /// The elements as a buffer pointer (valid while this tensor lives).
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// The elements, copied into an array.
    public var scalars: [Float] { Array(buffer) }

    /// The element at a flat (row-major) index.
    public subscript(flat index: Int) -> Float {
        get { precondition(index >= 0 && index < count); return base[index] }
        nonmutating set { precondition(index >= 0 && index < count); base[index] = newValue }
    }

    /// The same elements with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// Sets every element to zero.
    public func zero() { base.update(repeating: 0, count: count) }

    static func elementCount(_ shape: [Int]) -> Int {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        return shape.reduce(1, *)
    }
}
