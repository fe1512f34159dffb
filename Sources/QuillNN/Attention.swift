import Foundation
import QuillTensor

// Letters: `B` query rows, `S` source steps, `H` width of the memory and of the queries, `T` decoder steps.
// Layout: memory time-major `[S][R][H]` over `R` memory rows (the encoder's outputs); queries `[B][H]`.

/// Luong et al.'s (2015) global attention with the "general" score, as OpenNMT-py's `GlobalAttention`: for a query
/// `h` (the decoder's top state) over memory `m₁…m_S` (the encoder's outputs),
///
///     q = W_a·h,   score_s = m_s·q,   α = softmax(score) over the row's own steps,   c = Σ_s α_s·m_s,
///     a = tanh(W_c·[c; h])
///
/// without biases. `a` is the attentional output (fed to the generator and, with input feeding, to the next step).
///
/// Parameters `<prefix>.inWeight` `W_a` `[H][H]` and `<prefix>.outWeight` `W_c` `[H][2H]` (PyTorch's `Linear`
/// layouts: `attn_in.weight`, `attn_out.weight`).
///
/// Steps run one at a time (the decoder interleaves them with its own). Each step keeps what its backward needs in
/// a slot; backward steps run in reverse and the weight gradients are summed over all steps at once by
/// ``finishBackward(pool:)`` (two GEMMs instead of `2T`). A row's work touches only its own memory rows, so rows run
/// in parallel and results do not depend on the thread count.
public final class LuongAttention {
    public let width: Int
    public let inWeight: Tensor, dInWeight: Tensor, outWeight: Tensor, dOutWeight: Tensor

    private var memory: UnsafePointer<Float>?
    private var lengths = [Int32]()
    private var memoryRows = 0, sourceSteps = 0, batch = 0, capacity = 0
    /// Query row → memory row (a beam's hypotheses share their sentence's memory); empty for the identity.
    private var memoryIndex = [Int32]()
    /// Per slot: `q` `[B][H]`, `α` `[B][S]`, `[c; h]` `[B][2H]`, `a` `[B][H]`.
    private var queries = Scratch(), weights = Scratch(), joined = Scratch(), outputs = Scratch()
    /// Per slot: the gradients of `q` and of `W_c·[c; h]`, for ``finishBackward(pool:)``.
    private var dQueries = Scratch(), dJoinedProjection = Scratch(), dJoined = Scratch(), dWeights = Scratch()
    private var steppedBack = 0, slotsUsed = 0
    /// `W_aᵀ` and `W_cᵀ` packed by ``begin(memory:sourceSteps:memoryRows:lengths:batch:memoryIndex:capacity:weightsUnchanged:)``;
    /// `W_c` and `W_a` packed by the first backward step.
    private var packedIn: PackedMatrix?, packedOut: PackedMatrix?
    private var packedOutBackward: PackedMatrix?, packedInBackward: PackedMatrix?
    private var backwardPacked = false

    /// The parameter names under `prefix`, with their shapes.
    public static func layout(prefix: String, width: Int) -> ParameterLayout {
        [("\(prefix).inWeight", [width, width]), ("\(prefix).outWeight", [width, 2 * width])]
    }

    /// Binds `<prefix>.inWeight` and `<prefix>.outWeight` in `parameters`.
    public init(_ parameters: ParameterSet, prefix: String, width: Int) throws {
        self.width = width
        (inWeight, dInWeight) = try parameters.views("\(prefix).inWeight", [width, width])
        (outWeight, dOutWeight) = try parameters.views("\(prefix).outWeight", [width, 2 * width])
    }

