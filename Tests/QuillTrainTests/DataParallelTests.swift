import Foundation
import QuillNN
import QuillTensor
import Testing
@testable import QuillTrain

/// Data-parallel training without a transport: ranks as threads of one process (``ThreadGroup``), summing in rank
/// order as MPIWorld does across processes.
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

    static func objective(ids: [Int32], batch: Int, group: (any ProcessGroup)? = nil) throws
        -> LanguageModelObjective {
        let model = try LanguageModel(.init(kind: .lstm, vocabulary: 500, embedding: 16, hidden: 16, layers: 1))
        var rng = RNG(seed: 21)
        model.parameters.initialize(.uniform(scale: 0.1), rng: &rng)
        return try LanguageModelObjective(model: model, trainIDs: ids, batch: batch, steps: 8,
                                          validIDs: Array(ids.prefix(300)), group: group)
    }

    static func loop(_ objective: LanguageModelObjective, group: (any ProcessGroup)?, recorder: MemoryRecorder?,
                     dropout: Float = 0) -> TrainingLoop<LanguageModelObjective> {
        objective.model.dropout = dropout
        return TrainingLoop(objective: objective, optimizer: SGD(for: objective.parameters, learningRate: 0.5),
                            configuration: .init(epochs: 2, clipNorm: 5, schedule: .constant(0.5), checkpointEvery: 3),
                            recorder: recorder, rng: RNG(seed: 3), pool: ThreadPool(threads: 1), group: group)
    }

    /// Runs `body(rank)` on `size` threads, one per rank, and returns each rank's result.
    static func ranks<T>(_ size: Int, _ body: @escaping (Int) throws -> T) throws -> [T] {
        let results = Results<T>(size, body)
        DispatchQueue.concurrentPerform(iterations: size) { rank in results.run(rank) }
        return try results.values.map { try $0!.get() }
    }

    /// Two ranks at batch 4 each train through the loop as one process at batch 8 (6 windows of 2 epochs, SGD,
    /// dropout 0): the ranks' parameters are bit-identical to each other, and within float rounding of the single
    /// process's (the GEMMs add the batch's rows in another order; 3.0e-8 at most when measured). Every rank's
    /// epoch losses are the whole batch's; only rank 0 records.
    @Test func twoRanksAtHalfTheBatchTrainAsOneProcess() throws {
        let single = try Self.objective(ids: Self.ids, batch: 8)
        let singleSummary = try Self.loop(single, group: nil, recorder: nil).run()
        let group = ThreadGroup(size: 2)
        let runs = try Self.ranks(2) { rank in
            let objective = try Self.objective(ids: Self.ids, batch: 8, group: group.member(rank))
            let recorder = rank == 0 ? MemoryRecorder() : nil
            let summary = try Self.loop(objective, group: group.member(rank), recorder: recorder).run()
            return Run(parameters: Array(objective.parameters.values.buffer), summary: summary, recorder: recorder)
        }
        #expect(runs[0].parameters.map(\.bitPattern) == runs[1].parameters.map(\.bitPattern),
                "the ranks' parameters differ")
        let worst = zip(runs[0].parameters, Array(single.parameters.values.buffer)).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-6, "largest difference from one process at the whole batch: \(worst)")
        for (a, b) in zip(runs[0].summary.epochs, singleSummary.epochs) {
            #expect(abs(a.trainLoss - b.trainLoss) < 1e-5, "epoch \(a.epoch)'s loss is the whole batch's")
        }
        #expect(runs[0].summary.epochs.map(\.trainLoss) == runs[1].summary.epochs.map(\.trainLoss))
        // The carried state in a mid-epoch checkpoint is the whole batch's: [layers][8][hidden].
        let checkpoint = try #require(runs[0].recorder?.checkpoints.first { !$0.state.epochComplete })
        #expect(checkpoint.tensors.first { $0.name == "state.hidden" }?.shape == [1, 8, 16])
        #expect(checkpoint.state.data.shape == "B=8, T=8, L=\(Self.ids.count / 8)")
    }

    /// A stop requested on rank 1 alone stops both ranks at the same window; resumed from rank 0's checkpoint, on
    /// two ranks, the run ends bit-identical to one never stopped, and on one process within float rounding of it
    /// (the checkpoint is the whole batch's). With dropout: each rank draws its own masks.
    @Test func aStopOnOneRankStopsAllAndResumesAtAnyRankCount() throws {
        let dropout: Float = 0.3
        let group = ThreadGroup(size: 2)
        let whole = try Self.ranks(2) { rank in
            let objective = try Self.objective(ids: Self.ids, batch: 8, group: group.member(rank))
            _ = try Self.loop(objective, group: group.member(rank), recorder: nil, dropout: dropout).run()
            return Array(objective.parameters.values.buffer)
        }
        let recorder = MemoryRecorder()
        let stopped = try Self.ranks(2) { rank -> Int in
            let objective = try Self.objective(ids: Self.ids, batch: 8, group: group.member(rank))
            let loop = Self.loop(objective, group: group.member(rank), recorder: rank == 0 ? recorder : nil,
                                 dropout: dropout)
            var windows = 0
            do {
                _ = try loop.run(progress: { _ in windows += 1 }, shouldStop: { rank == 1 && windows == 4 })
            } catch TrainError.stopped {
                return loop.globalStep
            }
            return -1
        }
        #expect(stopped == [4, 4], "both ranks stop after the window rank 1 asked at")
        let (state, tensors, _) = try #require(recorder.checkpoints.last)
        func resumed(_ objective: LanguageModelObjective, group: (any ProcessGroup)?) throws -> [Float] {
            let loop = Self.loop(objective, group: group, recorder: nil, dropout: dropout)
            let isParameter = { (name: String) in objective.parameters.entry(name) != nil }
            for tensor in tensors where isParameter(tensor.name) {
                tensor.values.withUnsafeBufferPointer {
                    _ = objective.parameters.value(tensor.name)!.buffer.update(fromContentsOf: $0)
                }
            }
            try loop.restore(state, tensors: tensors.filter { !isParameter($0.name) })
            _ = try loop.run()
            return Array(objective.parameters.values.buffer)
        }
        let again = try Self.ranks(2) { rank in
            try resumed(try Self.objective(ids: Self.ids, batch: 8, group: group.member(rank)), group: group.member(rank))
        }
        #expect(again[0].map(\.bitPattern) == whole[0].map(\.bitPattern), "resumed on 2 ranks ≠ never stopped")
        #expect(again[1].map(\.bitPattern) == whole[0].map(\.bitPattern))
        // On one process the checkpoint loads (same shape); the masks of the remaining windows differ, so only the
        // shape of the result is comparable.
        let alone = try resumed(try Self.objective(ids: Self.ids, batch: 8), group: nil)
        #expect(alone.count == whole[0].count && alone.allSatisfy(\.isFinite))
    }

    /// An embedding table's gradient sent as the union of the rows the ranks touched gives the bits of the dense
    /// sum, on every rank (the rows no rank touched are zero).
    @Test func sparseRowsSumAsTheDenseBuffer() throws {
        let (offset, rowCount, width, count) = (6, 8, 4, 50)
        let rows: [[Int32]] = [[1, 3, 1], [3, 5]]
        func gradients(rank: Int) -> [Float] {
            var rng = RNG(seed: UInt64(rank + 7))
            return (0..<count).map { i in
                let inTable = (offset..<(offset + rowCount * width)).contains(i)
                let row = Int32((i - offset) / width)
                return inTable && !rows[rank].contains(row) ? 0 : rng.uniform(-0.5, 0.5)
            }
        }
        let targets = [30, 20]
        for sparse in [false, true] {
            let group = ThreadGroup(size: 2)
            let results = try Self.ranks(2) { rank -> [Float] in
                var buffer = gradients(rank: rank)
                let local = BatchLoss(loss: 1, targets: targets[rank])
                _ = buffer.withUnsafeMutableBufferPointer {
                    DataParallel.reduce(local, gradients: $0, sparse: sparse ? SparseRows(
                        offset: offset, rowCount: rowCount, width: width, rows: rows[rank]) : nil,
                                        over: group.member(rank))
                }
                return buffer
            }
            #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern))
            let expected = zip(gradients(rank: 0), gradients(rank: 1)).map { a, b in
                a * Float(30.0 / 50.0) + b * Float(20.0 / 50.0)
            }
            #expect(results[0].map(\.bitPattern) == expected.map(\.bitPattern), "sparse: \(sparse)")
        }
    }

    /// A carried state gathered from the ranks and split again gives each rank its own streams back, for a batch
    /// axis in the middle ([L][B][H]) and first ([B][C]).
    @Test(arguments: [([2, 3, 4], [2, 6, 4]), ([3, 5], [6, 5])])
    func carriedStatesGatherAndSplit(local: [Int], whole: [Int]) throws {
        let group = ThreadGroup(size: 2)
        let count = local.reduce(1, *)
        let parts = try Self.ranks(2) { rank -> [Float] in
            let mine = (0..<count).map { Float(rank * 1000 + $0) }
            let gathered = DataParallel.gatherStreams(mine, localShape: local, wholeShape: whole,
                                                      group: group.member(rank))
            #expect(DataParallel.streams(of: gathered, localShape: local, wholeShape: whole, rank: rank, size: 2)
                == mine)
            return gathered
        }
        #expect(parts[0] == parts[1])
        // Rank 1's first stream follows rank 0's streams along the batch axis.
        let inner = local.count == 3 ? local[2] : local[1]
        let streams = local.count == 3 ? local[1] : local[0]
        #expect(parts[0][streams * inner] == 1000)
    }
}

