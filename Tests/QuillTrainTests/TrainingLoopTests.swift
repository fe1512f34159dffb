import Foundation
import QuillNN
import QuillTensor
import Testing
@testable import QuillTrain

/// A regression by a small feed-forward network in mini-batches: a ``TrainingObjective`` with no recurrent state,
/// so the loop is exercised on something that is not a language model.
final class RegressionObjective: TrainingObjective {
    let model: FeedForward
    let x: [Float], y: [Float]
    let count: Int, batch: Int
    private(set) var position = 0

    /// `y = sin(2·x₀) + x₁/2` for `count` points uniform in `[−1, 1]²`.
    init(count: Int, batch: Int, seed: UInt64 = 5) throws {
        model = try FeedForward(.init(sizes: [2, 8, 1], activation: .tanh))
        var rng = RNG(seed: seed)
        model.parameters.initialize(.uniform(scale: 0.5), rng: &rng)
        let x = (0..<(2 * count)).map { _ in rng.uniform(-1, 1) }
        y = (0..<count).map { sin(2 * x[2 * $0]) + x[2 * $0 + 1] / 2 }
        self.x = x
        self.count = count
        self.batch = batch
    }

    var parameters: ParameterSet { model.parameters }
    var batchesPerEpoch: Int { (count + batch - 1) / batch }
    var dataPosition: DataPosition {
        .stream(Batcher.State(position: position, batchSize: batch, steps: 1, streamLength: count))
    }
    func startEpoch(_ epoch: Int) { position = 0 }
    func resume(at saved: DataPosition, carried: [NamedTensor]) throws { position = saved.batch }

    func forward(rng: inout RNG, pool: ThreadPool) -> BatchLoss? {
        guard position < batchesPerEpoch else { return nil }
        let lo = position * batch, hi = min(count, lo + batch)
        position += 1
        let loss = model.forward(Array(x[(2 * lo)..<(2 * hi)]), rows: hi - lo, targets: .values(Array(y[lo..<hi])),
                                 pool: pool)
        return BatchLoss(loss: loss, targets: hi - lo)
    }
    func backward(pool: ThreadPool) { model.backward(pool: pool) }
    func commit() {}
    var carriedState: [NamedTensor] { [] }
    func validationLoss(pool: ThreadPool) throws -> Double? {
        model.forward(x, rows: count, targets: .values(y), pool: pool)
    }
}

/// Keeps checkpoints and best epochs in memory.
final class MemoryRecorder: TrainingRecorder {
    var checkpoints: [(state: TrainingState, tensors: [NamedTensor], metrics: [TrainingMetric])] = []
    var best: [Int] = []

    func saveCheckpoint(state: TrainingState, tensors: [NamedTensor], metrics: [TrainingMetric]) throws {
        checkpoints.append((state, tensors, metrics))
    }
    func saveBest(epoch: Int, trainLoss: Double, validLoss: Double?) throws { best.append(epoch) }
}

@Suite struct TrainingLoopTests {
    static func loop(_ objective: RegressionObjective, _ optimizer: OptimizerKind = .adam, epochs: Int = 4,
                     every: Int? = nil, recorder: MemoryRecorder? = nil, clip: Float? = nil,
                     rate: Double = 0.01) -> TrainingLoop<RegressionObjective> {
        TrainingLoop(objective: objective,
                     optimizer: optimizer.make(for: objective.parameters, learningRate: Float(rate),
                                               momentum: optimizer == .sgd ? 0.9 : 0),
                     configuration: .init(epochs: epochs, clipNorm: clip, schedule: .constant(rate), patience: nil,
                                          checkpointEvery: every),
                     recorder: recorder, rng: RNG(seed: 1))
    }

    @Test(arguments: OptimizerKind.allCases)
    func aFeedForwardRegressionTrainsThroughTheLoop(optimizer: OptimizerKind) throws {
        let objective = try RegressionObjective(count: 64, batch: 8)
        let before = try #require(try objective.validationLoss(pool: .shared))
        let recorder = MemoryRecorder()
        let summary = try Self.loop(objective, optimizer, epochs: 6, recorder: recorder).run()
        #expect(summary.epochs.count == 6 && summary.epochs.allSatisfy { $0.step % 8 == 0 })
        let after = try #require(summary.epochs.last?.validLoss)
        #expect(after < before / 2, "validation MSE \(before) → \(after)")
        #expect(recorder.best.last == summary.savedEpoch && recorder.checkpoints.count == 6)
        let tensors = try #require(recorder.checkpoints.last?.tensors.map(\.name))
        let state = objective.model.parameters.names
            + (optimizer == .sgd ? ["optimizer.momentum"] : ["optimizer.m", "optimizer.v"])
        #expect(tensors == state)
    }