    /// Starts attending over `memory` `[S][R][H]` (kept, not copied: it must stay valid and unchanged until the last
    /// backward step) whose row `r` holds `lengths[r]` steps in `1...S`.
    /// - Parameters:
    ///   - batch: query rows `B` of every step.
    ///   - memoryIndex: `[B]` the memory row of each query row, nil when query row `b` reads memory row `b`.
    ///   - capacity: the slots (steps) to keep for backward; 1 when no backward follows.
    ///   - weightsUnchanged: the weights are those of the previous begin: keep them packed (a decoder calls begin at
    ///     every step, as its rows change).
    public func begin(memory: UnsafePointer<Float>, sourceSteps S: Int, memoryRows R: Int,
                      lengths: UnsafePointer<Int32>, batch B: Int, memoryIndex: UnsafePointer<Int32>? = nil,
                      capacity: Int, weightsUnchanged: Bool = false, pool: ThreadPool = .shared) {
        precondition(S >= 1 && R >= 1 && B >= 1 && capacity >= 1, "attention needs a positive shape")
        let H = width
        self.memory = memory
        // Copied into kept arrays (no allocation once they are large enough: a decoder begins at every step).
        self.lengths.removeAll(keepingCapacity: true)
        for r in 0..<R {
            precondition(lengths[r] >= 1 && Int(lengths[r]) <= S, "memory row \(r) has length \(lengths[r]), not in 1...\(S)")
            self.lengths.append(lengths[r])
        }
        self.memoryIndex.removeAll(keepingCapacity: true)
        if let index = memoryIndex {
            for b in 0..<B {
                precondition(index[b] >= 0 && Int(index[b]) < R, "query row \(b) reads memory row \(index[b]) of \(R)")
                self.memoryIndex.append(index[b])
            }
        }
        memoryRows = R
        sourceSteps = S
        batch = B
        self.capacity = capacity
        _ = queries.pointer(capacity * B * H)
        _ = weights.pointer(capacity * B * S)
        _ = joined.pointer(capacity * B * 2 * H)
        _ = outputs.pointer(capacity * B * H)
        slotsUsed = 0
        steppedBack = 0
        backwardPacked = false
        if !weightsUnchanged || packedIn == nil {
            packedIn = PackedMatrix.packing(packedIn, transposed: true, rows: H, columns: H, b: inWeight.base, ldb: H,
                                            pool: pool)
            packedOut = PackedMatrix.packing(packedOut, transposed: true, rows: 2 * H, columns: H, b: outWeight.base,
                                             ldb: 2 * H, pool: pool)
        }
    }

    /// The attention weights `[B][S]` of slot `slot` (zero past a row's length).
    public func weights(slot: Int) -> UnsafePointer<Float> {
        UnsafePointer(weights.buffer.base + slot * batch * sourceSteps)
    }

    /// The memory row query row `b` reads.
    @inline(__always)
    private func memoryRow(_ b: Int) -> Int { memoryIndex.isEmpty ? b : Int(memoryIndex[b]) }

    /// Attends with `query` `[B][H]` (copied) and returns the attentional output `a` `[B][H]`, kept in slot `slot`
    /// (valid until the slot is written again or the next ``begin(memory:sourceSteps:memoryRows:lengths:batch:memoryIndex:capacity:)``).
    @discardableResult
    public func forward(query: UnsafePointer<Float>, slot: Int, pool: ThreadPool = .shared)
        -> UnsafeMutablePointer<Float> {
        precondition(slot >= 0 && slot < capacity, "slot \(slot) outside 0..<\(capacity)")
        let B = batch, S = sourceSteps, R = memoryRows, H = width
        let q = queries.buffer.base + slot * B * H, alpha = weights.buffer.base + slot * B * S
        let ch = joined.buffer.base + slot * B * 2 * H, a = outputs.buffer.base + slot * B * H
        gemm(m: B, a: query, lda: H, packedB: packedIn!, c: q, ldc: H, pool: pool)
        let m = memory!
        rows(B, S * H, pool: pool) { b in
            let r = memoryRow(b), length = Int(lengths[r])
            let qb = q + b * H, ab = alpha + b * S, c = ch + b * 2 * H
            var top = -Float.infinity
            for s in 0..<length {
                ab[s] = dot(m + (s * R + r) * H, qb, H)
                top = max(top, ab[s])
            }
            var sum: Float = 0
            for s in 0..<length {
                ab[s] = expf(ab[s] - top)
                sum += ab[s]
            }
            let inverse = 1 / sum
            c.update(repeating: 0, count: H)
            for s in 0..<length {
                ab[s] *= inverse
                axpy(ab[s], m + (s * R + r) * H, c, H)
            }
            for s in length..<S { ab[s] = 0 }
            (c + H).update(from: query + b * H, count: H)
        }
        gemm(m: B, a: ch, lda: 2 * H, packedB: packedOut!, c: a, ldc: H, pool: pool)
        Tanh.forward(a, a, count: B * H, pool: pool)
        slotsUsed = max(slotsUsed, slot + 1)
        return a
    }

