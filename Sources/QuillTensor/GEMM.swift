import CQuillKernels

// GEMM: `C = alpha · op(A) · op(B) + beta · C` on row-major Float32 (docs/kernels.md, section "GEMM").
//
// Letters: `M` rows of C and op(A), `N` columns of C and op(B), `K` the reduction. op(A) is `M×K`: A is stored
// `M×K` (row stride `lda ≥ K`), or `K×M` when `transposeA` (`lda ≥ M`). op(B) is `K×N`: B is stored `K×N`
// (`ldb ≥ N`), or `N×K` when `transposeB` (`ldb ≥ K`). C is `M×N` with `ldc ≥ N`.

/// A microkernel family, chosen at run time from the CPU (no compiler flags needed).
public enum GEMMKernel: Int32, CaseIterable, Sendable {
    case portable = 0, avx2 = 1, avx512 = 2, neon = 3

    /// The fastest kernel this CPU runs.
    public static let best: GEMMKernel = {
        let path = GEMMKernel(rawValue: quill_cpu_path()) ?? .portable
        return path.isSupported ? path : .portable
    }()

    /// Kernels compiled into this binary that this CPU can run.
    public static var supported: [GEMMKernel] { allCases.filter(\.isSupported) }

    public var isSupported: Bool { quill_gemm_path_supported(rawValue) != 0 }
    /// The register tile: `rows × columns` of C per microkernel call.
    public var tile: (rows: Int, columns: Int) { (Int(quill_gemm_mr(rawValue)), Int(quill_gemm_nr(rawValue))) }
}

/// Multiplies matrices: `C = alpha · op(A) · op(B) + beta · C`, with `C` `M×N`, op(A) `M×K`, op(B) `K×N`.
///
/// The result is bit-identical for every thread count (C is split by blocks of output; K is never split). When
/// `beta == 0`, C is only written (NaN in C does not propagate); when `k == 0` or `alpha == 0`, `C = beta · C`.
/// - Parameters:
///   - transposeA: A is stored `K×M` (op(A) = Aᵀ) instead of `M×K`.
///   - transposeB: B is stored `N×K` (op(B) = Bᵀ) instead of `K×N`.
///   - lda, ldb, ldc: row strides (leading dimensions) in elements, at least the stored width.
///   - bias: `[N]` added to every row of C after the product (`C = (alpha · op(A) · op(B) + beta · C) + bias`,
///     bit-identical to a separate `Bias.add`), nil for none.
///   - pool: the threads to use; `ThreadPool(threads: 1)` for a serial call.
///   - kernel: the microkernel family (tests compare them; `best` otherwise).
///   - precision: ``Precision/bfloat16`` rounds op(A) and op(B) to bfloat16 (into the calling thread's scratch) and
///     sums their products in float32; ``Precision/int8`` quantizes them (inference: op(A) = A, op(B) = Wᵀ with
///     `transposeB`). Both take `alpha` 1 and `beta` 0 or 1, and ignore `kernel`.
public func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                 c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil,
                 pool: ThreadPool = .shared, kernel: GEMMKernel = .best, precision: Precision = .float32) {
    checkShapes(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
    precondition(kernel.isSupported, "GEMM kernel \(kernel) is not supported on this CPU")
    guard m > 0, n > 0 else { return }
    guard k > 0, alpha != 0 else { return scaleOnly(m: m, n: n, beta: beta, c: c, ldc: ldc, bias: bias) }
    if precision == .int8 {
        precondition(transposeB && !transposeA, "an int8 product is x·Wᵀ (transposeB, not transposeA): inference only")
        precondition(alpha == 1 && (beta == 0 || beta == 1), "an int8 GEMM takes alpha 1 and beta 0 or 1")
        let storage = UnsafeMutableRawPointer(quill_gemm_scratch(4, Int64(Int8Weights.layout(k: k, n: n).bytes / 4))!)
        let weights = Int8Weights.packing(k: k, n: n, w: b, ldw: ldb, into: storage, pool: pool)
        return int8Multiply(m: m, n: n, k: k, a: a, lda: lda, weights: weights, c: c, ldc: ldc, bias: bias,
                            accumulate: beta == 1, pool: pool)
    }
    if precision == .bfloat16 {
        let packed = quill_bf16_scratch(1, quill_bf16_packed_count(Int64(k), Int64(n)))!
        bfloat16Pack(transposed: transposeB, k: k, n: n, b: b, ldb: ldb, into: packed, pool: pool)
        return gemmBFloat16(transposeA: transposeA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, packed: packed,
                            beta: beta, c: c, ldc: ldc, bias: bias, pool: pool)
    }
    var plan = quill_gemm_plan()
    quill_gemm_plan_init(&plan, kernel.rawValue, transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n),
                         Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
    plan.bias = bias
    if plan.pack_b_per_item == 0 { plan.packed_b = quill_gemm_scratch(1, plan.packed_b_count) }
    run(&plan, pool: pool)
}

/// The whole GEMM when `K == 0` or `alpha == 0`: `C = beta · C (+ bias)`.
private func scaleOnly(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                       bias: UnsafePointer<Float>?) {
    quill_gemm_scale(Int64(m), Int64(n), beta, c, Int64(ldc))
    if let bias { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = c[i * ldc + j] + bias[j] } } }
}

