import Foundation

/// What the store holds about one training run, gathered for comparing and plotting: the run, its model (if one is
/// still stored) and every metric row it logged.
///
/// The figures derived from the metrics skip what is not a number (a diverged loss reads back as `nil`; a caller may
/// also hand in NaN or infinity), so a comparison of runs never shows or encodes a non-finite value.
public struct RunHistory: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var status: RunStatus
    /// The model's current name; `nil` when the run saved none or it was deleted.
    public var model: String?
    /// The model's kind (`lstm-lm`, `seq2seq`, …), from the model, else from the run's configuration; `nil` when
    /// neither tells.
    public var kind: String?
    /// The stored model's parameter count; `nil` without a stored model.
    public var parameterCount: Int?
    /// The run's metric rows, by step, then train · valid · test (as ``Store/metrics(run:)`` returns them).
    public var metrics: [MetricRow]

    public init(id: Int64, name: String, status: RunStatus = .finished, model: String? = nil, kind: String? = nil,
                parameterCount: Int? = nil, metrics: [MetricRow]) {
        self.id = id
        self.name = name
        self.status = status
        self.model = model
        self.kind = kind
        self.parameterCount = parameterCount
        self.metrics = metrics
    }

    /// The family of ``kind``; `nil` for no kind or one this build does not know.
    public var family: ModelFamily? { kind.flatMap(ModelFamily.init(kind:)) }

    /// The validation row of the lowest finite perplexity (the earliest among equals).
    public var bestValid: MetricRow? {
        metrics.filter { $0.split == .valid && Self.isFinite($0.perplexity) }
            .min { $0.perplexity! < $1.perplexity! }
    }

    /// The perplexity of the last test row with a finite one; `nil` when the run recorded no test metric.
    public var testPerplexity: Double? {
        metrics.last { $0.split == .test && Self.isFinite($0.perplexity) }?.perplexity
    }

    /// The run's training time: the largest wall-clock seconds logged (the loop's clock continues across a resume).
    public var trainingSeconds: Double? {
        metrics.compactMap(\.wallSeconds).filter(\.isFinite).max()
    }

    /// The mean training speed over the epoch summaries (the training rows that carry tokens/s; docs/store.md).
    public var tokensPerSecond: Double? {
        let speeds = metrics.filter { $0.split == .train }.compactMap(\.tokensPerSecond).filter(\.isFinite)
        return speeds.isEmpty ? nil : speeds.reduce(0, +) / Double(speeds.count)
    }

    /// One line of a comparison.
    public var comparison: RunComparison {
        let best = bestValid
        return RunComparison(
            id: id, name: name, status: status, model: model, kind: kind, family: family?.rawValue,
            parameters: parameterCount, bestValidPerplexity: best?.perplexity, bestValidEpoch: best?.epoch,
            testPerplexity: testPerplexity, trainingSeconds: trainingSeconds, tokensPerSecond: tokensPerSecond)
    }

    static func isFinite(_ value: Double?) -> Bool { value?.isFinite ?? false }
}

/// One run in a comparison of runs (`quill runs compare`): what it trained and how well and fast. A missing figure is
/// `nil` and encodes as JSON `null`, so every line of JSON Lines has the same keys.
public struct RunComparison: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var status: RunStatus
    /// The model's current name, or `nil` (not saved, or deleted).
    public var model: String?
    /// `lstm-lm`, `gru-lm`, `rnnTanh-lm`, `seq2seq`, …
    public var kind: String?
    /// ``ModelFamily``'s raw value: `recurrentLanguageModel`, `ngram`, `translation`.
    public var family: String?
    /// The stored model's parameter count.
    public var parameters: Int?
    /// The lowest validation perplexity logged, and its epoch.
    public var bestValidPerplexity: Double?
    public var bestValidEpoch: Int?
    /// The perplexity of the run's last test metric, when it recorded one.
    public var testPerplexity: Double?
    /// Wall-clock seconds of training (and validation), across resumes.
    public var trainingSeconds: Double?
    /// Mean training tokens per second over the epochs.
    public var tokensPerSecond: Double?

    public init(id: Int64, name: String, status: RunStatus, model: String?, kind: String?, family: String?,
                parameters: Int?, bestValidPerplexity: Double?, bestValidEpoch: Int?, testPerplexity: Double?,
                trainingSeconds: Double?, tokensPerSecond: Double?) {
        self.id = id
        self.name = name
        self.status = status
        self.model = model
        self.kind = kind
        self.family = family
        self.parameters = parameters
        self.bestValidPerplexity = bestValidPerplexity
        self.bestValidEpoch = bestValidEpoch
        self.testPerplexity = testPerplexity
        self.trainingSeconds = trainingSeconds
        self.tokensPerSecond = tokensPerSecond
    }

    enum CodingKeys: String, CodingKey {
        case id, name, status, model, kind, family, parameters, bestValidPerplexity, bestValidEpoch, testPerplexity
        case trainingSeconds, tokensPerSecond
    }

    /// Every key, `null` for a missing figure (the synthesized encoder would leave the key out).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(status, forKey: .status)
        try c.encode(model, forKey: .model)
        try c.encode(kind, forKey: .kind)
        try c.encode(family, forKey: .family)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(bestValidPerplexity, forKey: .bestValidPerplexity)
        try c.encode(bestValidEpoch, forKey: .bestValidEpoch)
        try c.encode(testPerplexity, forKey: .testPerplexity)
        try c.encode(trainingSeconds, forKey: .trainingSeconds)
        try c.encode(tokensPerSecond, forKey: .tokensPerSecond)
    }
}

