import QuillNN
import QuillTensor

/// The processes (ranks) of a data-parallel job, as training sees them: who this one is, and the sums every rank must
/// agree on. MPI supplies one across processes and hosts (QuillMPI's `MPIWorld`, docs/scale-out.md); the tests use
/// threads.
///
/// Every operation is collective: all ranks call it, in the same order, with buffers of the same size. A failure of
/// the transport ends the job (MPI's own default), so none of them throws.
public protocol ProcessGroup: AnyObject {
    /// This process's rank, `0 ..< size`; rank 0 alone writes to the store and the terminal.
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `buffer` on every rank by its element-wise sum over the ranks, **added in rank order**
    /// (`((b₀ + b₁) + b₂) + …`): the same bits on every rank, whatever the network.
    func sum(_ buffer: UnsafeMutableBufferPointer<Float>)
    /// The same for doubles (losses and counts).
    func sum(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// Every rank's `values` (the same count on each), concatenated in rank order, on every rank.
    func gather(_ values: [Float]) -> [Float]
    /// Rank `root`'s `bytes` (any count) on every rank; the others' `bytes` are ignored.
    func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8]
    /// Every rank's `bytes` (any count each), in rank order, on rank `root`; an empty array on the others.
    func gather(_ bytes: [UInt8], to root: Int) -> [[UInt8]]
}

extension ProcessGroup {
    /// Sums `values` over the ranks (in rank order).
    public func sum(_ values: [Double]) -> [Double] {
        var values = values
        values.withUnsafeMutableBufferPointer { sum($0) }
        return values
    }

    /// For each flag, whether any rank raised it: how the ranks agree on a decision each takes on its own (a Ctrl-C,
    /// a clock, a failure), so that all take the same path.
    public func any(_ flags: [Bool]) -> [Bool] {
        sum(flags.map { $0 ? 1 : 0 }).map { $0 > 0 }
    }
}

/// Data-parallel training: which data each rank trains on, and how the ranks' gradients become the whole batch's.
public enum DataParallel {
    /// A global batch that does not split evenly over the ranks.
    public struct ShapeError: Error, Equatable, CustomStringConvertible {
        public var batch: Int
        public var size: Int
        public var description: String {
            "a batch of \(batch) does not split over \(size) processes: give a batch that is a multiple of \(size)"
        }
    }

    /// Rank `rank`'s ids for a language model trained at global batch `batch` over `size` ranks.
    ///
    /// The whole stream is cut into `batch` streams of `L = ids.count / batch` ids (``Batcher``); rank `r` gets the
    /// ids of streams `r·b ..< (r + 1)·b`, `b = batch / size`, which a ``Batcher`` at batch `b` cuts into exactly
    /// those streams: window for window, rank `r`'s stream `j` is the whole batcher's stream `r·b + j`.
    /// - Throws: ``ShapeError`` when `batch` is not a multiple of `size` or `rank` is not in `0..<size`.
    public static func languageModelShard(of ids: [Int32], batch: Int, rank: Int, size: Int) throws
        -> ArraySlice<Int32> {
        guard size >= 1, batch >= size, batch % size == 0, (0..<size).contains(rank) else {
            throw ShapeError(batch: batch, size: size)
        }
        let length = ids.count / batch, perRank = batch / size
        return ids[(rank * perRank * length)..<((rank + 1) * perRank * length)]
    }

