import QuillTensor

/// A growable scratch buffer, reallocated only when a larger size is asked for.
struct Scratch {
    private(set) var buffer = AlignedBuffer(count: 0)
    /// A pointer to at least `count` floats (contents kept only while the size does not grow).
    mutating func pointer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = AlignedBuffer(count: count) }
        return buffer.base
    }
}
