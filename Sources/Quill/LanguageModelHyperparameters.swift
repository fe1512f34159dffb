import Foundation

/// The shape of a stored language model, as its hyperparameters JSON records it.
public struct LanguageModelHyperparameters: StoredHyperparameters, Equatable, Sendable {
    /// Format of this record.
    public var format = 1
    /// `lstm`, `gru` or `rnnTanh` (``CellKind``'s raw values).
    public var cell: String
    public var vocabulary: Int
    public var embedding: Int
    public var hidden: Int
    public var layers: Int
    public var tiedEmbeddings: Bool
    /// Free-form notes (how it was trained); not needed to rebuild the model.
    public var training: [String: String]?

    public init(_ configuration: LanguageModel.Configuration, training: [String: String]? = nil) {
        cell = configuration.kind.rawValue
        vocabulary = configuration.vocabulary
        embedding = configuration.embedding
        hidden = configuration.hidden
        layers = configuration.layers
        tiedEmbeddings = configuration.tiedEmbeddings
        self.training = training
    }

    /// The configuration to rebuild the model with.
    /// - Throws: ``StoredModelError/invalidRecord(model:family:reason:)``.
    public func configuration(model: String) throws -> LanguageModel.Configuration {
        guard let kind = CellKind(rawValue: cell) else {
            throw StoredModelError.invalidRecord(
                model: model, family: .recurrentLanguageModel, reason: "unknown cell '\(cell)' (known: "
                    + CellKind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        guard vocabulary > 0, embedding > 0, hidden > 0, layers > 0 else {
            throw StoredModelError.invalidRecord(
                model: model, family: .recurrentLanguageModel, reason: "sizes must be positive (vocabulary \(vocabulary), embedding \(embedding), "
                    + "hidden \(hidden), layers \(layers))")
        }
        return LanguageModel.Configuration(kind: kind, vocabulary: vocabulary, embedding: embedding, hidden: hidden,
                                           layers: layers, tiedEmbeddings: tiedEmbeddings)
    }

    /// The store's `kind` for a model of this cell: `lstm-lm`, `gru-lm`, `rnnTanh-lm`.
    public static func kind(of cell: CellKind) -> String { "\(cell.rawValue)-lm" }
}

/// The shape of a stored gated convolutional language model, as its hyperparameters JSON records it.
public struct ConvolutionalModelHyperparameters: StoredHyperparameters, Equatable, Sendable {
    /// The store's `kind` of these models.
    public static let kind = "gcnn-lm"
    /// Format of this record.
    public var format = 1
    public var vocabulary: Int
    public var embedding: Int
    public var channels: Int
    public var blocks: Int
    public var width: Int
    /// Free-form notes (how it was trained); not needed to rebuild the model.
    public var training: [String: String]?

    public init(_ configuration: GatedConvolutionalLanguageModel.Configuration, training: [String: String]? = nil) {
        vocabulary = configuration.vocabulary
        embedding = configuration.embedding
        channels = configuration.channels
        blocks = configuration.blocks
        width = configuration.width
        self.training = training
    }

    /// The configuration to rebuild the model with.
    public var configuration: GatedConvolutionalLanguageModel.Configuration {
        .init(vocabulary: vocabulary, embedding: embedding, channels: channels, blocks: blocks, width: width)
    }
}

/// A model record's hyperparameters: JSON that rebuilds the model.
public protocol StoredHyperparameters: Codable {}

extension StoredHyperparameters {
    /// Sorted keys, no whitespace: the same record gives the same bytes.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
