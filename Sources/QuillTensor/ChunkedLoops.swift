/// Fixed partitions of element-wise loops for ``ThreadPool``.
///
/// Chunk boundaries depend only on the problem size, never on the thread count, so every result (including the
/// order in which reductions add their partials) is the same for every thread count.
enum ChunkedLoops {
    /// Elements per chunk of an element-wise loop: 128 KiB of floats, far above the cost of a hand-off (~1 µs) and
    /// small enough to split an LSTM cell of B·4H ≥ 64K gates over two cores.
    static let elementsPerChunk = 32_768

    /// Calls `body` on consecutive ranges of at most `chunk` items covering `0..<count`, in parallel when there is
    /// more than one chunk.
    static func forEach(count: Int, chunk: Int, pool: ThreadPool, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunk = max(1, chunk)
        let chunks = (count + chunk - 1) / chunk
        if chunks == 1 || pool.threadCount == 1 {
            for c in 0..<chunks { body(c * chunk..<min(count, (c + 1) * chunk)) }
            return
        }
        pool.parallelFor(chunks) { c in body(c * chunk..<min(count, (c + 1) * chunk)) }
    }

    /// Rows per chunk so that a chunk holds about ``elementsPerChunk`` elements of rows `width` wide.
    static func rows(width: Int) -> Int { max(1, elementsPerChunk / max(1, width)) }
}
