import CQuillKernels
import Foundation

/// A persistent pool of worker threads that runs `parallelFor` jobs.
///
/// Threads are created once, in `init`, and parked between jobs (a short spin, then a condition variable; see
/// `Sources/CQuillKernels/gemm_pool.c`), so a training step's thousands of small kernels create no threads. The caller
/// of `parallelFor` works too: a pool of `threads` has `threads − 1` workers, and a pool of 1 runs everything inline.
///
/// Work is split into `count` items whose boundaries the *caller* fixes (never derived from the thread count), so
/// results are bit-identical for every thread count. Items are claimed dynamically, in no fixed order.
///
/// A `parallelFor` issued while the pool is busy — from inside a body (nested) or from another thread at the same
/// time — runs its items serially on the calling thread: correct, never a deadlock.
///
/// `@unchecked Sendable`: the only state is the immutable `threadCount` and the C pool, whose job hand-off is guarded
/// by a mutex and atomics (the C file documents the protocol); `parallelFor` returns only after every item has
/// finished and every worker has left the job, so the body and what it captures never outlive the call.
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool: `QUILL_THREADS`, else the number of cores.
    public static let shared = ThreadPool(threads: ThreadPool.defaultThreadCount)

    /// `QUILL_THREADS` if set to a positive integer, else the number of active cores; under Open MPI's `mpirun`,
    /// the cores shared among the ranks on this host (`OMPI_COMM_WORLD_LOCAL_SIZE`), at least one each.
    public static var defaultThreadCount: Int {
        let environment = ProcessInfo.processInfo.environment
        if let s = environment["QUILL_THREADS"], let n = Int(s), n > 0 { return n }
        let ranksHere = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1
        return max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, ranksHere))
    }

    /// Threads that run a job, the caller included.
    public let threadCount: Int
    private let pool: OpaquePointer?

    /// Creates a pool of `threads` threads (at least 1), of which `threads − 1` are new workers.
    public init(threads: Int) {
        threadCount = max(1, threads)
        pool = threadCount > 1 ? quill_pool_create(Int32(threadCount - 1)) : nil
    }

    deinit { quill_pool_destroy(pool) }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the threads; returns when all are done.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        guard let pool, count > 1 else {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var box = body
            withUnsafeMutablePointer(to: &box) { context in
                quill_pool_run(pool, Int64(count), { context, i in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(i))
                }, context)
            }
        }
    }
}
