import ArgumentParser
import Foundation
import QuillDecode
import QuillNN
import QuillTensor

/// Throughput of no-grad batch scoring (the peer's `score`: batch 64, window 35, state carried between windows,
/// random token ids), tokens per second from the median window after a warm-up; `--precision bfloat16` for the
/// reduced-precision scorer.
struct ScoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Tokens/s of batch scoring (Scorer): batch 64, window 35, state carried between windows.")

    @Option(help: "ptb-small or ptb-medium.")
    var config: DecodeConfig = .ptbSmall
    @Option(help: "float32 (exact) or bfloat16 (bfloat16 weights and activations, float32 sums).")
    var precision: Stepper.Precision = .float32
    @Option(help: "Threads (the peer's default is 2).")
    var threads = 2
    @Option(help: "Windows timed (the first max(2, windows/5) are dropped as warm-up, as the peer does).")
    var windows = 20

    @Option(help: "Decoder rows per item (Scorer.decoderRows; tuning).")
    var decoderRows = 128
    @Option(help: "Vocabulary entries per block of logits (Scorer.decoderColumns; tuning).")
    var decoderColumns = 512

    func validate() throws {
        guard threads >= 1, windows >= 3 else { throw ValidationError("--threads ≥ 1 and --windows ≥ 3") }
        guard Scorer.scoringPrecisions.contains(precision) else {
            throw ValidationError("--precision: scoring runs float32, bfloat16 or int8")
        }
    }

    func run() throws {
        let (B, T) = (64, 35)
        let pool = ThreadPool(threads: threads)
        let scorer = try Scorer(model: try config.model(), precision: precision, batch: B, window: T, pool: pool)
        scorer.decoderRows = decoderRows
        scorer.decoderColumns = decoderColumns
        var rng = RNG(seed: 2)
        let data = (0..<(T * windows + 1) * B).map { _ in Int32(rng.next() % 10_000) }
        var state = scorer.initialState(batch: B)
        var sums = [Double](repeating: 0, count: B)
        var times: [Double] = []
        scorer.prepare()
        for w in 0..<windows {
            let inputs = Array(data[(w * T * B)..<((w + 1) * T * B)])
            let targets = Array(data[(w * T * B + B)..<((w + 1) * T * B + B)])
            let start = DispatchTime.now().uptimeNanoseconds
            sums.withUnsafeMutableBufferPointer {
                scorer.scoreWindow(inputs: inputs, targets: targets, steps: T, batch: B, state: &state, adding: $0)
            }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let timed = Array(times[max(2, windows / 5)...]).sorted()
        let median = timed[timed.count / 2]
        printJSON([
            "bench": "score", "config": config.rawValue, "threads": threads, "batch": B, "window": T,
            "precision": precision.rawValue,
            "tokens_per_s": (Double(T * B) / median).rounded(),
            "mean_log_probability": sums.reduce(0, +) / Double(T * B * windows),
        ])
    }
}