/// Multiplies by a pre-packed op(B): `C = alpha · op(A) · B + beta · C`, with `C` `M×N`, op(A) `M×K`, and `K`, `N`
/// and the kernel and precision taken from `packedB` (a bfloat16 packing takes `alpha` 1 and `beta` 0 or 1).
///
/// Bit-identical to the unpacked call with the same B, kernel and precision; faster when the same B (weights) multiplies many
/// small A (an LSTM's time steps), since B is packed once.
public func gemm(transposeA: Bool = false, m: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                 packedB: PackedMatrix, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                 bias: UnsafePointer<Float>? = nil, pool: ThreadPool = .shared) {
    let n = packedB.columns, k = packedB.rows
    checkShapes(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, lda: lda, ldb: max(1, n), ldc: ldc)
    guard m > 0, n > 0 else { return }
    guard k > 0, alpha != 0 else { return scaleOnly(m: m, n: n, beta: beta, c: c, ldc: ldc, bias: bias) }
    if packedB.precision == .int8 {
        precondition(!transposeA && alpha == 1 && (beta == 0 || beta == 1),
                     "an int8 GEMM takes op(A) = A, alpha 1 and beta 0 or 1")
        return withExtendedLifetime(packedB) {
            int8Multiply(m: m, n: n, k: k, a: a, lda: lda, weights: packedB.int8Weights, c: c, ldc: ldc, bias: bias,
                         accumulate: beta == 1, pool: pool)
        }
    }
    if packedB.precision == .bfloat16 {
        return withExtendedLifetime(packedB) {
            gemmBFloat16(transposeA: transposeA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                         packed: packedB.bfloat16Storage, beta: beta, c: c, ldc: ldc, bias: bias, pool: pool)
        }
    }
    var plan = quill_gemm_plan()
    quill_gemm_plan_init(&plan, packedB.kernel.rawValue, transposeA ? 1 : 0, 0, Int64(m), Int64(n), Int64(k),
                         alpha, a, Int64(lda), nil, 0, beta, c, Int64(ldc))
    plan.bias = bias
    plan.packed_b = packedB.floatStorage
    plan.b_is_packed = 1
    withExtendedLifetime(packedB) { run(&plan, pool: pool) }
}

