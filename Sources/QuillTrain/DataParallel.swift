import QuillNN
import QuillTensor

/// Data-parallel training, the parts that need no transport: which ids each of `size` processes (ranks) trains on,
/// and the hook that makes every rank's gradient the average of all ranks' before clipping. A transport (MPI, see
/// docs/scale-out.md) supplies the sum over ranks.
public enum DataParallel {
    /// A global batch that does not split evenly over the ranks, or a rank outside the job.
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
    /// those streams: window for window, rank `r`'s stream `j` is the whole batcher's stream `r·b + j`. With the
    /// loss a mean over the batch, the average of the ranks' gradients is then the whole batch's gradient, up to the
    /// order of the additions.
    /// - Throws: ``ShapeError`` when `batch` is not a multiple of `size` or `rank` is not in `0..<size`.
    public static func languageModelShard(of ids: [Int32], batch: Int, rank: Int, size: Int) throws
        -> ArraySlice<Int32> {
        guard size >= 1, batch >= size, batch % size == 0, (0..<size).contains(rank) else {
            throw ShapeError(batch: batch, size: size)
        }
        let length = ids.count / batch, perRank = batch / size
        return ids[(rank * perRank * length)..<((rank + 1) * perRank * length)]
    }

    /// The training loop's `afterBackward` hook for `size` ranks: `sum` replaces the flat gradient buffer by its
    /// element-wise sum over the ranks (the same on every rank), then the buffer is divided by `size`. Every rank
    /// then clips and updates with the same gradient, so their parameters stay identical.
    public static func averagingGradients(size: Int, sum: @escaping (UnsafeMutableBufferPointer<Float>) -> Void)
        -> (ParameterSet) -> Void {
        { parameters in
            guard size > 1 else { return }
            let gradients = parameters.gradients.buffer
            sum(gradients)
            let scale = 1 / Float(size)
            for i in gradients.indices { gradients[i] *= scale }
        }
    }
}
