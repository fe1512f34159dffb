import Foundation

/// Everything a checkpoint needs besides tensors, to resume a run at exactly the window where it stopped.
///
/// Stored as ``jsonString()`` in the store's `checkpoints.state_json`: keys sorted, no whitespace, so the same state
/// always gives the same bytes. The RNG words are written as 16-digit hex strings, because JSON readers (SQLite's
/// `json_extract`, JavaScript) turn integers above 2⁶³ or 2⁵³ into floats.
public struct TrainingState: Codable, Equatable, Sendable {
    /// Format of this record; bumped when a field changes meaning.
    public static let currentVersion = 1

    public var version: Int
    /// The epoch in progress (1-based), or the epoch just finished when ``epochComplete``.
    public var epoch: Int
    /// Whether ``epoch`` is finished (validated, scheduled): a resume starts the next one. Otherwise the checkpoint
    /// was taken between two windows, and the recurrent state carried into the next window is saved beside it.
    public var epochComplete: Bool
    /// Windows trained since the start of the run.
    public var globalStep: Int
    /// The training data's next batch and the shape it belongs to. Saved under `batcher` for an id stream (the key
    /// of every checkpoint written before sentence pairs existed) and `sentencePairs` for sentence pairs.
    public var data: DataPosition
    /// The learning-rate schedule with its state.
    public var schedule: LearningRateSchedule
    /// Best validation loss and epoch, and the early-stopping counter.
    public var earlyStopping: EarlyStopping
    /// The random generator's state words (dropout masks, sampling).
    public var rngState: [UInt64]
    /// Optimizer steps taken (Adam's bias correction uses it).
    public var optimizerStep: Int
    /// Training targets seen since the start of the run.
    public var tokensSeen: Int
    /// Seconds spent training so far, over all sessions of the run.
    public var wallTime: Double
    /// Mean training loss of the epoch in progress, so its summary is the same after a resume.
    public var epochLoss: RunningMean
    /// Fingerprint of the vocabulary of the data; a resume with another vocabulary is refused.
    public var vocabularyFingerprint: String?

    public init(epoch: Int = 1, epochComplete: Bool = true, globalStep: Int = 0, data: DataPosition, schedule: LearningRateSchedule,
                earlyStopping: EarlyStopping = EarlyStopping(), rngState: [UInt64] = [], optimizerStep: Int = 0,
                tokensSeen: Int = 0, wallTime: Double = 0, epochLoss: RunningMean = RunningMean(),
                vocabularyFingerprint: String? = nil) {
        self.version = TrainingState.currentVersion
        self.epoch = epoch
        self.epochComplete = epochComplete
        self.globalStep = globalStep
        self.data = data
        self.schedule = schedule
        self.earlyStopping = earlyStopping
        self.rngState = rngState
        self.optimizerStep = optimizerStep
        self.tokensSeen = tokensSeen
        self.wallTime = wallTime
        self.epochLoss = epochLoss
        self.vocabularyFingerprint = vocabularyFingerprint
    }

    /// Best validation loss so far.
    public var bestValidationLoss: Double? { earlyStopping.bestLoss }
    /// Epoch of the best validation loss.
    public var bestEpoch: Int? { earlyStopping.bestEpoch }

    private enum CodingKeys: String, CodingKey {
        case version, epoch, epochComplete, globalStep, batcher, sentencePairs, schedule, earlyStopping, rngState, optimizerStep, tokensSeen,
             wallTime, epochLoss, vocabularyFingerprint
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        guard version == TrainingState.currentVersion else {
            throw TrainError.stateFormat(reason: "version \(version); this build reads version "
                                         + "\(TrainingState.currentVersion)")
        }
        epoch = try c.decode(Int.self, forKey: .epoch)
        epochComplete = try c.decodeIfPresent(Bool.self, forKey: .epochComplete) ?? true
        globalStep = try c.decode(Int.self, forKey: .globalStep)
        if let pairs = try c.decodeIfPresent(SentencePairBatcher.State.self, forKey: .sentencePairs) {
            data = .sentencePairs(pairs)
        } else {
            data = .stream(try c.decode(Batcher.State.self, forKey: .batcher))
        }
        schedule = try c.decode(LearningRateSchedule.self, forKey: .schedule)
        earlyStopping = try c.decode(EarlyStopping.self, forKey: .earlyStopping)
        rngState = try c.decode([String].self, forKey: .rngState).map { word in
            guard word.count == 16, let v = UInt64(word, radix: 16) else {
                throw TrainError.stateFormat(reason: "RNG word '\(word)' is not 16 hex digits")
            }
            return v
        }
        optimizerStep = try c.decode(Int.self, forKey: .optimizerStep)
        tokensSeen = try c.decode(Int.self, forKey: .tokensSeen)
        wallTime = try c.decode(Double.self, forKey: .wallTime)
        epochLoss = try c.decode(RunningMean.self, forKey: .epochLoss)
        vocabularyFingerprint = try c.decodeIfPresent(String.self, forKey: .vocabularyFingerprint)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(epochComplete, forKey: .epochComplete)
        try c.encode(globalStep, forKey: .globalStep)
        switch data {
        case let .stream(state): try c.encode(state, forKey: .batcher)
        case let .sentencePairs(state): try c.encode(state, forKey: .sentencePairs)
        }
        try c.encode(schedule, forKey: .schedule)
        try c.encode(earlyStopping, forKey: .earlyStopping)
        try c.encode(rngState.map(TrainingState.hex), forKey: .rngState)
        try c.encode(optimizerStep, forKey: .optimizerStep)
        try c.encode(tokensSeen, forKey: .tokensSeen)
        try c.encode(wallTime, forKey: .wallTime)
        try c.encode(epochLoss, forKey: .epochLoss)
        try c.encodeIfPresent(vocabularyFingerprint, forKey: .vocabularyFingerprint)
    }

    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// The stable JSON form: sorted keys, no whitespace, no escaped slashes.
    /// - Throws: `EncodingError` when a loss is NaN or infinite (JSON has no such numbers).
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Decodes ``jsonString()``'s form.
    /// - Throws: ``TrainError/stateFormat(reason:)``.
    public init(json: String) throws {
        do {
            self = try JSONDecoder().decode(TrainingState.self, from: Data(json.utf8))
        } catch let error as TrainError {
            throw error
        } catch {
            throw TrainError.stateFormat(reason: "\(error)")
        }
    }
}
