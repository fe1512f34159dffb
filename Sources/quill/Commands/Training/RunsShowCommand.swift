import ArgumentParser
import Foundation
import Quill

/// `quill runs show`: one run's configuration, checkpoints and metrics.
struct RunsShowCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a training run: options, status, checkpoints and the metrics of each epoch.",
        discussion: """
            Metrics are one row per logged step: train loss and perplexity, validation perplexity, training \
            tokens/s and the run's wall-clock seconds so far. With --format jsonl the first line is the run \
            ("record": "run", with its checkpoints) and each further line one stored metric row ("record": \
            "metric", one per step and split).

            Examples:
              quill runs show 3
              quill runs show '#3' --format jsonl
            """)

    @Argument(help: ArgumentHelp("The run's number, as `quill runs list` shows it (3 or #3).", valueName: "run"))
    var run: RunNumber

    @Option(help: "text: fields and tables; jsonl: the run, then one JSON object per metric row.")
    var format: ReportFormat = .text

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let summary = try RunSummary(try store.run(id: run.id), store: store)
        let checkpoints = try store.checkpoints(run: run.id)
        let record = summary.run
        switch format {
        case .text:
            var fields = [
                ["run:", "#\(record.id) \(shown(record.name))"],
                // A run marked running whose process is gone reads as interrupted (docs/store.md).
                ["status:", record.status.rawValue + (record.status == .interrupted && record.finishedAt == nil
                    ? " (its process is gone)" : "")],
                ["started:", displayTime(record.startedAt)],
            ]
            if let owner = record.owner { fields.append(["process:", "\(owner.pid) on \(owner.host)"]) }
            if let finished = record.finishedAt { fields.append(["finished:", displayTime(finished)]) }
            fields.append(["model:", summary.modelName.map(shown) ?? (record.status == .finished
                ? "- (deleted)" : "- (not saved)")])
            fields.append(["epochs done:", String(summary.epochsDone)])
            if let best = summary.bestValid {
                fields.append(["best valid ppl:", String(format: "%.2f (epoch %d)", best.perplexity, best.epoch)])
            }
            print(table(fields))

            print("\nconfig:")
            if let config = try? JSONSerialization.jsonObject(with: Data(record.configJSON.utf8)) as? [String: Any] {
                print(table(config.keys.sorted().map { ["  " + $0, "\(config[$0]!)"] }))
            } else {
                print("  " + record.configJSON)
            }

            print("\ncheckpoints:")
            if checkpoints.isEmpty {
                print("  none")
            } else {
                print(table([["STEP", "EPOCH", "CREATED"]]
                    + checkpoints.map { [String($0.step), String($0.epoch), displayTime($0.createdAt)] },
                    rightAligned: [0, 1]))
            }

            print("\nmetrics:")
            if summary.metrics.isEmpty { print("  none"); return }
            print(table(metricRows(summary.metrics), rightAligned: Set(0..<8)))
        case .jsonl:
            var object = try summary.jsonRecord()
            object["record"] = "run"
            object["checkpoints"] = try checkpoints.map { checkpoint -> [String: Any] in
                var item = try jsonObject(checkpoint)
                item.removeValue(forKey: "stateJSON")
                return item
            }
            print(try jsonLine(object))
            for row in summary.metrics {
                var item = try jsonObject(row)
                item["record"] = "metric"
                print(try jsonLine(item))
            }
        }
    }

    /// One table row per step: the train and valid rows of a step side by side (a test split gets its own column).
    private func metricRows(_ metrics: [MetricRow]) -> [[String]] {
        let hasTest = metrics.contains { $0.split == .test }
        var header = ["EPOCH", "STEP", "TRAIN LOSS", "TRAIN PPL", "VALID PPL", "TOK/S", "WALL S"]
        if hasTest { header.insert("TEST PPL", at: 5) }
        var rows = [header]
        let steps = Dictionary(grouping: metrics, by: \.step)
        for step in steps.keys.sorted() {
            let group = steps[step]!
            let train = group.first { $0.split == .train }
            let valid = group.first { $0.split == .valid }
            let test = group.first { $0.split == .test }
            var row = [String(group[0].epoch), String(step), formatted(train?.loss, "%.4f"),
                       formatted(train?.perplexity, "%.2f"), formatted(valid?.perplexity, "%.2f"),
                       formatted(train?.tokensPerSecond, "%.0f"),
                       formatted((train ?? valid ?? test)?.wallSeconds, "%.1f")]
            if hasTest { row.insert(formatted(test?.perplexity, "%.2f"), at: 5) }
            rows.append(row)
        }
        return rows
    }
}
