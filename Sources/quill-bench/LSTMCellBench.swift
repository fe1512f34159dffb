import ArgumentParser
import Foundation
import QuillTensor

/// The fused LSTM cell, forward + backward, in GB/s of memory traffic (issue target: ≥ 10 GB/s).
///
/// Traffic counted per step: forward reads `gates[B][4H]`, `cPrev` and writes `gates`, `c`, `h` (11·B·H floats);
/// backward reads `gates`, `cPrev`, `c`, `dH`, `dC` and writes `dGates`, `dCPrev` (13·B·H floats): 96·B·H bytes.
struct LSTMCellBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lstm-cell",
        abstract: "GB/s of the fused LSTM cell forward + backward (median of repeats) on LSTM batch × hidden shapes.")

    @Option(help: "Thread counts to measure (repeat the option); default 1 and 2.")
    var threads: [Int] = [1, 2]
    @Option(help: "Timed samples per shape (the median is reported).")
    var samples = 7

    /// B × H: PTB medium/large (20 × 650, 20 × 1500), and larger batches up to one out of cache.
    static let shapes: [(batch: Int, hidden: Int)] = [(20, 650), (20, 1500), (32, 1024), (64, 2048), (128, 4096)]

    func validate() throws {
        guard threads.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        for t in threads {
            let pool = ThreadPool(threads: t)
            for (B, H) in Self.shapes {
                var rng = RNG(seed: 1)
                let gates = Tensor(zeros: [B, 4 * H]), cPrev = Tensor(zeros: [B, H]), c = Tensor(zeros: [B, H])
                let h = Tensor(zeros: [B, H]), dH = Tensor(zeros: [B, H]), dC = Tensor(zeros: [B, H])
                let dGates = Tensor(zeros: [B, 4 * H]), dCPrev = Tensor(zeros: [B, H])
                for tensor in [gates, cPrev, dH, dC] { rng.fillUniform(tensor, low: -1, high: 1) }
                let seconds = withExtendedLifetime((gates, cPrev, c, h, dH, dC, dGates, dCPrev)) {
                    medianSeconds(samples: samples) {
                        // Forward overwrites the gates with activations; rerunning it on them keeps values in range.
                        LSTMCell.forward(gates: gates.base, cPrev: cPrev.base, c: c.base, h: h.base, batch: B,
                                         hidden: H, pool: pool)
                        LSTMCell.backward(gates: gates.base, cPrev: cPrev.base, c: c.base, dH: dH.base, dC: dC.base,
                                          dGates: dGates.base, dCPrev: dCPrev.base, batch: B, hidden: H, pool: pool)
                    }
                }
                let bytes = 96.0 * Double(B * H)
                printJSON([
                    "bench": "lstm-cell", "B": B, "H": H, "threads": t,
                    "microseconds": (seconds * 1e7).rounded() / 10, "gbps": (bytes / seconds / 1e8).rounded() / 10,
                ])
            }
        }
    }
}
