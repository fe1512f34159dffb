import ArgumentParser
import Foundation
import QuillTensor

/// GEMM throughput on the shapes, the peer of `../shared/bench/blas_gemm.py` (OpenBLAS through numpy).
struct GEMMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GFLOP/s of C = A·B (median of repeats) on square and LSTM shapes; LSTM shapes also pre-packed.")

    @Option(help: "Thread counts to measure (repeat the option); default 1 and 2.")
    var threads: [Int] = [1, 2]
    @Option(help: "Microkernel: portable, avx2, avx512, neon (default: the best this CPU runs).")
    var kernel: String?
    @Option(help: "Timed samples per shape (the median is reported).")
    var samples = 7

    /// M×N×K; the LSTM shapes (small M, fixed weights) are also run with B pre-packed.
    static let shapes: [(m: Int, n: Int, k: Int, lstm: Bool)] = [
        (512, 512, 512, false), (1024, 1024, 1024, false), (20, 800, 400, true), (20, 2600, 1300, true),
        (32, 2048, 1024, true), (640, 800, 200, true),
    ]

    func validate() throws {
        guard threads.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads must be at least 1") }
        if let kernel, selectedKernel == nil { throw ValidationError("unknown or unsupported kernel \(kernel)") }
    }

    private var selectedKernel: GEMMKernel? {
        guard let kernel else { return .best }
        let names: [String: GEMMKernel] = ["portable": .portable, "avx2": .avx2, "avx512": .avx512, "neon": .neon]
        return names[kernel].flatMap { $0.isSupported ? $0 : nil }
    }

    func run() throws {
        let kernel = selectedKernel!
        for t in threads {
            let pool = ThreadPool(threads: t)
            for s in Self.shapes {
                var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
                func random(_ count: Int) -> [Float] {
                    (0..<count).map { _ in
                        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
                        return Float(Int(seed % 2001) - 1000) / 1000
                    }
                }
                let a = random(s.m * s.k), b = random(s.k * s.n)
                var c = [Float](repeating: 0, count: s.m * s.n)
                let packed = s.lstm ? PackedMatrix(rows: s.k, columns: s.n, b: b, kernel: kernel, pool: pool) : nil
                for usePacked in s.lstm ? [false, true] : [false] {
                    let seconds = a.withUnsafeBufferPointer { a in
                        b.withUnsafeBufferPointer { b in
                            c.withUnsafeMutableBufferPointer { c in
                                medianSeconds(samples: samples) {
                                    if usePacked {
                                        gemm(m: s.m, a: a.baseAddress!, lda: s.k, packedB: packed!,
                                             c: c.baseAddress!, ldc: s.n, pool: pool)
                                    } else {
                                        gemm(m: s.m, n: s.n, k: s.k, a: a.baseAddress!, lda: s.k,
                                             b: b.baseAddress!, ldb: s.n, c: c.baseAddress!, ldc: s.n,
                                             pool: pool, kernel: kernel)
                                    }
                                }
                            }
                        }
                    }
                    let flops = 2.0 * Double(s.m * s.n * s.k)
                    printJSON([
                        "bench": "gemm", "M": s.m, "N": s.n, "K": s.k, "threads": t, "packed": usePacked,
                        "kernel": "\(kernel)", "gflops": (flops / seconds / 1e9 * 10).rounded() / 10,
                    ])
                }
            }
        }
    }
}
