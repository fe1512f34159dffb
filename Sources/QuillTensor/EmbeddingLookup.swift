import CQuillKernels

/// Embedding rows: gather forward, scatter-add backward.
///
/// Letters: `V` vocabulary (rows of the table), `D` embedding width, `N` ids. A negative id (padding) gathers a
/// zero row and receives no gradient.
public enum EmbeddingLookup {
    /// Columns per chunk of the parallel scatter-add (each chunk runs over all ids in order, so the sums are the
    /// same for every thread count).
    static let columnsPerChunk = 256

    /// `output[n] = table[ids[n]]`.
    /// - Parameters:
    ///   - table: `[V][D]`; `ids`: `[N]` in `0..<V` or negative; `output`: `[N][D]`, written.
    public static func gather(table: UnsafePointer<Float>, vocabulary: Int, dimension: Int,
                              ids: UnsafePointer<Int32>, count: Int, output: UnsafeMutablePointer<Float>,
                              pool: ThreadPool = .shared) {
        for n in 0..<count { precondition(Int(ids[n]) < vocabulary, "id \(ids[n]) outside 0..<\(vocabulary)") }
        ChunkedLoops.forEach(count: count, chunk: ChunkedLoops.rows(width: dimension), pool: pool) { r in
            quill_embedding_gather(table, Int64(dimension), ids + r.lowerBound, Int64(r.count), Int64(dimension),
                                   output + r.lowerBound * dimension, Int64(dimension))
        }
    }

    /// `dTable[ids[n]] += dOutput[n]` for every n, in order (repeated ids accumulate).
    /// - Parameters:
    ///   - dOutput: `[N][D]`; `ids`: `[N]`; `dTable`: `[V][D]`, accumulated into.
    public static func scatterAdd(dOutput: UnsafePointer<Float>, ids: UnsafePointer<Int32>, count: Int,
                                  dTable: UnsafeMutablePointer<Float>, vocabulary: Int, dimension: Int,
                                  pool: ThreadPool = .shared) {
        for n in 0..<count { precondition(Int(ids[n]) < vocabulary, "id \(ids[n]) outside 0..<\(vocabulary)") }
        let chunk = count * dimension >= 2 * ChunkedLoops.elementsPerChunk ? columnsPerChunk : dimension
        ChunkedLoops.forEach(count: dimension, chunk: chunk, pool: pool) { r in
            quill_embedding_scatter_add(dOutput + r.lowerBound, Int64(dimension), ids, Int64(count), Int64(r.count),
                                        dTable + r.lowerBound, Int64(dimension))
        }
    }

    /// Reference of ``gather(table:vocabulary:dimension:ids:count:output:pool:)``.
    public static func gatherReference(table: UnsafePointer<Float>, dimension: Int, ids: UnsafePointer<Int32>,
                                       count: Int, output: UnsafeMutablePointer<Float>) {
        for n in 0..<count {
            for d in 0..<dimension { output[n * dimension + d] = ids[n] < 0 ? 0 : table[Int(ids[n]) * dimension + d] }
        }
    }

    /// Reference of ``scatterAdd(dOutput:ids:count:dTable:vocabulary:dimension:pool:)``.
    public static func scatterAddReference(dOutput: UnsafePointer<Float>, ids: UnsafePointer<Int32>, count: Int,
                                           dTable: UnsafeMutablePointer<Float>, dimension: Int) {
        for n in 0..<count where ids[n] >= 0 {
            for d in 0..<dimension { dTable[Int(ids[n]) * dimension + d] += dOutput[n * dimension + d] }
        }
    }
}
