import Foundation

/// A stored encoder-decoder used on single lines: the sentence vector its encoder gives each line (`quill embed`),
/// and how badly it reconstructs the line (`quill anomaly`). A sequence autoencoder — trained by
/// `quill autoencoder train` to reproduce each line through the fixed-size vector, without attention — is the model
/// these are meant for; reconstruction needs the same vocabulary on both sides.
public final class SequenceAutoencoder {
    public let stored: TranslationModel
    public let encoder: TextEncoder
    /// Lines run through the model together.
    public var batch = 64

    /// - Throws: ``StoredModelError/invalidRecord(model:family:reason:)`` when `requireReconstruction` and the
    ///   model's two vocabularies differ (it translates rather than reconstructs).
    public init(_ stored: TranslationModel, requireReconstruction: Bool) throws {
        if requireReconstruction, stored.source.fingerprint != stored.target.fingerprint {
            throw StoredModelError.invalidRecord(
                model: stored.name, family: .translation, reason: "its source and target vocabularies differ, so it "
                    + "translates rather than reconstructs its input; train one with `quill autoencoder train`")
        }
        self.stored = stored
        encoder = try TextEncoder(stored.source)
    }

    /// One line's vector: the top encoder layer's final states, forward and reverse.
    public struct Embedding: Codable, Sendable, Equatable {
        public var line: Int
        public var vector: [Float]
    }

    /// One line's reconstruction loss: the mean negative log-likelihood per token (nats) of reproducing it.
    public struct Anomaly: Codable, Sendable, Equatable {
        public var line: Int
        public var text: String
        public var score: Double
        public var tokens: Int
    }

    /// The vectors of `lines`.
    public func embed(_ lines: [String], firstLine: Int = 1) throws -> [Embedding] {
        let H = stored.model.configuration.hidden
        return try batches(of: lines, firstLine: firstLine) { ids, first in
            let (source, lengths, S) = Self.padded(ids)
            stored.model.encode(source: source, sourceLengths: lengths, sourceSteps: S, batch: ids.count)
            let vectors = stored.model.sentenceVectors
            return ids.indices.map { b in
                Embedding(line: first + b, vector: Array(vectors[(b * H)..<((b + 1) * H)]))
            }
        }
    }

    /// The reconstruction losses of `lines` (higher: less like the training text).
    public func anomalies(_ lines: [String], firstLine: Int = 1) throws -> [Anomaly] {
        let lineStart = stored.target.lineBreakID
        return try batches(of: lines, firstLine: firstLine) { ids, first in
            let (source, lengths, S) = Self.padded(ids)
            let B = ids.count
            var inputs = [Int32](repeating: -1, count: S * B), targets = inputs
            for (b, row) in ids.enumerated() {
                for (t, id) in row.enumerated() {
                    targets[t * B + b] = id
                    inputs[t * B + b] = t == 0 ? lineStart : row[t - 1]
                }
            }
            _ = stored.model.forward(source: source, sourceLengths: lengths, decoderInputs: inputs, targets: targets,
                                     sourceSteps: S, targetSteps: S, batch: B)
            let losses = stored.model.rowLosses()
            return ids.indices.map { b in
                Anomaly(line: first + b, text: lines[first - firstLine + b], score: losses[b] / Double(ids[b].count),
                        tokens: ids[b].count)
            }
        }
    }

    /// Encodes `lines` and runs `body` on batches of their ids (each ending on the line break), in order.
    private func batches<T>(of lines: [String], firstLine: Int, _ body: ([[Int32]], Int) throws -> [T]) throws
        -> [T] {
        let ids = try lines.map { try encoder.lineIDs(of: $0) }
        var results: [T] = []
        results.reserveCapacity(lines.count)
        var start = 0
        while start < ids.count {
            let end = min(ids.count, start + max(1, batch))
            results += try body(Array(ids[start..<end]), firstLine + start)
            start = end
        }
        return results
    }

    private static func padded(_ ids: [[Int32]]) -> (source: [Int32], lengths: [Int32], steps: Int) {
        let B = ids.count, S = ids.map(\.count).max() ?? 1
        var source = [Int32](repeating: -1, count: S * B)
        for (b, row) in ids.enumerated() { for (s, id) in row.enumerated() { source[s * B + b] = id } }
        return (source, ids.map { Int32($0.count) }, S)
    }
}
