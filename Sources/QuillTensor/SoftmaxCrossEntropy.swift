import CQuillKernels
import Foundation

/// Softmax followed by cross-entropy against class targets, fused: the loss and `dLogits` in one pass per row.
///
/// Letters: `N` rows (positions, e.g. `B·T`), `V` vocabulary. For a row `l` with target `t`:
/// `loss = log Σⱼ e^lⱼ − lₜ`, computed as `m + log Σⱼ e^(lⱼ − m)` with `m = max l`, so logits of ±1e4 are fine;
/// `dLogits = (softmax(l) − onehot(t)) · scale`, with `scale = 1/count` for ``Reduction/mean`` and 1 for
/// ``Reduction/sum``. Rows whose target is `ignoreIndex` count for nothing and get a zero gradient row — PyTorch's
/// `ignore_index` (its default there is −100; ours is −1, Quill's padding id).
public enum SoftmaxCrossEntropy {
    /// How row losses combine.
    public enum Reduction: Sendable {
        /// The mean over the rows not ignored (PyTorch's default).
        case mean
        /// The sum over the rows not ignored.
        case sum
    }

    /// The loss and the number of rows that counted.
    public struct Result: Equatable, Sendable {
        /// The reduced loss; 0 when no row counted.
        public var loss: Double
        /// The number of rows whose target was not ignored.
        public var count: Int
    }

    /// The loss over `rows` rows, and (when `dLogits` is given) its gradient with respect to the logits.
    /// - Parameters:
    ///   - logits: `[N][V]`.
    ///   - targets: `[N]` class ids in `0..<V`, or `ignoreIndex`.
    ///   - dLogits: `[N][V]` receives the gradient (written, not accumulated); may be `logits` itself; nil to compute
    ///     the loss only (evaluation).
    /// - Returns: the reduced loss and the count of rows that counted. Row losses are summed in `Double` over a fixed
    ///   partition of rows, so the result does not depend on the thread count.
    public static func compute(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int,
                               vocabulary: Int, ignoreIndex: Int32 = -1, reduction: Reduction = .mean,
                               dLogits: UnsafeMutablePointer<Float>?, pool: ThreadPool = .shared) -> Result {
        var count = 0
        for r in 0..<rows where targets[r] != ignoreIndex {
            precondition(targets[r] >= 0 && Int(targets[r]) < vocabulary,
                         "target \(targets[r]) at row \(r) outside 0..<\(vocabulary)")
            count += 1
        }
        let scale: Float = reduction == .sum ? 1 : (count > 0 ? 1 / Float(count) : 0)
        let chunk = ChunkedLoops.rows(width: vocabulary)
        let chunks = (rows + chunk - 1) / chunk
        var partials = [Double](repeating: 0, count: chunks)
        partials.withUnsafeMutableBufferPointer { partial in
            let partial = partial.baseAddress!
            ChunkedLoops.forEach(count: rows, chunk: chunk, pool: pool) { r in
                let first = r.lowerBound
                partial[first / chunk] = quill_softmax_cross_entropy(
                    logits + first * vocabulary, targets + first, ignoreIndex, scale,
                    dLogits.map { $0 + first * vocabulary }, Int64(r.count), Int64(vocabulary))
            }
        }
        let total = partials.reduce(0, +)
        let loss = reduction == .sum ? total : (count > 0 ? total / Double(count) : 0)
        return Result(loss: loss, count: count)
    }

    /// The cross-entropy against targets smoothed by `ε` (Szegedy et al. 2016): each counted row's target is
    /// `(1 − ε)·onehot(t) + ε/V`, PyTorch's `F.cross_entropy(label_smoothing: ε)`. Its row loss is
    /// `(1 − ε)·nll + ε·(lse − mean l) = nll + ε·(lₜ − mean l)` and its gradient `softmax(l) − (1 − ε)·onehot − ε/V`
    /// (times the reduction's scale). `ε = 0` is ``compute(logits:targets:rows:vocabulary:ignoreIndex:reduction:dLogits:pool:)``.
    public static func compute(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int,
                               vocabulary V: Int, ignoreIndex: Int32 = -1, reduction: Reduction = .mean,
                               labelSmoothing epsilon: Float, dLogits: UnsafeMutablePointer<Float>?,
                               pool: ThreadPool = .shared) -> Result {
        precondition(epsilon >= 0 && epsilon < 1, "label smoothing \(epsilon) outside [0, 1)")
        guard epsilon > 0 else {
            return compute(logits: logits, targets: targets, rows: rows, vocabulary: V, ignoreIndex: ignoreIndex,
                           reduction: reduction, dLogits: dLogits, pool: pool)
        }
        // Σ (lₜ − mean l) over the counted rows, read before dLogits (which may alias the logits) is written.
        let chunk = ChunkedLoops.rows(width: V)
        var partials = [Double](repeating: 0, count: (rows + chunk - 1) / chunk)
        partials.withUnsafeMutableBufferPointer { partial in
            let partial = partial.baseAddress!
            ChunkedLoops.forEach(count: rows, chunk: chunk, pool: pool) { r in
                var sum = 0.0
                for row in r where targets[row] != ignoreIndex {
                    let l = logits + row * V
                    var total = 0.0
                    for j in 0..<V { total += Double(l[j]) }
                    sum += Double(l[Int(targets[row])]) - total / Double(V)
                }
                partial[r.lowerBound / chunk] = sum
            }
        }
        var result = compute(logits: logits, targets: targets, rows: rows, vocabulary: V, ignoreIndex: ignoreIndex,
                             reduction: reduction, dLogits: dLogits, pool: pool)
        let count = result.count
        let scale = reduction == .sum ? 1 : (count > 0 ? 1 / Double(count) : 0)
        result.loss += Double(epsilon) * partials.reduce(0, +) * scale
        if let dLogits {
            let spread = Float(Double(epsilon) * scale / Double(V)), hit = Float(Double(epsilon) * scale)
            ChunkedLoops.forEach(count: rows, chunk: chunk, pool: pool) { r in
                for row in r where targets[row] != ignoreIndex {
                    let d = dLogits + row * V
                    for j in 0..<V { d[j] -= spread }
                    d[Int(targets[row])] += hit
                }
            }
        }
        return result
    }

    /// Reference of ``compute(logits:targets:rows:vocabulary:ignoreIndex:reduction:dLogits:pool:)``, in `Double`.
    public static func reference(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int,
                                 vocabulary: Int, ignoreIndex: Int32 = -1, reduction: Reduction = .mean,
                                 dLogits: UnsafeMutablePointer<Float>?) -> Result {
        let count = (0..<rows).filter { targets[$0] != ignoreIndex }.count
        let scale = reduction == .sum ? 1 : (count > 0 ? 1 / Double(count) : 0)
        var total = 0.0
        for r in 0..<rows {
            let l = logits + r * vocabulary
            let t = Int(targets[r])
            guard targets[r] != ignoreIndex else {
                if let d = dLogits { for j in 0..<vocabulary { d[r * vocabulary + j] = 0 } }
                continue
            }
            let m = Double((0..<vocabulary).map { l[$0] }.max()!)
            let sum = (0..<vocabulary).reduce(0.0) { $0 + exp(Double(l[$1]) - m) }
            total += m + log(sum) - Double(l[t])
            if let d = dLogits {
                for j in 0..<vocabulary {
                    let p = exp(Double(l[j]) - m) / sum
                    d[r * vocabulary + j] = Float((p - (j == t ? 1 : 0)) * scale)
                }
            }
        }
        return Result(loss: reduction == .sum ? total : (count > 0 ? total / Double(count) : 0), count: count)
    }
}
