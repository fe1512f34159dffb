import ArgumentParser
import Foundation
import Quill

/// A run's number as typed: `3` or `#3`.
struct RunNumber: ExpressibleByArgument {
    let id: Int64

    init?(argument: String) {
        let digits = argument.hasPrefix("#") ? String(argument.dropFirst()) : argument
        guard let id = Int64(digits), id > 0 else { return nil }
        self.id = id
    }
}

/// A run with what its metrics say about it: epochs done, best validation perplexity, the model's name.
struct RunSummary {
    let run: RunRecord
    let metrics: [MetricRow]
    /// The model's name; `nil` when the run has none (not saved yet, or deleted).
    let modelName: String?

    init(_ run: RunRecord, store: Store) throws {
        self.run = run
        metrics = try store.metrics(run: run.id)
        modelName = try run.modelID.map { try store.model(id: $0).name }
    }

    /// The highest epoch with an epoch summary: a training row with tokens/s (rows at checkpoints between windows
    /// have none; docs/store.md).
    var epochsDone: Int {
        metrics.filter { $0.split == .train && $0.tokensPerSecond != nil }.map(\.epoch).max() ?? 0
    }

    /// The lowest validation perplexity and its epoch.
    var bestValid: (perplexity: Double, epoch: Int)? {
        metrics.filter { $0.split == .valid }
            .compactMap { row in row.perplexity.map { ($0, row.epoch) } }
            .min { $0.0 < $1.0 }
    }

    /// The run as a JSON object: the record's fields (config as an object) and the summary's.
    func jsonRecord() throws -> [String: Any] {
        var object = try jsonObject(run)
        object.removeValue(forKey: "configJSON")
        object["config"] = (try? JSONSerialization.jsonObject(with: Data(run.configJSON.utf8))) ?? run.configJSON
        object["model"] = modelName ?? NSNull()
        object["epochsDone"] = epochsDone
        object["bestValidPerplexity"] = bestValid?.perplexity ?? NSNull()
        return object
    }
}

/// `12.3`, or `-` for a missing value.
func formatted(_ value: Double?, _ format: String) -> String {
    value.map { String(format: format, $0) } ?? "-"
}
