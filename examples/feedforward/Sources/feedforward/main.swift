// A feed-forward network trained by Quill's one training loop — the loop that trains the recurrent language models —
// with batch, stochastic and mini-batch gradient descent side by side.
// Run: cd examples/feedforward && swift run -c release feedforward [epochs]
//
// Another model trains through `TrainingLoop` by saying what a batch is: `RegressionData` below is the whole of it
// (parameters, the next batch forward to its loss, backward). Epochs, the learning rate, validation and clipping are
// the loop's.
import Foundation
import Quill

/// Points `x` uniform in `[−1, 1]²` with targets `y = sin(2·x₀) + x₁/2 + noise`, served in batches of `batch` rows.
final class RegressionData: TrainingObjective {
    let model: FeedForward
    let inputs: [Float], targets: [Float]
    let count: Int, batch: Int
    private var position = 0

    init(model: FeedForward, count: Int, batch: Int, seed: UInt64) {
        self.model = model
        var rng = RNG(seed: seed)
        let inputs = (0..<(2 * count)).map { _ in rng.uniform(-1, 1) }
        targets = (0..<count).map { sin(2 * inputs[2 * $0]) + inputs[2 * $0 + 1] / 2 + 0.05 * rng.normal() }
        self.inputs = inputs
        self.count = count
        self.batch = batch
    }

    // What the loop needs: the parameters, the batches of an epoch and where we are in them.
    var parameters: ParameterSet { model.parameters }
    var batchesPerEpoch: Int { (count + batch - 1) / batch }
    var dataPosition: DataPosition {
        .stream(Batcher.State(position: position, batchSize: batch, steps: 1, streamLength: count))
    }
    func startEpoch(_ epoch: Int) { position = 0 }
    func resume(at saved: DataPosition, carried: [NamedTensor]) throws { position = saved.batch }

    /// The next batch forward to its mean squared error.
    func forward(rng: inout RNG, pool: ThreadPool) -> BatchLoss? {
        guard position < batchesPerEpoch else { return nil }
        let first = position * batch, end = min(count, first + batch)
        position += 1
        let loss = model.forward(Array(inputs[(2 * first)..<(2 * end)]), rows: end - first,
                                 targets: .values(Array(targets[first..<end])), pool: pool)
        return BatchLoss(loss: loss, targets: end - first)
    }

    func backward(pool: ThreadPool) { model.backward(pool: pool) }

    // Nothing is carried from one batch to the next (a recurrent model carries its state here).
    func commit() {}
    var carriedState: [NamedTensor] { [] }

    /// The loss on the whole data set, after each epoch: the figure the table prints.
    func validationLoss(pool: ThreadPool) throws -> Double? {
        model.forward(inputs, rows: count, targets: .values(targets), pool: pool)
    }
}

let epochs = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 30
let samples = 256
let descents = [("batch", samples), ("stochastic", 1), ("mini-batch 16", 16)]
let learningRate = 0.1

var curves: [(name: String, reports: [EpochReport])] = []
for (name, batch) in descents {
    // The same network and starting weights for each: 2 inputs, 16 sigmoid units, 1 output, MSE.
    let model = try FeedForward(.init(sizes: [2, 16, 1], activation: .sigmoid, loss: .meanSquaredError))
    var rng = RNG(seed: 1)
    model.parameters.initialize(.uniform(scale: 0.5), rng: &rng)
    let data = RegressionData(model: model, count: samples, batch: batch, seed: 7)
    let loop = TrainingLoop(
        objective: data, optimizer: SGD(for: model.parameters, learningRate: Float(learningRate)),
        configuration: .init(epochs: epochs, schedule: .constant(learningRate)), recorder: nil, rng: rng)
    curves.append((name, try loop.run().epochs))
}

print("Feed-forward regression, \(samples) samples, SGD lr \(learningRate): mean squared error on all samples "
    + "after each epoch, and milliseconds of training so far")
print("epoch" + curves.map { " | " + $0.name.padding(toLength: 20, withPad: " ", startingAt: 0) }.joined())
for epoch in 0..<epochs where epoch < 5 || (epoch + 1) % 5 == 0 {
    var line = String(format: "%5d", epoch + 1)
    for curve in curves {
        let seconds = curve.reports[...epoch].reduce(0) { $0 + $1.seconds }
        line += " | " + String(format: "%8.5f %7.1f ms ", curve.reports[epoch].validLoss ?? .nan, seconds * 1000)
    }
    print(line)
}
for curve in curves {
    print("\(curve.name): \(curve.reports.last!.step) updates in \(epochs) epochs")
}
