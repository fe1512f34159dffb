import ArgumentParser
import CQuillKernels
import Dispatch
import QuillTensor

/// The arithmetic ceilings of this CPU, measured: float32 FMA (`vfmadd231ps zmm`), bfloat16 dot products
/// (`vdpbf16ps zmm`) and int8 dot products (`vpdpbusd zmm`, counted as 2 operations per multiply-add), in GFLOP/s
/// (GOP/s) per core and on `threads` cores at once (each thread its own loop, so a shared
/// clock limit shows). The training and scoring benchmarks report achieved GFLOP/s against these.
struct PeakBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak", abstract: "Peak float32 FMA, bfloat16 and int8 dot-product rates of this CPU (AVX-512).")

    @Option(help: "Thread counts to measure (repeat the option); default 1 and 2.")
    var threads: [Int] = [1, 2]

    func run() throws {
        guard GEMMKernel.best == .avx512 else { throw ValidationError("peak needs AVX-512 (this CPU lacks it)") }
        let iterations: Int64 = 50_000_000
        for t in threads {
            let pool = ThreadPool(threads: t)
            let loops: [(String, Double, (Int64) -> Void)] = [
                ("float32", 512, { _ = quill_peak_fma_f32($0) }), ("bfloat16", 1024, { _ = quill_peak_dpbf16($0) }),
                ("int8", 2048, { _ = quill_peak_dpbusd($0) }),
            ]
            for (name, flopsPerRound, loop) in loops {
                if name == "bfloat16" && quill_bf16_best_path() != 2 || name == "int8" && quill_i8_best_path() != 2 {
                    continue
                }
                var best = Double.infinity
                for _ in 0..<3 {
                    let start = DispatchTime.now().uptimeNanoseconds
                    pool.parallelFor(t) { _ in _ = loop(iterations) }
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                }
                let gflops = Double(t) * Double(iterations) * flopsPerRound / best / 1e9
                printJSON(["bench": "peak", "precision": name, "threads": t,
                           "gflops": (gflops * 10).rounded() / 10,
                           "gflops_per_core": (gflops / Double(t) * 10).rounded() / 10])
            }
        }
    }
}