struct Run {
    var parameters: [Float]
    var summary: TrainingLoop<LanguageModelObjective>.Summary
    var recorder: MemoryRecorder?
}

/// A body run by concurrent threads, one per rank, each result in its own slot (the ranks share only the group).
final class Results<T>: @unchecked Sendable {
    var values: [Swift.Result<T, Error>?]
    private let body: (Int) throws -> T
    private let lock = NSLock()
    init(_ count: Int, _ body: @escaping (Int) throws -> T) {
        values = Array(repeating: nil, count: count)
        self.body = body
    }
    func run(_ rank: Int) {
        let result = Swift.Result { try body(rank) }
        lock.withLock { values[rank] = result }
    }
}

/// Ranks as threads of one process: each rank deposits its buffer, and once all have, each takes the concatenation
/// (``gather``) or the sum in rank order (``sum``), as MPIWorld does across processes.
final class ThreadGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var deposits: [[Double]?]
    private var arrived = 0, taken = 0, round = 0

    init(size: Int) {
        self.size = size
        deposits = [[Double]?](repeating: nil, count: size)
    }

    /// Rank `rank`'s view of the group.
    func member(_ rank: Int) -> Member { Member(group: self, rank: rank) }

    final class Member: ProcessGroup, @unchecked Sendable {
        let group: ThreadGroup
        let rank: Int
        var size: Int { group.size }
        init(group: ThreadGroup, rank: Int) { (self.group, self.rank) = (group, rank) }

        func sum(_ buffer: UnsafeMutableBufferPointer<Float>) {
            let all = group.exchange(rank: rank, buffer.map(Double.init))
            for i in buffer.indices {
                var total = Float(all[0][i])
                for r in 1..<size { total += Float(all[r][i]) }
                buffer[i] = total
            }
        }

        func sum(_ buffer: UnsafeMutableBufferPointer<Double>) {
            let all = group.exchange(rank: rank, Array(buffer))
            for i in buffer.indices {
                var total = all[0][i]
                for r in 1..<size { total += all[r][i] }
                buffer[i] = total
            }
        }

        func gather(_ values: [Float]) -> [Float] {
            group.exchange(rank: rank, values.map(Double.init)).flatMap { $0.map(Float.init) }
        }

        func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] {
            group.exchange(rank: rank, bytes.map(Double.init))[root].map { UInt8($0) }
        }

        func gather(_ bytes: [UInt8], to root: Int) -> [[UInt8]] {
            let all = group.exchange(rank: rank, bytes.map(Double.init))
            return rank == root ? all.map { $0.map { UInt8($0) } } : []
        }
    }

    /// Every rank's deposit, once all have deposited (floats travel as doubles, exactly).
    func exchange(rank: Int, _ values: [Double]) -> [[Double]] {
        condition.lock()
        defer { condition.unlock() }
        while deposits[rank] != nil { condition.wait() }  // the last round is still being taken
        deposits[rank] = values
        arrived += 1
        let mine = round
        if arrived == size {
            round += 1
            condition.broadcast()
        }
        while round == mine { condition.wait() }
        let all = deposits.map { $0! }
        taken += 1
        if taken == size {
            deposits = [[Double]?](repeating: nil, count: size)
            arrived = 0
            taken = 0
            condition.broadcast()
        }
        return all
    }
}