    /// A data-parallel group sums the gradients after backward and before clipping: a group whose sum zeroes them
    /// leaves the parameters as they were (SGD without momentum or decay), and the loop asks it to agree on its
    /// decisions after each batch.
    @Test func theGroupSumsGradientsBetweenBackwardAndClipping() throws {
        let objective = try RegressionObjective(count: 16, batch: 4)
        let before = Array(objective.parameters.values.buffer)
        let group = ZeroingGroup()
        let loop = TrainingLoop(objective: objective, optimizer: SGD(for: objective.parameters, learningRate: 0.01),
                                configuration: .init(epochs: 1, clipNorm: 1e-9, schedule: .constant(0.01)),
                                recorder: nil, rng: RNG(seed: 1), group: group)
        _ = try loop.run()
        #expect(group.gradientSums == 4 && group.sawNonZero && Array(objective.parameters.values.buffer) == before)
    }

    /// One rank alone whose gradient sum yields zeros.
    final class ZeroingGroup: ProcessGroup {
        let rank = 0, size = 1
        var gradientSums = 0, sawNonZero = false
        func sum(_ buffer: UnsafeMutableBufferPointer<Float>) {
            gradientSums += 1
            if buffer.contains(where: { $0 != 0 }) { sawNonZero = true }
            for i in buffer.indices { buffer[i] = 0 }
        }
        func sum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
        func gather(_ values: [Float]) -> [Float] { values }
        func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] { bytes }
        func gather(_ bytes: [UInt8], to root: Int) -> [[UInt8]] { [bytes] }
    }

    /// Stopped between two batches, restored into a fresh objective and optimizer, the loop ends bit-identical to one
    /// never stopped: the resume is generic, not the language model's.
    @Test(arguments: [OptimizerKind.adam, .sgd])
    func aStopAndRestoreIsBitIdentical(optimizer: OptimizerKind) throws {
        let whole = try RegressionObjective(count: 40, batch: 6)
        _ = try Self.loop(whole, optimizer, every: 3).run()

        let first = try RegressionObjective(count: 40, batch: 6)
        let recorder = MemoryRecorder()
        var steps = 0
        #expect(throws: TrainError.self) {
            _ = try Self.loop(first, optimizer, every: 3, recorder: recorder).run(
                progress: { _ in steps += 1 }, shouldStop: { steps == 10 })
        }
        let (state, tensors, _) = try #require(recorder.checkpoints.last)
        #expect(!state.epochComplete && state.globalStep == 10 && state.data.batch == 3)

        let second = try RegressionObjective(count: 40, batch: 6)
        second.parameters.values.zero()  // the checkpoint's parameters are copied in below
        for tensor in tensors where second.parameters.entry(tensor.name) != nil {
            tensor.values.withUnsafeBufferPointer { _ = second.parameters.value(tensor.name)!.buffer.update(fromContentsOf: $0) }
        }
        let loop = Self.loop(second, optimizer, every: 3)
        try loop.restore(state, tensors: tensors.filter { second.parameters.entry($0.name) == nil })
        let summary = try loop.run()
        #expect(summary.epochs.first?.epoch == 2 && loop.globalStep == 28)
        #expect(Array(second.parameters.values.buffer) == Array(whole.parameters.values.buffer))
    }

    @Test func checkpointsFollowTheCadence() throws {
        let objective = try RegressionObjective(count: 40, batch: 6)  // 7 batches per epoch
        let recorder = MemoryRecorder()
        _ = try Self.loop(objective, epochs: 2, every: 3, recorder: recorder).run()
        #expect(recorder.checkpoints.map(\.state.globalStep) == [3, 6, 7, 9, 12, 14])
        #expect(recorder.checkpoints.map(\.state.epochComplete) == [false, false, true, false, false, true])
        #expect(recorder.checkpoints[2].metrics.map(\.isValidation) == [false, true])
    }

    @Test func aDivergingLossStopsTheLoopWithoutApplyingTheBatch() throws {
        let objective = try RegressionObjective(count: 16, batch: 4)
        let loop = Self.loop(objective, .sgd, epochs: 3, rate: 1e30)
        do {
            _ = try loop.run()
            Issue.record("a rate of 1e30 should diverge")
        } catch let TrainError.diverged(epoch, step, checkpoint) {
            #expect(epoch >= 1 && step >= 1 && checkpoint == nil)
            #expect(objective.parameters.values.buffer.allSatisfy { $0.isFinite }, "the bad batch was not applied")
        }
    }
}