/// The bfloat16 product by a packed op(B): op(A) rounded into the calling thread's scratch, then the kernel.
private func gemmBFloat16(transposeA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                          packed: UnsafePointer<UInt16>, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                          bias: UnsafePointer<Float>?, pool: ThreadPool) {
    precondition(alpha == 1 && (beta == 0 || beta == 1), "a bfloat16 GEMM takes alpha 1 and beta 0 or 1")
    let words = UnsafeMutableRawPointer(quill_bf16_scratch(0, Int64(2 * BFloat16Operand.wordCount(m: m, k: k)))!)
        .assumingMemoryBound(to: UInt32.self)
    let operand = BFloat16Operand.converting(transposed: transposeA, m: m, k: k, a: a, lda: lda, into: words,
                                             pool: pool)
    bfloat16Multiply(m: m, n: n, k: k, a: operand, packed: packed, c: c, ldc: ldc, bias: bias,
                     accumulate: beta == 1, pool: pool)
}

/// Multiplies matrices stored densely in arrays: `C = alpha · op(A) · op(B) + beta · C` (strides = widths).
/// - Parameters:
///   - a: `M×K` (or `K×M` when `transposeA`), `b`: `K×N` (or `N×K` when `transposeB`), `c`: `M×N`.
public func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                 a: [Float], b: [Float], beta: Float = 0, c: inout [Float], pool: ThreadPool = .shared,
                 kernel: GEMMKernel = .best) {
    precondition(a.count == m * k && b.count == k * n && c.count == m * n, "GEMM array sizes do not match M, N, K")
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                     a: a.baseAddress!, lda: max(1, transposeA ? m : k), b: b.baseAddress!,
                     ldb: max(1, transposeB ? k : n), beta: beta, c: c.baseAddress!, ldc: max(1, n), pool: pool,
                     kernel: kernel)
            }
        }
    }
}

/// The naive GEMM: the statement of the maths and the tests' oracle. Same contract as `gemm`; sums in Double.
public func gemmReference(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                          alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                          bias: UnsafePointer<Float>? = nil) {
    checkShapes(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let aip = transposeA ? a[p * lda + i] : a[i * lda + p]
                let bpj = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                sum += Double(aip) * Double(bpj)
            }
            let scaled = Double(alpha) * sum
            c[i * ldc + j] = Float(beta == 0 ? scaled : scaled + Double(beta) * Double(c[i * ldc + j]))
            if let bias { c[i * ldc + j] += bias[j] }
        }
    }
}

/// GEMMs below this many multiply-adds run on the calling thread: waking workers would cost more than it saves.
let serialMultiplyAdds = 1 << 16

private func run(_ plan: inout quill_gemm_plan, pool: ThreadPool) {
    if plan.a_direct == 0 { plan.packed_a = quill_gemm_scratch(0, plan.packed_a_count) }
    let pool = plan.m * plan.n * plan.k < serialMultiplyAdds ? nil : pool
    withUnsafePointer(to: &plan) { plan in
        let packsB = plan.pointee.b_is_packed == 0 && plan.pointee.pack_b_per_item == 0
        let packsA = plan.pointee.a_direct == 0
        let packItems = packsB ? Int(plan.pointee.pack_items) : packsA ? Int(plan.pointee.items_m) : 0
        let computeItems = Int(plan.pointee.compute_items)
        if let pool {
            pool.parallelFor(packItems) { quill_gemm_pack_item(plan, Int64($0)) }
            pool.parallelFor(computeItems) { quill_gemm_compute_item(plan, Int64($0)) }
        } else {
            for i in 0..<packItems { quill_gemm_pack_item(plan, Int64(i)) }
            for i in 0..<computeItems { quill_gemm_compute_item(plan, Int64(i)) }
        }
    }
}

private func checkShapes(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int) {
    precondition(m >= 0 && n >= 0 && k >= 0, "GEMM dimensions must be non-negative (M \(m), N \(n), K \(k))")
    precondition(lda >= max(1, transposeA ? m : k), "lda \(lda) is smaller than the width of A")
    precondition(ldb >= max(1, transposeB ? k : n), "ldb \(ldb) is smaller than the width of B")
    precondition(ldc >= max(1, n), "ldc \(ldc) is smaller than N \(n)")
}
