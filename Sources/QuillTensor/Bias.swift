import CQuillKernels

/// A bias added to every row, and its gradient: the column sums.
///
/// Letters: `N` rows, `D` columns.
public enum Bias {
    /// Columns per chunk of the parallel column sums (every chunk sums all rows in order).
    static let columnsPerChunk = 256

    /// `x[n] += bias` for every row.
    /// - Parameters: `x`: `[N][D]`; `bias`: `[D]`.
    public static func add(_ bias: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                           pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: rows, chunk: ChunkedLoops.rows(width: columns), pool: pool) { r in
            quill_bias_add(x + r.lowerBound * columns, bias, Int64(r.count), Int64(columns))
        }
    }

    /// `dBias += Σₙ dOutput[n]` (the bias gradient; accumulates, rows added in order).
    /// - Parameters: `dOutput`: `[N][D]`; `dBias`: `[D]`.
    public static func accumulateColumnSums(of dOutput: UnsafePointer<Float>, rows: Int, columns: Int,
                                            into dBias: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let chunk = rows * columns >= 2 * ChunkedLoops.elementsPerChunk ? columnsPerChunk : columns
        ChunkedLoops.forEach(count: columns, chunk: chunk, pool: pool) { r in
            quill_column_sums_add(dOutput + r.lowerBound, Int64(rows), Int64(r.count), Int64(columns),
                                  dBias + r.lowerBound)
        }
    }

    /// Reference of ``add(_:to:rows:columns:pool:)``.
    public static func addReference(_ bias: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, rows: Int,
                                    columns: Int) {
        for n in 0..<rows { for d in 0..<columns { x[n * columns + d] += bias[d] } }
    }

    /// Reference of ``accumulateColumnSums(of:rows:columns:into:pool:)``.
    public static func columnSumsReference(of dOutput: UnsafePointer<Float>, rows: Int, columns: Int,
                                           into dBias: UnsafeMutablePointer<Float>) {
        for n in 0..<rows { for d in 0..<columns { dBias[d] += dOutput[n * columns + d] } }
    }
}
