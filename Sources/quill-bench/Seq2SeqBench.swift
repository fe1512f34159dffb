import ArgumentParser
import Foundation
import Quill

/// The translation peer's shapes (`../shared/bench/pytorch_seq2seq.py`, `CONFIGS`).
enum Seq2SeqConfig: String, ExpressibleByArgument, CaseIterable {
    case tiny, multi30k

    var shape: (E: Int, H: Int, L: Int, V: Int, B: Int) {
        switch self {
        case .tiny: (64, 128, 1, 2_000, 64)
        case .multi30k: (256, 512, 2, 8_000, 64)
        }
    }
}

/// The peer's translation workload on Quill: training target tokens/s, greedy and beam-5 sentences/s. Random ids
/// (words 4..<V), source and target lengths uniform 8…20 padded to the batch's longest, initialisation U(±0.1),
/// Adam 1e-3 with the norm clipped at 5, dropout 0; decoding caps each sentence at ⌊1.5·S⌋ + 5 ids with the end
/// suppressed, so every sentence (and beam) runs to its cap. Medians as the peer's: training over `--steps` fresh
/// batches after 2 warm-up steps, decoding over `--reps` translations of one batch after 1 warm-up.
struct Seq2SeqBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seq2seq",
        abstract: "The translation peer's workload: training tokens/s, greedy and beam-5 sentences/s, latency.")

    enum Measure: String, ExpressibleByArgument, CaseIterable { case train, greedy, beam, latency }

    @Option(help: "tiny or multi30k.")
    var config: Seq2SeqConfig = .tiny
    @Option(help: "train, greedy, beam (batched, width --beam) or latency (one 13-id sentence, width --beam).")
    var measure: Measure = .train
    @Option(help: "Threads (the peer's default is 2).")
    var threads = 2
    @Option(help: "Timed training steps (after 2 warm-up steps).")
    var steps = 10
    @Option(help: "Timed translations of the batch (after 1 warm-up).")
    var reps = 3
    @Option(help: "Beam width of --measure beam and latency.")
    var beam = 5
    @Option(help: "Decoding precision: float32 or bfloat16.")
    var precision: Stepper.Precision = .float32

    static let (pad, start, end) = (Int32(-1), Int32(1), Int32(2))

    /// A batch as the peer draws it: lengths uniform 8…20, words from 4..<V.
    static func batch(_ B: Int, vocabulary V: Int, rng: inout RNG)
        -> (source: [[Int32]], target: [[Int32]]) {
        func sentence() -> [Int32] {
            (0..<(8 + Int(rng.next() % 13))).map { _ in Int32(4 + Int(rng.next() % UInt64(V - 4))) }
        }
        return ((0..<B).map { _ in sentence() }, (0..<B).map { _ in sentence() })
    }

    func run() throws {
        let pool = ThreadPool(threads: threads)
        let (E, H, L, V, B) = config.shape
        let model = try EncoderDecoder(.init(sourceVocabulary: V, targetVocabulary: V, embedding: E, hidden: H,
                                             layers: L))
        var rng = RNG(seed: 0)
        model.parameters.initialize(.uniform(scale: 0.1), rng: &rng)
        var result: [String: Any] = ["peer": "quill", "config": config.rawValue, "threads": threads, "E": E, "H": H,
                                     "L": L, "V_src": V, "V_tgt": V, "B": B]
        switch measure {
        case .train:
            let optimizer = OptimizerKind.adam.make(for: model.parameters, learningRate: 1e-3)
            var rates: [Double] = [], tokens = 0
            for i in 0..<(steps + 2) {
                let (sources, targets) = Self.batch(B, vocabulary: V, rng: &rng)
                let S = sources.map(\.count).max()!, T = targets.map(\.count).max()! + 1
                var source = [Int32](repeating: Self.pad, count: S * B)
                var inputs = [Int32](repeating: Self.pad, count: T * B), outputs = inputs
                for b in 0..<B {
                    for (s, id) in sources[b].enumerated() { source[s * B + b] = id }
                    let words = targets[b]
                    for (t, id) in ([Self.start] + words).enumerated() { inputs[t * B + b] = id }
                    for (t, id) in (words + [Self.end]).enumerated() { outputs[t * B + b] = id }
                }
                let count = targets.reduce(0) { $0 + $1.count + 1 }
                let started = DispatchTime.now().uptimeNanoseconds
                _ = model.forward(source: source, sourceLengths: sources.map { Int32($0.count) },
                                  decoderInputs: inputs, targets: outputs, sourceSteps: S, targetSteps: T, batch: B,
                                  pool: pool)
                model.parameters.zeroGradients()
                model.backward(pool: pool)
                _ = GradientClipping.clipGlobalNorm(model.parameters, maxNorm: 5, pool: pool)
                optimizer.update(model.parameters, pool: pool)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                if i >= 2 {
                    rates.append(Double(count) / seconds)
                    tokens += count
                }
            }
            result["measure"] = "train_tgt_tokens_per_s"
            result["value"] = (rates.sorted()[rates.count / 2] * 10).rounded() / 10
            result["tgt_tokens_per_batch"] = Double(tokens) / Double(steps)
        case .greedy, .beam, .latency:
            model.isTraining = false
            let translator = try Translator(model: model, startID: Self.start, endID: Self.end, precision: precision,
                                            pool: pool)
            result["precision"] = precision.rawValue
            let width = measure == .greedy ? 1 : beam
            let options = Translator.Options(beam: width, batch: B, suppressEnd: true)
            var decodeRNG = RNG(seed: 2)
            var sources = Self.batch(B, vocabulary: V, rng: &decodeRNG).source
            if measure == .latency { sources = [Array(sources[0].prefix(8)) + sources[1].prefix(5)] }
            var times: [Double] = []
            var generated = 0
            for i in 0..<(reps + 1) {
                let started = DispatchTime.now().uptimeNanoseconds
                let output = translator.translate(sources, options: options)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                if i >= 1 { times.append(seconds) }
                generated = output.reduce(0) { $0 + $1[0].ids.count }
            }
            let median = times.sorted()[times.count / 2]
            if measure == .latency {
                result["measure"] = "beam\(width)_latency_ms"
                result["value"] = (median * 1e5).rounded() / 100
                result["source_ids"] = sources[0].count
            } else {
                result["measure"] = width == 1 ? "greedy_sentences_per_s" : "beam\(width)_sentences_per_s"
                result["value"] = (Double(B) / median * 100).rounded() / 100
                result["generated_tokens_per_s"] = (Double(generated) / median * 10).rounded() / 10
                result["generated_tokens"] = generated
            }
            result["beam"] = width
        }
        var load = [Double](repeating: 0, count: 3)
        _ = getloadavg(&load, 3)
        result["load1"] = (load[0] * 100).rounded() / 100
        printJSON(result)
    }
}