    /// Backpropagates slot `slot` (slots are stepped back from the last one to 0): `dOutput` `[B][H]` is the gradient
    /// of its attentional output. WRITES `dQuery` `[B][H]` and ADDS the memory's gradient into `dMemory` `[S][R][H]`.
    /// Needs the identity row mapping (training).
    public func backward(slot: Int, dOutput: UnsafePointer<Float>, dQuery: UnsafeMutablePointer<Float>,
                         dMemory: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        precondition(memoryIndex.isEmpty, "attention backward needs query row b to read memory row b")
        precondition(slot >= 0 && slot < slotsUsed, "slot \(slot) was not run forward")
        let B = batch, S = sourceSteps, R = memoryRows, H = width
        let q = queries.buffer.base + slot * B * H, alpha = weights.buffer.base + slot * B * S
        let a = outputs.buffer.base + slot * B * H
        let dz = dJoinedProjection.pointer(capacity * B * H) + slot * B * H
        let dq = dQueries.pointer(capacity * B * H) + slot * B * H
        let dch = dJoined.pointer(B * 2 * H), dAlphas = dWeights.pointer(B * S)
        if !backwardPacked {
            packedOutBackward = PackedMatrix.packing(packedOutBackward, rows: H, columns: 2 * H, b: outWeight.base,
                                                     ldb: 2 * H, pool: pool)
            packedInBackward = PackedMatrix.packing(packedInBackward, rows: H, columns: H, b: inWeight.base, ldb: H,
                                                    pool: pool)
            backwardPacked = true
        }
        Tanh.backward(output: a, dOutput: dOutput, dInput: dz, count: B * H, pool: pool)
        gemm(m: B, a: dz, lda: H, packedB: packedOutBackward!, c: dch, ldc: 2 * H, pool: pool)
        let m = memory!
        rows(B, S * H, pool: pool) { b in
            let length = Int(lengths[b])
            let ab = alpha + b * S, dc = dch + b * 2 * H, qb = q + b * H, dqb = dq + b * H
            // dα_s = dc·m_s, then the softmax's backward: dscore_s = α_s (dα_s − Σ α dα).
            let dAlpha = dAlphas + b * S
            var weighted: Float = 0
            for s in 0..<length {
                dAlpha[s] = dot(m + (s * R + b) * H, dc, H)
                weighted += ab[s] * dAlpha[s]
            }
            dqb.update(repeating: 0, count: H)
            for s in 0..<length {
                let dScore = ab[s] * (dAlpha[s] - weighted)
                let ms = m + (s * R + b) * H, dms = dMemory + (s * R + b) * H
                axpy(dScore, ms, dqb, H)
                axpy(ab[s], dc, dms, H)
                axpy(dScore, qb, dms, H)
            }
        }
        // dh = (the direct path through [c; h]) + dq·W_a.
        for b in 0..<B { (dQuery + b * H).update(from: dch + b * 2 * H + H, count: H) }
        gemm(m: B, a: dq, lda: H, packedB: packedInBackward!, beta: 1, c: dQuery, ldc: H, pool: pool)
        steppedBack += 1
    }

    /// After every slot has been stepped back: ADDS the weight gradients of all slots,
    /// `dW_c += Σ dzᵀ·[c; h]` and `dW_a += Σ dqᵀ·h`.
    public func finishBackward(pool: ThreadPool = .shared) {
        precondition(steppedBack == slotsUsed, "finishBackward after \(steppedBack) of \(slotsUsed) steps back")
        let N = slotsUsed * batch, H = width
        gemm(transposeA: true, m: H, n: 2 * H, k: N, a: dJoinedProjection.buffer.base, lda: H,
             b: joined.buffer.base, ldb: 2 * H, beta: 1, c: dOutWeight.base, ldc: 2 * H, pool: pool)
        gemm(transposeA: true, m: H, n: H, k: N, a: dQueries.buffer.base, lda: H, b: joined.buffer.base + H,
             ldb: 2 * H, beta: 1, c: dInWeight.base, ldc: H, pool: pool)
    }
}

/// Runs `body(b)` for rows `0..<count`, in parallel when a row's work (`rowWork` multiply-adds) makes it pay. Rows
/// are independent, so the split does not change any result.
func rows(_ count: Int, _ rowWork: Int, pool: ThreadPool, _ body: (Int) -> Void) {
    let perChunk = max(1, 16_384 / max(1, rowWork))
    let chunks = (count + perChunk - 1) / perChunk
    if chunks <= 1 || pool.threadCount == 1 {
        for b in 0..<count { body(b) }
        return
    }
    pool.parallelFor(chunks) { c in
        for b in c * perChunk..<min(count, (c + 1) * perChunk) { body(b) }
    }
}

/// `Σ x[i]·y[i]` in 16 lanes, then the lanes in a fixed order: the same bits for the same inputs everywhere.
@inline(__always)
func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
        i += 16
    }
    var sum = lanes.sum()
    while i < n {
        sum += x[i] * y[i]
        i += 1
    }
    return sum
}

/// `y[i] += alpha·x[i]`.
@inline(__always)
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let a = SIMD16<Float>(repeating: alpha)
    var i = 0
    while i + 16 <= n {
        let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            + a * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD16<Float>.self)
        i += 16
    }
    while i < n {
        y[i] += alpha * x[i]
        i += 1
    }
}