/// Runs asked for by number that the store does not hold.
public enum RunSelectionError: Error, Equatable, CustomStringConvertible {
    /// `missing` are not in the store; `existing` are the numbers it holds (empty: no runs at all).
    case unknownRuns(missing: [Int64], existing: [Int64])

    public var description: String {
        switch self {
        case let .unknownRuns(missing, existing):
            let asked = missing.map { "#\($0)" }.joined(separator: ", ")
            let held = existing.isEmpty ? "it holds no runs" : "it holds runs " + Self.ranges(existing)
            return "no run\(missing.count == 1 ? "" : "s") \(asked) in the store; \(held)"
        }
    }

    /// `#1–#4, #7, #9–#10`: sorted numbers with consecutive ones as ranges, so a long history stays one short line.
    static func ranges(_ ids: [Int64]) -> String {
        var parts: [String] = []
        var start: Int64?, last: Int64 = 0
        func close() {
            guard let start else { return }
            parts.append(start == last ? "#\(start)" : start + 1 == last ? "#\(start), #\(last)" : "#\(start)–#\(last)")
        }
        for id in Set(ids).sorted() {
            if start != nil, id == last + 1 { last = id; continue }
            close()
            start = id
            last = id
        }
        close()
        return parts.joined(separator: ", ")
    }
}

extension Store {
    /// The histories of runs, in the order asked (a number given twice counts once); no numbers: every run, oldest
    /// first.
    ///
    /// - Throws: ``RunSelectionError/unknownRuns(missing:existing:)`` naming every number the store does not hold.
    public func runHistories(_ ids: [Int64] = []) throws -> [RunHistory] {
        let all = try runs()
        var selected = all
        if !ids.isEmpty {
            let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
            var seen = Set<Int64>()
            let unique = ids.filter { seen.insert($0).inserted }
            let missing = unique.filter { byID[$0] == nil }
            guard missing.isEmpty else {
                throw RunSelectionError.unknownRuns(missing: missing, existing: all.map(\.id))
            }
            selected = unique.map { byID[$0]! }
        }
        return try selected.map(runHistory)
    }

    /// One run's history.
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` (named `#id`).
    public func runHistory(id: Int64) throws -> RunHistory {
        try runHistory(try run(id: id))
    }

    private func runHistory(_ run: RunRecord) throws -> RunHistory {
        let model = try run.modelID.map { try self.model(id: $0) }
        return RunHistory(
            id: run.id, name: run.name, status: run.status, model: model?.name,
            kind: model?.kind ?? Self.kind(configJSON: run.configJSON),
            parameterCount: try model.map { try parameterCount(ofModel: $0.id) }, metrics: try metrics(run: run.id))
    }

    /// The kind a run's configuration trains, for a run whose model is gone: a `cell` names a language model's
    /// kind, a `source` and a `target` a translation model.
    static func kind(configJSON: String) -> String? {
        guard let config = try? JSONSerialization.jsonObject(with: Data(configJSON.utf8)) as? [String: Any] else {
            return nil
        }
        if let cell = (config["cell"] as? String).flatMap(CellKind.init(rawValue:)) {
            return LanguageModelHyperparameters.kind(of: cell)
        }
        if config["source"] is String, config["target"] is String { return translationKind }
        return nil
    }
}
