import Dispatch
import Foundation
import Testing
import QuillTensor

@Test(arguments: [1, 2, 3, 4])
func everyItemRunsExactlyOnce(threads: Int) {
    let pool = ThreadPool(threads: threads)
    #expect(pool.threadCount == threads)
    for count in [0, 1, 2, 3, 7, 64, 1000] {
        let runs = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
        runs.initialize(repeating: 0, count: max(1, count))
        defer { runs.deallocate() }
        pool.parallelFor(count) { runs[$0] += 1 }
        #expect((0..<count).allSatisfy { runs[$0] == 1 }, "count \(count)")
    }
}

@Test func nestedCallsRunEveryPair() {
    let pool = ThreadPool(threads: 3)
    let runs = UnsafeMutablePointer<Int>.allocate(capacity: 10 * 13)
    runs.initialize(repeating: 0, count: 10 * 13)
    defer { runs.deallocate() }
    pool.parallelFor(10) { i in
        pool.parallelFor(13) { j in runs[i * 13 + j] += 1 }
    }
    #expect((0..<(10 * 13)).allSatisfy { runs[$0] == 1 })
}

@Test func concurrentCallersBothComplete() {
    let pool = ThreadPool(threads: 2)
    let runs = UnsafeMutablePointer<Int>.allocate(capacity: 4 * 500)
    runs.initialize(repeating: 0, count: 4 * 500)
    defer { runs.deallocate() }
    nonisolated(unsafe) let shared = runs
    DispatchQueue.concurrentPerform(iterations: 4) { caller in
        for round in 0..<50 {
            pool.parallelFor(10) { shared[caller * 500 + round * 10 + $0] += 1 }
        }
    }
    #expect((0..<(4 * 500)).allSatisfy { runs[$0] == 1 })
}

/// Every one of many small jobs runs exactly once (their speed is the benchmarks' to measure, not a test's).
@Test func manySmallJobsAllRun() {
    let pool = ThreadPool(threads: 2)
    let sums = UnsafeMutablePointer<Int>.allocate(capacity: 4)
    sums.initialize(repeating: 0, count: 4)
    defer { sums.deallocate() }
    for _ in 0..<20_000 { pool.parallelFor(4) { sums[$0] += 1 } }
    #expect((0..<4).allSatisfy { sums[$0] == 20_000 })
}

@Test func poolOfOneRunsInOrderOnTheCaller() {
    let pool = ThreadPool(threads: 1)
    let caller = pthread_self()
    var order: [Int] = []
    var onCaller = true
    pool.parallelFor(5) {
        order.append($0)
        onCaller = onCaller && pthread_equal(pthread_self(), caller) != 0
    }
    #expect(order == [0, 1, 2, 3, 4] && onCaller)
    #expect(ThreadPool(threads: 0).threadCount == 1)
}

@Test func sharedPoolHasTheDefaultSize() {
    #expect(ThreadPool.shared.threadCount == ThreadPool.defaultThreadCount)
    #expect(ThreadPool.defaultThreadCount >= 1)
}
