import Foundation

/// A persistent pool of worker threads (placeholder to be replaced by the real pool; same API).
///
/// Work is split into `count` items whose boundaries the *caller* fixes (never derived from the thread count), so
/// results are bit-identical for every thread count.
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool: `QUILL_THREADS`, else the number of cores.
    public static let shared = ThreadPool(threads: ThreadPool.defaultThreadCount)

    public static var defaultThreadCount: Int {
        if let s = ProcessInfo.processInfo.environment["QUILL_THREADS"], let n = Int(s), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    public let threadCount: Int

    public init(threads: Int) { threadCount = max(1, threads) }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the threads; returns when all are done.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        for i in 0..<count { body(i) }
    }
}
