import ArgumentParser
import Foundation
import Quill
import QuillNN
import QuillTensor
import QuillTrain

/// The Penn Treebank quality run of Zaremba et al. (2014), 'small' model: an opt-in, ~25-minute benchmark.
struct PTBQualityBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ptb-quality",
        abstract: "Train the ptb-small recipe (Zaremba et al. 2014) on PTB; print valid perplexity per epoch and the "
            + "final test perplexity as JSON Lines.")

    @Option(help: "The folder holding ptb.train.txt, ptb.valid.txt and ptb.test.txt.")
    var corpora = "../shared/corpora/ptb"
    @Option(help: "Epochs (default: the preset's 13).")
    var epochs: Int?
    @Option(help: "Threads.")
    var threads = ThreadPool.defaultThreadCount
    @Option(help: "Train at most this many windows per epoch (a quick check; the full run trains them all).")
    var windows = Int.max
    @Option(help: "The products' arithmetic while training: float32 or bfloat16 (mixed precision).")
    var precision = Precision.float32

    func run() throws {
        let preset = TrainingPreset.ptbSmall
        let pool = ThreadPool(threads: threads)
        let file = { (split: String) in "\(corpora)/ptb.\(split).txt" }
        // Vocabulary from train only; valid and test map unseen words to <unk> (PTB has none).
        var builder = VocabularyBuilder(settings: preset.tokenizer)
        try builder.addTokens(of: TextReader(path: file("train")))
        let vocabulary = builder.build()
        let train = try TokenIDs.encode(file: file("train"), vocabulary: vocabulary)
        let valid = try TokenIDs.encode(file: file("valid"), vocabulary: vocabulary)
        let test = try TokenIDs.encode(file: file("test"), vocabulary: vocabulary)

        let model = try LanguageModel(.init(kind: .lstm, vocabulary: vocabulary.count, embedding: preset.embeddingSize,
                                            hidden: preset.hiddenSize, layers: preset.layers))
        model.lossReduction = preset.loss
        model.precision = precision
        var rng = RNG(seed: 1)
        model.parameters.initialize(.uniform(scale: Float(preset.initScale)), rng: &rng)
        let sgd = SGD(for: model.parameters, learningRate: Float(preset.learningRate))
        let objective = try LanguageModelObjective(model: model, trainIDs: train.ids, batch: preset.batchSize,
                                                   steps: preset.steps, validIDs: valid.ids)
        // The one training loop, with no store: the schedule, validation after each epoch, no checkpoints.
        let loop = TrainingLoop(
            objective: objective, optimizer: sgd,
            configuration: .init(epochs: epochs ?? preset.epochs, maxBatchesPerEpoch: windows,
                                 clipNorm: Float(preset.gradientClip), schedule: preset.schedule),
            recorder: nil, rng: rng.split(), pool: pool)
        let start = Date()
        _ = try loop.run(epochEnd: { report in
            printJSON([
                "bench": "ptb-quality", "epoch": report.epoch, "lr": report.learningRate,
                "train_perplexity": report.trainPerplexity, "valid_perplexity": report.validPerplexity ?? 0,
                "epoch_seconds": report.seconds, "threads": threads, "windows": loop.batchesPerEpoch,
                "train_tokens_per_s": report.tokensPerSecond, "precision": precision.rawValue,
            ])
        })
        // Test: reported once, for the configuration fixed above (batch 1 would be the strictest; Zaremba's code
        // evaluates with the training batch layout, as here).
        // The trained weights are float32 whatever the training precision: the test is scored in float32, and also in
        // the training precision when that differs.
        let testLoss = try evaluate(model: model, ids: test.ids, batch: preset.batchSize, steps: preset.steps,
                                    pool: pool).meanLoss
        let wallSeconds = Date().timeIntervalSince(start)  // the recipe: training, validation and the test
        model.precision = .float32
        let float32TestLoss = try evaluate(model: model, ids: test.ids, batch: preset.batchSize, steps: preset.steps,
                                           pool: pool).meanLoss
        // What scoring in a reduced precision costs this model: PTB valid as 20 contiguous streams (each from a zero
        // state, its first token context only), scored by the batch scorer in each precision.
        let streams = 20, length = valid.ids.count / streams
        let sequences = (0..<streams).map { Array(valid.ids[($0 * length)..<(($0 + 1) * length)]) }
        var scoring: [String: Any] = [:]
        for scoringPrecision in Scorer.scoringPrecisions {
            let scores = try Scorer(model: model, precision: scoringPrecision, batch: streams, window: preset.steps,
                                    pool: pool).score(sequences)
            let tokens = scores.reduce(0) { $0 + $1.tokens }
            scoring["valid_perplexity_scored_\(scoringPrecision.rawValue)"] =
                exp(-scores.reduce(0) { $0 + $1.logProbability } / Double(tokens))
        }
        printJSON(scoring.merging([
            "bench": "ptb-quality", "test_perplexity": exp(float32TestLoss), "precision": precision.rawValue,
            "test_perplexity_in_training_precision": exp(testLoss), "vocabulary": vocabulary.count,
            "train_tokens": train.count, "wall_seconds": wallSeconds, "threads": threads,
            "reference_test_perplexity": preset.referenceTestPerplexity ?? 0,
        ]) { $1 })
    }
}
