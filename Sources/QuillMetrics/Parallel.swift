import Dispatch
import Foundation

/// Sums per-segment statistics over all cores: segments are cut into contiguous blocks, each summed in order, and
/// the block sums added in order (the statistics are integers, so the result does not depend on the split).
enum Parallel {
    static func sum<T: Sendable>(count: Int, zero: T, add: @escaping @Sendable (T, T) -> T,
                                 _ body: @escaping @Sendable (Int) -> T) -> T {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let blocks = count < 2048 ? 1 : min(cores * 4, count / 512)
        if blocks <= 1 {
            var total = zero
            for i in 0..<count { total = add(total, body(i)) }
            return total
        }
        let results = Results(zero: zero, count: blocks)
        DispatchQueue.concurrentPerform(iterations: blocks) { b in
            var total = zero
            for i in (b * count / blocks)..<((b + 1) * count / blocks) { total = add(total, body(i)) }
            results.set(b, total)
        }
        return results.values.reduce(zero, add)
    }

    static func sum(count: Int, zero: BLEUStatistics,
                    _ body: @escaping @Sendable (Int) -> BLEUStatistics) -> BLEUStatistics {
        sum(count: count, zero: zero, add: +, body)
    }

    /// One slot per block, written once each from concurrent iterations.
    private final class Results<T>: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [T]
        init(zero: T, count: Int) { values = Array(repeating: zero, count: count) }
        func set(_ index: Int, _ value: T) {
            lock.lock()
            values[index] = value
            lock.unlock()
        }
    }
}