    /// Makes this rank's batch the whole job's, between backward and clipping: the loss and targets are summed over
    /// the ranks, and the gradient buffer becomes `Σ_r (T_r / T)·g_r`, `T_r` the targets of rank `r`'s batch and `T`
    /// their sum. With each rank's loss a mean over its targets (or, for a language model's `--loss sum`, over its
    /// streams, whose share is the same), that is the gradient of the whole batch's mean, whatever each rank's share:
    /// sentence batches split unevenly too. Every rank then clips and updates with the same bits.
    ///
    /// With `sparse` (an embedding table whose gradient only the batch's rows have), only the rows some rank
    /// touched cross the network: the union of the ranks' rows, packed, summed, unpacked; the other rows are zero on
    /// every rank. The sums are those of the dense buffer, added in the same order.
    /// - Returns: the whole batch's mean loss and targets.
    static func reduce(_ local: BatchLoss, gradients: UnsafeMutableBufferPointer<Float>, sparse: SparseRows? = nil,
                       over group: any ProcessGroup) -> BatchLoss {
        let totals = group.sum([local.loss * Double(local.targets), Double(local.targets)])
        let weight = Float(Double(local.targets) / totals[1])
        let whole = BatchLoss(loss: totals[0] / totals[1], targets: Int(totals[1]))
        guard let sparse, sparse.offset + sparse.rowCount * sparse.width <= gradients.count else {
            for i in gradients.indices { gradients[i] *= weight }
            group.sum(gradients)
            return whole
        }
        let tableEnd = sparse.offset + sparse.rowCount * sparse.width
        for range in [0..<sparse.offset, tableEnd..<gradients.count] where !range.isEmpty {
            let part = UnsafeMutableBufferPointer(rebasing: gradients[range])
            for i in part.indices { part[i] *= weight }
            group.sum(part)
        }
        var touched = [Float](repeating: 0, count: sparse.rowCount)
        for row in sparse.rows { touched[Int(row)] = 1 }
        touched.withUnsafeMutableBufferPointer { group.sum($0) }
        let union = touched.indices.filter { touched[$0] > 0 }
        let width = sparse.width, table = gradients.baseAddress! + sparse.offset
        var packed = [Float](repeating: 0, count: union.count * width)
        for (k, row) in union.enumerated() {
            for j in 0..<width { packed[k * width + j] = table[row * width + j] * weight }
        }
        packed.withUnsafeMutableBufferPointer { group.sum($0) }
        table.update(repeating: 0, count: sparse.rowCount * width)
        for (k, row) in union.enumerated() {
            for j in 0..<width { table[row * width + j] = packed[k * width + j] }
        }
        return whole
    }

    /// Rank `group.rank`'s generator for one step, split from the generator every rank shares: the ranks draw
    /// different dropout masks, while the shared generator (the one a checkpoint saves) stays the same on all.
    static func rankGenerator(_ shared: inout RNG, group: any ProcessGroup) -> RNG {
        var mine = shared
        for r in 0..<group.size {
            let split = shared.split()
            if r == group.rank { mine = split }
        }
        return mine
    }

    /// A carried state of this rank's `local` streams, gathered from all ranks into the layout of the whole batch:
    /// the axis whose extent is the batch (found by comparing the two layouts) is the one the ranks' streams are laid
    /// along, in rank order. A checkpoint so holds the state a single process would hold, and resumes at any rank
    /// count that divides the batch.
    static func gatherStreams(_ local: [Float], localShape: [Int], wholeShape: [Int], group: any ProcessGroup)
        -> [Float] {
        let all = group.gather(local)
        let (outer, inner, part) = blocks(localShape: localShape, wholeShape: wholeShape)
        var whole = [Float](repeating: 0, count: all.count)
        for r in 0..<group.size {
            for o in 0..<outer {
                let from = r * local.count + o * part * inner, to = (o * group.size + r) * part * inner
                whole[to..<(to + part * inner)] = all[from..<(from + part * inner)]
            }
        }
        return whole
    }

    /// Rank `rank`'s streams of a carried state in the whole batch's layout: the inverse of ``gatherStreams``.
    static func streams(of whole: [Float], localShape: [Int], wholeShape: [Int], rank: Int, size: Int) -> [Float] {
        let (outer, inner, part) = blocks(localShape: localShape, wholeShape: wholeShape)
        var local: [Float] = []
        local.reserveCapacity(outer * part * inner)
        for o in 0..<outer {
            let from = (o * size + rank) * part * inner
            local += whole[from..<(from + part * inner)]
        }
        return local
    }

    /// The extents before and after the batch axis, and a rank's share of it.
    private static func blocks(localShape: [Int], wholeShape: [Int]) -> (outer: Int, inner: Int, part: Int) {
        let axis = localShape.indices.first { localShape[$0] != wholeShape[$0] } ?? 0
        return (localShape[..<axis].reduce(1, *), localShape[(axis + 1)...].reduce(1, *), localShape[axis])
    }
}
