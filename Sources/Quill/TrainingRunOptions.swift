import Foundation

/// The options of a training run of any model family, as the store records them: the run's configuration JSON
/// (what a resume reads back), the model's training notes, and which changes a resume accepts.
public protocol TrainingRunOptions: Codable, Sendable {
    /// What the family trains, for messages ("a language model").
    static var trainedModel: String { get }
    /// The options a resumed run may change: they do not decide the steps already taken.
    static var resumableChanges: Set<String> { get }
    /// The run's (and the model's) name.
    var name: String { get }
    /// The run to continue, or nil for a new one.
    var resume: Int64? { get set }
}

extension TrainingRunOptions {
    /// Stored with the run but neither a note of the model nor a difference that stops a resume.
    static var cadenceKeys: Set<String> { ["checkpointEvery", "checkpointMinutes"] }

    /// The run's configuration as JSON (sorted keys): what ``resuming(run:in:)`` reads back.
    public func configurationJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The options as strings, for the stored model's training notes (the checkpoint cadence left out: it does not
    /// decide the result).
    public var notes: [String: String] {
        guard let json = try? configurationJSON(),
              let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return [:]
        }
        return object.filter { !Self.cadenceKeys.contains($0.key) }.mapValues { value in
            let options: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed]
            if let data = try? JSONSerialization.data(withJSONObject: value, options: options) {
                return String(decoding: data, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            return "\(value)"
        }
    }

    /// The configuration options (by their JSON names) whose values differ between `self` and `other`.
    public func differences(from other: Self) -> [String] {
        let (a, b) = (notes, other.notes)
        return Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    }

    /// The options run `run` was started with, set to resume it.
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``; ``TrainingRunError/notResumable(run:reason:)`` for a run that
    ///   was not started by this family's training.
    static func decodeRun(_ run: Int64, in store: Store) throws -> (options: Self, keys: Set<String>) {
        let record = try store.run(id: run)
        var options: Self
        do {
            options = try JSONDecoder().decode(Self.self, from: Data(record.configJSON.utf8))
        } catch {
            throw TrainingRunError.notResumable(run: run, reason: "its configuration is not the training of "
                + "\(trainedModel) this build can read (\(error))")
        }
        options.resume = run
        let object = try? JSONSerialization.jsonObject(with: Data(record.configJSON.utf8)) as? [String: Any]
        return (options, Set(object?.keys.map { $0 } ?? []))
    }

    /// Checks that these options may continue run `run`: only ``resumableChanges`` differ from its stored ones.
    /// - Throws: ``TrainingRunError/optionsDiffer(run:changes:resumable:)`` and the errors of the decoding.
    func checkResumable(_ saved: Self, run: Int64) throws {
        let differing = saved.differences(from: self).filter { !Self.resumableChanges.contains($0) }
        guard differing.isEmpty else {
            let (a, b) = (saved.notes, notes)
            throw TrainingRunError.optionsDiffer(
                run: run, changes: differing.map { .init(name: $0, saved: a[$0], now: b[$0]) },
                resumable: Self.resumableChanges.sorted())
        }
    }
}
