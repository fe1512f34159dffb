import ArgumentParser
import Foundation
import Quill
import QuillDecode
import QuillNN
import QuillTensor
import QuillTrain

/// The peer benchmark's model shapes for inference (`../shared/bench/pytorch_lstm.py`: V 10 000, embedding = hidden,
/// 2 LSTM layers, weights U(±0.1)).
enum DecodeConfig: String, ExpressibleByArgument, CaseIterable {
    case ptbSmall = "ptb-small", ptbMedium = "ptb-medium"

    var hidden: Int { self == .ptbSmall ? 200 : 650 }

    func model(vocabulary: Int = 10_000) throws -> LanguageModel {
        let model = try LanguageModel(.init(kind: .lstm, vocabulary: vocabulary, embedding: hidden, hidden: hidden,
                                            layers: 2))
        var rng = RNG(seed: 1)
        model.parameters.initialize(.uniform(scale: 0.1), rng: &rng)
        model.isTraining = false
        return model
    }
}

extension Stepper.Precision: ExpressibleByArgument {}

/// Latency of one next-token step of one stream (the peer's `step`: batch 1, state carried, the next input the
/// argmax of the last output), median and 99th percentile over timed steps after a warm-up.
struct StepBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Latency of one single-stream next-token step (Stepper), median and p99 in microseconds.")

    @Option(help: "ptb-small or ptb-medium.")
    var config: DecodeConfig = .ptbSmall
    @Option(help: "Threads (the peer's default is 2).")
    var threads = 2
    @Option(help: "float32 or int8.")
    var precision: Stepper.Precision = .float32
    @Option(help: "Steps timed (the first tenth is dropped as warm-up, as the peer does).")
    var steps = 2000
    @Option(help: "Streams stepped together (a beam search's width); latency is per step of all of them.")
    var streams = 1
    @Option(help: "Stepper.gemmThreshold: float32 steps of this many streams or more use GEMM (tuning).")
    var gemmThreshold = 8
    @Option(help: "Quality mode: a store holding --model; prints the stepper's perplexity on --text instead of timing.")
    var store: String?
    @Option(help: "Quality mode: the stored model's name.")
    var model = "ptb"
    @Option(help: "Quality mode: the text file (e.g. ../shared/corpora/ptb/ptb.valid.txt).")
    var text: String?

    func validate() throws {
        guard threads >= 1, steps >= 10 else { throw ValidationError("--threads ≥ 1 and --steps ≥ 10") }
    }

    func run() throws {
        if let store { return try perplexity(store: store) }
        let pool = ThreadPool(threads: threads)
        let stepper = try Stepper(model: try config.model(), precision: precision, pool: pool)
        stepper.gemmThreshold = gemmThreshold
        let V = stepper.vocabularySize
        if streams > 1 { return try many(stepper) }
        var state = stepper.initialState()
        var output = [Float](repeating: 0, count: V)
        var token: Int32 = 0
        var times: [Double] = []
        times.reserveCapacity(steps)
        output.withUnsafeMutableBufferPointer { out in
            for _ in 0..<steps {
                let start = DispatchTime.now().uptimeNanoseconds
                stepper.step(token: token, state: &state, into: out)
                var best = 0
                for v in 1..<V where out[v] > out[best] { best = v }
                token = Int32(best)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3)
            }
        }
        let timed = Array(times[(steps / 10)...]).sorted()
        let p99 = timed[min(timed.count - 1, Int((Double(timed.count) * 0.99).rounded(.up)) - 1)]
        printJSON([
            "bench": "step", "config": config.rawValue, "threads": threads, "precision": precision.rawValue,
            "step_latency_us": (timed[timed.count / 2] * 10).rounded() / 10, "p99_us": (p99 * 10).rounded() / 10,
            "weight_bytes": stepper.weightBytes,
        ])
    }

    /// `--streams n`: steps n streams together (tokens fixed), timing each step of all n.
    func many(_ stepper: Stepper) throws {
        var states = [Stepper.State](repeating: stepper.initialState(), count: streams)
        var output = [Float](repeating: 0, count: streams * stepper.vocabularySize)
        let tokens = (0..<streams).map { Int32($0 * 37 % stepper.vocabularySize) }
        var times: [Double] = []
        output.withUnsafeMutableBufferPointer { out in
            for _ in 0..<steps {
                let start = DispatchTime.now().uptimeNanoseconds
                stepper.step(tokens: tokens, states: &states, into: out)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3)
            }
        }
        let timed = Array(times[(steps / 10)...]).sorted()
        printJSON([
            "bench": "step", "config": config.rawValue, "threads": threads, "precision": precision.rawValue,
            "streams": streams, "gemm_threshold": gemmThreshold,
            "step_latency_us": (timed[timed.count / 2] * 10).rounded() / 10,
        ])
    }

    /// Steps the stored model over the text token by token (one stream, from a zero state) and prints the perplexity
    /// of the predicted tokens: the quality of `--precision` against the same run in float32.
    func perplexity(store path: String) throws {
        guard let text else { throw ValidationError("--store needs --text") }
        let (model, vocabulary) = try Store(path: path, mode: .readOnly).loadLanguageModel(named: self.model)
        let ids = try TokenIDs.encode(file: text, vocabulary: vocabulary).ids
        let stepper = try Stepper(model: model, precision: precision, pool: ThreadPool(threads: threads))
        var state = stepper.initialState()
        var output = [Float](repeating: 0, count: stepper.vocabularySize)
        var total = 0.0
        let start = Date()
        output.withUnsafeMutableBufferPointer { out in
            for t in 0..<(ids.count - 1) {
                stepper.step(token: ids[t], state: &state, into: out)
                total -= Double(out[Int(ids[t + 1])])
            }
        }
        let seconds = Date().timeIntervalSince(start)
        printJSON([
            "bench": "step-perplexity", "model": self.model, "text": text, "precision": precision.rawValue,
            "tokens": ids.count - 1, "perplexity": exp(total / Double(ids.count - 1)),
            "mean_step_us": seconds / Double(ids.count - 1) * 1e6,
        ])
    }
}
