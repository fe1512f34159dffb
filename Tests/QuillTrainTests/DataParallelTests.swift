import Foundation
import QuillNN
import QuillTensor
import Testing
@testable import QuillTrain

/// Data-parallel training without a transport: ranks as threads of one process, the gradient summed over them in rank
/// order by ``InProcessSum`` (what MPIWorld.allReduceSumInRankOrder does across processes).
@Suite struct DataParallelTests {
    static let ids: [Int32] = Array(LanguageModelObjectiveTests.ids.prefix(1200))

    /// Rank r's batcher at batch B/N gives, window for window, the whole batcher's streams r·B/N ..< (r+1)·B/N.
    @Test(arguments: [(4, 2), (6, 3), (4, 1)])
    func aRanksStreamsAreTheWholeBatchersStreams(batch: Int, size: Int) throws {
        let whole = try Batcher(ids: Self.ids, batchSize: batch, steps: 7)
        let perRank = batch / size
        for rank in 0..<size {
            let shard = try Batcher(ids: Array(try DataParallel.languageModelShard(of: Self.ids, batch: batch,
                                                                                   rank: rank, size: size)),
                                    batchSize: perRank, steps: 7)
            #expect(shard.windowCount == whole.windowCount && shard.streamLength == whole.streamLength)
            for w in 0..<whole.windowCount {
                var x = [Int32](repeating: -1, count: whole.windowCapacity), y = x
                var xs = [Int32](repeating: -1, count: shard.windowCapacity), ys = xs
                let t = x.withUnsafeMutableBufferPointer { a in
                    y.withUnsafeMutableBufferPointer { b in whole.fill(window: w, inputs: a, targets: b) }
                }
                _ = xs.withUnsafeMutableBufferPointer { a in
                    ys.withUnsafeMutableBufferPointer { b in shard.fill(window: w, inputs: a, targets: b) }
                }
                for step in 0..<t {
                    for j in 0..<perRank {
                        #expect(xs[step * perRank + j] == x[step * batch + rank * perRank + j])
                        #expect(ys[step * perRank + j] == y[step * batch + rank * perRank + j])
                    }
                }
            }
        }
        #expect(throws: DataParallel.ShapeError(batch: 5, size: 2)) {
            try DataParallel.languageModelShard(of: Self.ids, batch: 5, rank: 0, size: 2)
        }
    }

    static func objective(ids: [Int32], batch: Int) throws -> LanguageModelObjective {
        let model = try LanguageModel(.init(kind: .lstm, vocabulary: 500, embedding: 16, hidden: 16, layers: 1))
        var rng = RNG(seed: 21)
        model.parameters.initialize(.uniform(scale: 0.1), rng: &rng)
        return try LanguageModelObjective(model: model, trainIDs: ids, batch: batch, steps: 8)
    }

    /// Two ranks at batch 4 each, gradients averaged at the hook, train as one process at batch 8: the ranks'
    /// parameters stay bit-identical to each other, and within float rounding of the single process's (the GEMMs
    /// add the batch's contributions in another order; 3.0e-8 at most after 6 SGD steps when measured).
    @Test func twoRanksAtHalfTheBatchTrainAsOneProcess() throws {
        let windows = 6
        let single = try Self.objective(ids: Self.ids, batch: 8)
        let singleOptimizer = SGD(for: single.parameters, learningRate: 0.5)
        var rng = RNG(seed: 0)
        for _ in 0..<windows {
            _ = trainStep(single, optimizer: singleOptimizer, clipNorm: 5, rng: &rng, pool: ThreadPool(threads: 1))
        }
        let reduction = InProcessSum(size: 2)
        let ranks = Ranks(try (0..<2).map {
            try Self.objective(ids: Array(try DataParallel.languageModelShard(of: Self.ids, batch: 8, rank: $0,
                                                                               size: 2)), batch: 4)
        })
        DispatchQueue.concurrentPerform(iterations: 2) { rank in
            let optimizer = SGD(for: ranks.objectives[rank].parameters, learningRate: 0.5)
            var rng = RNG(seed: 0)
            let hook = DataParallel.averagingGradients(size: 2) { reduction.sum(rank: rank, $0) }
            for _ in 0..<windows {
                _ = trainStep(ranks.objectives[rank], optimizer: optimizer, clipNorm: 5, rng: &rng, pool: ThreadPool(threads: 1),
                              afterBackward: hook)
            }
        }
        let a = Array(ranks.objectives[0].parameters.values.buffer), b = Array(ranks.objectives[1].parameters.values.buffer)
        let reference = Array(single.parameters.values.buffer)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "the ranks' parameters differ")
        let worst = zip(a, reference).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-6, "largest difference from one process at the whole batch: \(worst)")
    }
}

/// The ranks' objectives, each touched by its own thread only.
final class Ranks: @unchecked Sendable {
    let objectives: [LanguageModelObjective]
    init(_ objectives: [LanguageModelObjective]) { self.objectives = objectives }
}

/// Ranks as threads: each deposits its buffer, and once all have, each takes the sum in rank order.
final class InProcessSum: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var deposits: [[Float]?]
    private var arrived = 0, taken = 0, round = 0

    init(size: Int) {
        self.size = size
        deposits = [[Float]?](repeating: nil, count: size)
    }

    func sum(rank: Int, _ buffer: UnsafeMutableBufferPointer<Float>) {
        condition.lock()
        defer { condition.unlock() }
        while deposits[rank] != nil { condition.wait() }  // the last round is still being taken
        deposits[rank] = Array(buffer)
        arrived += 1
        let mine = round
        if arrived == size {
            round += 1
            condition.broadcast()
        }
        while round == mine { condition.wait() }
        let all = deposits.map { $0! }
        for i in buffer.indices {
            var total = all[0][i]
            for r in 1..<size { total += all[r][i] }
            buffer[i] = total
        }
        taken += 1
        if taken == size {
            deposits = [[Float]?](repeating: nil, count: size)
            arrived = 0
            taken = 0
            condition.broadcast()
        }
    }
}
