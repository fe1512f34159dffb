import ArgumentParser
import Foundation
import QuillNN
import QuillTensor
import QuillText
import QuillTrain

/// The char-shakespeare recipe on Tiny Shakespeare for a fixed time budget: an opt-in quality run (20 minutes by
/// default) that reports the validation loss in nats per character as it goes.
struct CharQualityBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "char-quality",
        abstract: "Train the char-shakespeare preset on Tiny Shakespeare for --minutes of training; print the "
            + "validation loss (nats/char, bits/char) every --report-minutes and at the end, as JSON Lines.")

    @Option(help: "The folder holding train.txt and valid.txt.")
    var corpora = "../shared/corpora/tinyshakespeare"
    @Option(help: "Training time budget in minutes (validation time not counted).")
    var minutes = 20.0
    @Option(help: "Validate every this many minutes of training.")
    var reportMinutes = 5.0
    @Option(help: "Threads.")
    var threads = ThreadPool.defaultThreadCount

    func run() throws {
        let preset = TrainingPreset.charShakespeare
        let pool = ThreadPool(threads: threads)
        var builder = VocabularyBuilder(settings: preset.tokenizer)
        try builder.addTokens(of: TextReader(path: "\(corpora)/train.txt"))
        let vocabulary = builder.build()
        let train = try TokenIDs.encode(file: "\(corpora)/train.txt", vocabulary: vocabulary)
        let valid = try TokenIDs.encode(file: "\(corpora)/valid.txt", vocabulary: vocabulary)

        let model = try LanguageModel(.init(kind: .lstm, vocabulary: vocabulary.count, embedding: preset.embeddingSize,
                                            hidden: preset.hiddenSize, layers: preset.layers))
        model.dropout = Float(preset.dropout)
        var rng = RNG(seed: 1)
        model.parameters.initialize(.uniform(scale: Float(preset.initScale)), rng: &rng)
        let adam = Adam(for: model.parameters, learningRate: Float(preset.learningRate))
        // Driven window by window (a budget of training minutes, validated between windows): the loop's own step.
        let objective = try LanguageModelObjective(model: model, trainIDs: train.ids, batch: preset.batchSize,
                                                   steps: preset.steps)
        var dropoutRNG = rng.split()
        var steps = 0
        var trainingSeconds = 0.0
        var nextReport = reportMinutes * 60
        var epoch = 1
        var epochLoss = RunningMean()
        adam.learningRate = Float(preset.schedule.lr(forEpoch: epoch))
        objective.startEpoch(epoch)
        func report(final: Bool) throws {
            let start = Date()
            let loss = try evaluate(model: model, ids: valid.ids, batch: preset.batchSize, steps: preset.steps,
                                    pool: pool).meanLoss
            printJSON([
                "bench": "char-quality", "final": final, "training_minutes": trainingSeconds / 60, "epoch": epoch,
                "window": objective.batcher.position, "windows": objective.batcher.windowCount,
                "train_loss": epochLoss.mean, "valid_loss_nats_per_char": loss, "valid_bpc": loss / M_LN2,
                "valid_chars": valid.count, "vocabulary": vocabulary.count, "threads": threads,
                "train_chars_per_s": Double(steps * preset.steps * preset.batchSize) / trainingSeconds,
                "eval_seconds": Date().timeIntervalSince(start),
            ])
        }
        while trainingSeconds < minutes * 60 {
            let start = DispatchTime.now().uptimeNanoseconds
            guard let window = trainStep(objective, optimizer: adam, clipNorm: Float(preset.gradientClip),
                                         rng: &dropoutRNG, pool: pool) else {
                epoch += 1
                epochLoss = RunningMean()
                adam.learningRate = Float(preset.schedule.lr(forEpoch: epoch))
                objective.startEpoch(epoch)
                continue
            }
            steps += 1
            trainingSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard window.isFinite else { throw ValidationError("the loss diverged at step \(steps)") }
            epochLoss.add(window.loss, weight: window.targets)
            if trainingSeconds >= nextReport && trainingSeconds < minutes * 60 {
                try report(final: false)
                nextReport += reportMinutes * 60
            }
        }
        try report(final: true)
    }
}
