import Foundation

/// What `quill train --cell` builds: a recurrent language model of one ``CellKind``, or a gated convolutional one.
///
/// The raw values are ``CellKind``'s for the recurrent cells, so a run configuration stored before `gcnn` existed
/// reads the same.
public enum ModelCell: String, Codable, Sendable, CaseIterable {
    case lstm, gru, rnnTanh
    /// ``GatedConvolutionalLanguageModel`` (Dauphin et al. 2017): `layers` residual blocks of `hidden` channels,
    /// each a causal convolution of ``LanguageModelTraining/width`` steps and a gated linear unit.
    case gcnn

    public init(_ kind: CellKind) {
        switch kind {
        case .lstm: self = .lstm
        case .gru: self = .gru
        case .rnnTanh: self = .rnnTanh
        }
    }

    /// The recurrent cell; nil for the convolutional model.
    public var recurrent: CellKind? { CellKind(rawValue: rawValue) }
}
