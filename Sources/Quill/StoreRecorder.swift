import Foundation

/// The store side of a run, for the loop: checkpoints with their metric rows, and the best model saved under the
/// run's name (by the model family's `save`).
final class StoreRecorder: TrainingRecorder {
    let store: Store
    let runID: Int64
    let name: String
    /// Saves the model in evaluation mode under ``name`` with these training notes, replacing the one there; returns
    /// its id.
    let save: (_ notes: [String: String]) throws -> Int64
    /// The run's options as the model's training notes.
    let notes: [String: String]
    /// When this session started (ISO-8601 UTC, as the store writes times): a model of the run's name created since,
    /// and not by the run, is someone else's.
    let sessionStart: String
    /// The model this session saved last, and when (a replace keeps the id and renews the time).
    private var ownModel: (id: Int64, createdAt: String)?

    init(store: Store, runID: Int64, name: String, notes: [String: String], sessionStart: String,
         save: @escaping (_ notes: [String: String]) throws -> Int64) {
        self.store = store
        self.runID = runID
        self.name = name
        self.notes = notes
        self.sessionStart = sessionStart
        self.save = save
    }

    /// Now as the store's `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')` writes it.
    static func now() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        return formatter.string(from: Date())
    }

    func saveCheckpoint(state: TrainingState, tensors: [NamedTensor], metrics: [TrainingMetric]) throws {
        try store.saveCheckpoint(
            run: runID, step: state.globalStep, epoch: state.epoch, stateJSON: try state.jsonString(),
            tensors: tensors.map { StoredTensor(name: $0.name, shape: $0.shape, values: $0.values) },
            metrics: metrics.map { metric in
                MetricRow(runID: runID, step: metric.step, epoch: metric.epoch,
                          split: metric.isValidation ? .valid : .train, loss: metric.loss,
                          perplexity: exp(metric.loss), tokensPerSecond: metric.targetsPerSecond,
                          wallSeconds: metric.wallSeconds)
            })
    }

    func saveBest(epoch: Int, trainLoss: Double, validLoss: Double?) throws {
        var notes = ["savedEpoch": String(epoch), "trainPerplexity": String(format: "%.3f", exp(trainLoss))]
        if let validLoss { notes["validPerplexity"] = String(format: "%.3f", exp(validLoss)) }
        try saveModel(notes: notes)
    }

    /// Saves the model under the run's name, replacing only this run's own model or one that was there before this
    /// session (the run's own from an earlier session, or one ``LanguageModelTraining/replace`` allowed).
    func saveModel(notes extra: [String: String]) throws {
        if let existing = try? store.model(named: name), existing.createdAt >= sessionStart,
           !(existing.id == ownModel?.id && existing.createdAt == ownModel?.createdAt) {
            throw TrainingRunError.modelTaken(name: name, run: runID)
        }
        let id = try save(notes.merging(extra) { _, new in new })
        ownModel = (id, try store.model(id: id).createdAt)
        try store.setRunModel(runID, modelID: id)
    }
}
