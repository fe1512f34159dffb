import ArgumentParser
import Dispatch
import QuillDecode
import QuillNN
import QuillTensor

/// Training and scoring tokens/s of the gated convolutional LM beside Quill's LSTM of the same size, on the shapes
/// of `scripts/peers/pytorch_gcnn.py` (whose PyTorch `nn.Conv1d` model is the peer).
///
/// A block of width 4 holds `8·C²` weights, as an LSTM layer of `C` does, so the two models of a config have the same
/// parameter count. Training is TrainBench's procedure (per window: forward from the carried state, mean
/// cross-entropy, backward, clip 5, SGD lr 1; median window after warm-up); scoring is evaluation-mode windows of
/// 35 steps × 64 streams with the state carried (the LSTM through the float32 `Scorer`, its fastest scoring path).
struct GCNNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gcnn",
        abstract: "Training and scoring tokens/s: the gated convolutional LM and an LSTM of the same size.")

    static let configs: [String: (V: Int, C: Int, L: Int, k: Int, T: Int, B: Int)] = [
        "ptb-small": (10000, 200, 2, 4, 20, 20), "ptb-medium": (10000, 650, 2, 4, 35, 20),
    ]

    @Option(help: "Configs (repeat the option): ptb-small, ptb-medium.")
    var config: [String] = ["ptb-small", "ptb-medium"]
    @Option(help: "Threads.")
    var threads = 2
    @Option(help: "Training windows timed (the first max(2, windows/5) are warm-up).")
    var windows = 30

    func validate() throws {
        guard config.allSatisfy({ Self.configs[$0] != nil }) else {
            throw ValidationError("--config must be one of \(Self.configs.keys.sorted().joined(separator: ", "))")
        }
        guard threads >= 1, windows >= 3 else { throw ValidationError("--threads ≥ 1 and --windows ≥ 3") }
    }

    func run() throws {
        let pool = ThreadPool(threads: threads)
        for name in config {
            let c = Self.configs[name]!
            let gcnn = try GatedConvolutionalLanguageModel(.init(vocabulary: c.V, embedding: c.C, channels: c.C,
                                                                 blocks: c.L, width: c.k))
            let lstm = try LanguageModel(.init(kind: .lstm, vocabulary: c.V, embedding: c.C, hidden: c.C, layers: c.L))
            for (label, model) in [("gcnn", gcnn as any StreamLanguageModel), ("lstm", lstm)] {
                var rng = RNG(seed: 1)
                model.parameters.initialize(.uniform(scale: 0.1), rng: &rng)
                let train = Self.train(model, V: c.V, T: c.T, B: c.B, windows: windows, pool: pool)
                let score = label == "lstm" ? try Self.scoreLSTM(lstm, V: c.V, pool: pool)
                    : Self.score(model, V: c.V, pool: pool)
                for (measure, value) in [("train_tokens_per_s", train), ("score_tokens_per_s", score)] {
                    printJSON(["bench": "gcnn", "model": label, "config": name, "threads": threads,
                               "parameters": model.parameters.parameterCount, "measure": measure,
                               "value": (value * 10).rounded() / 10])
                }
            }
        }
    }

    static func randomIDs(_ count: Int, V: Int, seed: UInt64) -> [Int32] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in Int32(rng.next() % UInt64(V)) }
    }

    static func median(_ times: [Double], windows: Int) -> Double {
        let timed = times[max(2, windows / 5)...].sorted()
        return timed[timed.count / 2]
    }

    static func train(_ model: any StreamLanguageModel, V: Int, T: Int, B: Int, windows: Int, pool: ThreadPool)
        -> Double {
        let sgd = SGD(for: model.parameters, learningRate: 1)
        model.isTraining = true
        model.computesGradient = true
        return timedWindows(model, V: V, T: T, B: B, windows: windows, seed: 2, pool: pool) {
            model.parameters.zeroGradients()
            model.backward(pool: pool)
            _ = GradientClipping.clipGlobalNorm(model.parameters, maxNorm: 5, pool: pool)
            sgd.update(model.parameters, pool: pool)
        }
    }

    /// Evaluation-mode windows of the model itself (forward and loss, no loss gradient), as `quill eval` runs them.
    static func score(_ model: any StreamLanguageModel, V: Int, pool: ThreadPool, windows: Int = 20) -> Double {
        model.isTraining = false
        model.computesGradient = false
        return timedWindows(model, V: V, T: 35, B: 64, windows: windows, seed: 4, pool: pool) {}
    }

    /// Tokens/s of the median window: each a forward from the state the window before left, then `afterForward`.
    static func timedWindows(_ model: any StreamLanguageModel, V: Int, T: Int, B: Int, windows: Int, seed: UInt64,
                             pool: ThreadPool, afterForward: () -> Void) -> Double {
        let data = randomIDs((T * windows + 1) * B, V: V, seed: seed)
        var state: [[Float]?] = [], rng = RNG(seed: seed + 1), times: [Double] = []
        for w in 0..<windows {
            let x = Array(data[(w * T * B)..<((w + 1) * T * B)])
            let y = Array(data[(w * T * B + B)..<((w + 1) * T * B + B)])
            let start = DispatchTime.now().uptimeNanoseconds
            _ = model.forward(inputs: x, targets: y, steps: T, batch: B, state: state, rng: &rng, pool: pool)
            state = model.finalState
            afterForward()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Double(T * B) / median(times, windows: windows)
    }

    /// The LSTM through the float32 `Scorer`, as `quill-bench score` measures it.
    static func scoreLSTM(_ model: LanguageModel, V: Int, pool: ThreadPool, windows: Int = 20) throws -> Double {
        let (T, B) = (35, 64)
        model.isTraining = false
        let scorer = try Scorer(model: model, precision: .float32, batch: B, window: T, pool: pool)
        let data = randomIDs((T * windows + 1) * B, V: V, seed: 4)
        var state = scorer.initialState(batch: B)
        var sums = [Double](repeating: 0, count: B), times: [Double] = []
        scorer.prepare()
        for w in 0..<windows {
            let x = Array(data[(w * T * B)..<((w + 1) * T * B)])
            let y = Array(data[(w * T * B + B)..<((w + 1) * T * B + B)])
            let start = DispatchTime.now().uptimeNanoseconds
            sums.withUnsafeMutableBufferPointer {
                scorer.scoreWindow(inputs: x, targets: y, steps: T, batch: B, state: &state, adding: $0)
            }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Double(T * B) / median(times, windows: windows)
    }
}
