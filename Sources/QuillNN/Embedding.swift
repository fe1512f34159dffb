import QuillTensor

// Letters and conventions: see ParameterLayout.swift.

/// A lookup table of learned vectors: `output[n] = weight[ids[n]]`.
///
/// Parameter `<prefix>.weight` `[V][D]` (PyTorch's `nn.Embedding.weight`). A negative id (padding) reads a zero row and
/// receives no gradient. Caches nothing: backward takes the ids again.
public final class Embedding {
    public let vocabulary: Int, dimension: Int
    public let weight: Tensor, dWeight: Tensor

    /// `<prefix>.weight` `[V][D]`.
    public static func layout(prefix: String, vocabulary: Int, dimension: Int) -> ParameterLayout {
        [("\(prefix).weight", [vocabulary, dimension])]
    }

    /// Binds to `<prefix>.weight` in `parameters`.
    public init(_ parameters: ParameterSet, prefix: String, vocabulary: Int, dimension: Int) throws {
        self.vocabulary = vocabulary
        self.dimension = dimension
        (weight, dWeight) = try parameters.views("\(prefix).weight", [vocabulary, dimension])
    }

    /// Gathers `output[N][D]` (written) for `ids[N]`.
    public func forward(ids: UnsafePointer<Int32>, count: Int, output: UnsafeMutablePointer<Float>,
                        pool: ThreadPool = .shared) {
        EmbeddingLookup.gather(table: weight.base, vocabulary: vocabulary, dimension: dimension, ids: ids,
                               count: count, output: output, pool: pool)
    }

    /// `dWeight[ids[n]] += dOutput[n]`.
    public func backward(ids: UnsafePointer<Int32>, count: Int, dOutput: UnsafePointer<Float>,
                         pool: ThreadPool = .shared) {
        EmbeddingLookup.scatterAdd(dOutput: dOutput, ids: ids, count: count, dTable: dWeight.base,
                                   vocabulary: vocabulary, dimension: dimension, pool: pool)
    }
}
