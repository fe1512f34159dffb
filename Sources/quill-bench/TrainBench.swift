import ArgumentParser
import Dispatch
import QuillNN
import QuillTensor

/// Training tokens/s of an LSTM language model, mirroring `../shared/bench/pytorch_lstm.py`'s `measure_train`.
///
/// Same shapes (embedding = hidden), random token ids, state carried between windows, and per timed window: zero the
/// gradients, forward, mean cross-entropy, backward, clip the global norm to 5, SGD step (lr 1). 30 windows; the first
/// `max(2, 30/5)` are warm-up; the median window gives `tokens_per_s = T·B / median`.
struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training tokens/s of an LSTM language model on the shapes of pytorch_lstm.py (median window).")

    /// The peer script's configs: vocabulary, hidden (= embedding), layers, bptt, batch.
    static let configs: [String: (V: Int, H: Int, L: Int, T: Int, B: Int)] = [
        "ptb-small": (10000, 200, 2, 20, 20), "ptb-medium": (10000, 650, 2, 35, 20),
        "char-512": (65, 512, 2, 100, 32), "ptb-large": (10000, 1500, 2, 35, 20),
    ]

    @Option(help: "Configs to measure (repeat the option): ptb-small, ptb-medium, char-512, ptb-large.")
    var config: [String] = ["ptb-small", "ptb-medium", "char-512"]
    @Option(help: "Thread counts to measure (repeat the option); default 2.")
    var threads: [Int] = [2]
    @Option(help: ArgumentHelp("GEMM precisions to measure (repeat the option): float32, bfloat16 (mixed: bfloat16 "
                               + "operands, float32 weights and sums)."))
    var precision: [Precision] = [.float32]
    @Option(help: "Training windows per measurement (the peer's default 30; a third for H ≥ 1000).")
    var windows = 30

    func validate() throws {
        guard config.allSatisfy({ Self.configs[$0] != nil }) else {
            throw ValidationError("--config must be one of \(Self.configs.keys.sorted().joined(separator: ", "))")
        }
        guard threads.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads must be at least 1") }
        guard windows >= 3 else { throw ValidationError("--windows must be at least 3") }
        guard precision.allSatisfy(\.trains) else { throw ValidationError("--precision: training runs float32 or bfloat16") }
    }

    func run() throws {
        for name in config {
            for p in precision {
                for t in threads {
                    let c = Self.configs[name]!
                    let pool = ThreadPool(threads: t)
                    let count = c.H < 1000 ? windows : max(8, windows / 3)
                    let tokensPerSecond = try Self.measure(c, windows: count, precision: p, pool: pool)
                    let flopsPerToken = 2 * (c.L * 4 * c.H * (c.H + c.H) + c.H * c.V)
                    printJSON([
                        "bench": "train", "config": name, "threads": t, "precision": p.rawValue, "V": c.V, "H": c.H,
                        "L": c.L, "T": c.T, "B": c.B, "tokens_per_s": (tokensPerSecond * 10).rounded() / 10,
                        "gflops": (tokensPerSecond * 3 * Double(flopsPerToken) / 1e8).rounded() / 10,
                    ])
                }
            }
        }
    }

    static func measure(_ c: (V: Int, H: Int, L: Int, T: Int, B: Int), windows: Int, precision: Precision,
                        pool: ThreadPool) throws -> Double {
        let model = try LanguageModel(.init(kind: .lstm, vocabulary: c.V, embedding: c.H, hidden: c.H, layers: c.L))
        model.precision = precision
        var rng = RNG(seed: 1)
        model.parameters.initialize(.uniform(scale: 0.1), rng: &rng)
        let sgd = SGD(for: model.parameters, learningRate: 1)
        let (T, B) = (c.T, c.B)
        let data: [Int32] = (0..<((T * windows + 1) * B)).map { _ in Int32(rng.next() % UInt64(c.V)) }
        var h: [Float]? = nil, cell: [Float]? = nil
        var times: [Double] = []
        for w in 0..<windows {
            let x = Array(data[(w * T * B)..<((w + 1) * T * B)])
            let y = Array(data[(w * T * B + B)..<((w + 1) * T * B + B)])
            let start = DispatchTime.now().uptimeNanoseconds
            _ = model.forward(inputs: x, targets: y, steps: T, batch: B, h0: h, c0: cell, pool: pool)
            h = model.finalHidden
            cell = model.finalCell
            model.parameters.zeroGradients()
            model.backward(pool: pool)
            _ = GradientClipping.clipGlobalNorm(model.parameters, maxNorm: 5, pool: pool)
            sgd.update(model.parameters, pool: pool)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let timed = times[max(2, windows / 5)...].sorted()
        return Double(T * B) / timed[timed.count / 2]
    }
}
