/// A growable scratch buffer, reallocated only when a larger size is asked for: the working memory of a layer or an
/// engine, so a hot loop allocates nothing once the largest shape has been seen.
public struct Scratch {
    public private(set) var buffer = AlignedBuffer(count: 0)

    public init() {}

    /// A pointer to at least `count` floats (contents kept only while the size does not grow).
    public mutating func pointer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = AlignedBuffer(count: count) }
        return buffer.base
    }
}
