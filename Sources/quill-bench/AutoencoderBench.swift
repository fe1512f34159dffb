import ArgumentParser
import Foundation
import Quill

/// How well a stored sequence autoencoder's reconstruction loss flags odd lines: held-out lines with a fraction
/// replaced by corrupted ones (in turn: the line's words shuffled, a line of another language, random bytes made
/// valid UTF-8), scored by `SequenceAutoencoder.anomalies`, and the ROC AUC of the scores for "corrupted".
struct AutoencoderBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoencoder-auc",
        abstract: "ROC AUC of a sequence autoencoder's anomaly scores on clean vs corrupted held-out lines.")

    @Option(help: "The store holding --model.")
    var store: String
    @Option(help: "The stored sequence autoencoder.")
    var model: String
    @Option(help: "Held-out lines of the training language (e.g. multi30k/test2016.en).")
    var text: String
    @Option(help: "Lines of another language for that corruption (e.g. multi30k/test2016.de).")
    var other: String
    @Option(help: "Fraction of lines corrupted.")
    var fraction = 0.1
    @Option(help: "Seed of the choice and of the corruptions.")
    var seed: UInt64 = 1

    func run() throws {
        let clean = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n").map(String.init)
        let foreign = try String(contentsOfFile: other, encoding: .utf8).split(separator: "\n").map(String.init)
        var rng = RNG(seed: seed)
        var lines = clean, labels = [Bool](repeating: false, count: clean.count), kinds: [String: [Int]] = [:]
        let chosen = Array(clean.indices.shuffled(using: &rng).prefix(Int(fraction * Double(clean.count))))
        for (n, i) in chosen.enumerated() {
            let kind = ["shuffled", "foreign", "bytes"][n % 3]
            switch kind {
            case "shuffled":
                let words = clean[i].split(separator: " ")
                var shuffled = words
                while shuffled == words && words.count > 1 { shuffled.shuffle(using: &rng) }
                lines[i] = shuffled.joined(separator: " ")
            case "foreign":
                lines[i] = foreign[i % foreign.count]
            default:
                let bytes = (0..<clean[i].utf8.count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                lines[i] = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
                    .replacingOccurrences(of: "\r", with: " ")
            }
            labels[i] = true
            kinds[kind, default: []].append(i)
        }
        let stored = try Store(path: store, mode: .readOnly).loadTranslationModel(named: model)
        let start = Date()
        let scores = try SequenceAutoencoder(stored, requireReconstruction: true).anomalies(lines).map(\.score)
        var result: [String: Any] = ["bench": "autoencoder-auc", "model": model, "lines": lines.count,
                                     "corrupted": chosen.count, "seconds": Date().timeIntervalSince(start),
                                     "auc": ROC.auc(scores: scores, labels: labels) ?? .nan]
        for (kind, rows) in kinds {
            // Each corruption against the clean lines alone.
            let keep = clean.indices.filter { !labels[$0] || rows.contains($0) }
            result["auc_" + kind] = ROC.auc(scores: keep.map { scores[$0] }, labels: keep.map { labels[$0] }) ?? .nan
        }
        printJSON(result)
    }
}

