import QuillTensor

/// One batch of sentence pairs, time-major and padded, with masks.
///
/// Letters: `B` rows (pairs), `S` source steps and `T` target steps (the longest row's, line break included). Every
/// buffer is time-major, `[step][row]`: element `(s, b)` is at `s·B + b`.
/// - `source` `[S][B]`: the source ids, ending on the source line break.
/// - `decoderInputs` `[T][B]`: the target's line start (``ParallelCorpus/targetLineStart``), then the target without
///   its final line break.
/// - `targets` `[T][B]`: the target, ending on the line break (the end of sentence); `decoderInputs` shifted by one.
/// - `sourceMask` `[S][B]`, `targetMask` `[T][B]`: exactly 1 where a row has a step, exactly 0 in the padding.
///
/// Padded ids are -1, the "nothing" of `Embedding` (a zero vector) and of `SoftmaxCrossEntropy` (`ignoreIndex`).
public struct SentencePairBatch: Sendable, Equatable {
    /// `B`.
    public var rows = 0
    /// `S`.
    public var sourceSteps = 0
    /// `T`.
    public var targetSteps = 0
    public var source: [Int32] = []
    public var decoderInputs: [Int32] = []
    public var targets: [Int32] = []
    public var sourceMask: [Float] = []
    public var targetMask: [Float] = []
    /// `[B]`: ids of each row's source (line break included), at most `S`.
    public var sourceLengths: [Int] = []
    /// `[B]`: ids of each row's target (line break included), at most `T`.
    public var targetLengths: [Int] = []
    /// `[B]`: each row's index in the corpus.
    public var pairs: [Int] = []

    public init() {}

    /// Targets predicted in the batch (the sum of ``targetLengths``).
    public var targetTokens: Int { targetLengths.reduce(0, +) }
}

/// Serves a ``ParallelCorpus`` in batches of pairs of similar length, reproducibly shuffled per epoch.
///
/// The plan of epoch `e` (1-based) comes from an ``QuillTensor/RNG`` seeded with ``seed`` and jumped `e − 1` times, so
/// it depends on nothing but the corpus, the shape and `(seed, e)`:
/// 1. the pairs are shuffled (Fisher–Yates);
/// 2. cut into windows of ``bucketWindow`` consecutive pairs, each sorted by source length, then target length (then
///    shuffled order): the "pool" of torchtext's `BucketIterator` — pairs in a batch have nearly equal lengths, while
///    which pairs meet still changes every epoch. Sorting a window rather than using fixed bucket boundaries needs no
///    boundaries to be chosen per corpus;
/// 3. each window is cut, in sorted order, into batches of at most ``batchSize`` rows and, when ``maxTokens`` is set, at
///    most that many padded tokens, `rows · max(S, T)` (so long sentences make smaller batches; a single pair longer
///    than the cap is a batch of its own);
/// 4. the batches of the epoch are shuffled, so lengths do not rise and fall window by window.
///
/// Every pair appears exactly once per epoch. ``state`` (epoch, position and shape) goes into a checkpoint and
/// ``restore(_:)`` rebuilds the same epoch's plan and continues at the same batch.
public struct SentencePairBatcher: Sendable {
    public let corpus: ParallelCorpus
    /// Rows per batch at most.
    public let batchSize: Int
    /// Padded tokens per batch at most, `rows · max(S, T)`; `nil`: only ``batchSize`` limits a batch.
    public let maxTokens: Int?
    /// Pairs sorted together before being cut into batches (by default 100 batches' worth, as torchtext's pool).
    public let bucketWindow: Int
    /// The seed of every epoch's plan.
    public let seed: UInt64
    /// The epoch planned (1-based).
    public private(set) var epoch = 1
    /// The index of the next batch ``next()`` gives, in `0...batchCount`.
    public private(set) var position = 0
    /// Pair indices in batch order; batch `k` is `order[batchStarts[k]..<batchStarts[k + 1]]`.
    private var order: [Int] = []
    private var batchStarts: [Int] = [0]

    /// Plans epoch 1.
    /// - Parameters:
    ///   - corpus: the pairs.
    ///   - batchSize: rows per batch at most.
    ///   - maxTokens: padded tokens per batch at most (`rows · max(S, T)`), or `nil`. A pair over the cap is a batch
    ///     of its own, so any cap works (below 1 it is 1: one pair per batch).
    ///   - bucketWindow: pairs sorted together; `nil`: `100 · batchSize`. `batchSize` gives random batches (below 1
    ///     it is 1).
    ///   - seed: fixes every epoch's plan.
    /// - Throws: ``TrainError/invalidShape(batchSize:steps:)`` when `batchSize` is below 1.
    public init(corpus: ParallelCorpus, batchSize: Int, maxTokens: Int? = nil, bucketWindow: Int? = nil,
                seed: UInt64) throws {
        guard batchSize >= 1 else { throw TrainError.invalidShape(batchSize: batchSize, steps: 1) }
        self.corpus = corpus
        self.batchSize = batchSize
        self.maxTokens = maxTokens.map { max(1, $0) }
        self.bucketWindow = max(1, bucketWindow ?? 100 * batchSize)
        self.seed = seed
        plan(epoch: 1)
    }

    /// Batches in the epoch planned.
    public var batchCount: Int { batchStarts.count - 1 }

    /// Whether every batch of the epoch has been given.
    public var isEpochDone: Bool { position == batchCount }

    /// Plans epoch `epoch` (1-based) and moves to its first batch.
    public mutating func startEpoch(_ epoch: Int) {
        precondition(epoch >= 1, "epochs are numbered from 1")
        plan(epoch: epoch)
    }

    /// The corpus indices of batch `k` of the epoch planned, in row order.
    public func pairs(ofBatch k: Int) -> ArraySlice<Int> {
        precondition(k >= 0 && k < batchCount, "batch \(k) outside 0..<\(batchCount)")
        return order[batchStarts[k]..<batchStarts[k + 1]]
    }

    /// In a data-parallel job: this rank's share of each batch (``fill(batch:into:)`` writes rows
    /// `⌊n·rank/ranks⌋ ..< ⌊n·(rank + 1)/ranks⌋` of a batch of `n`). The plan, and so the position a checkpoint
    /// saves, is the whole job's.
    public var rank = 0, ranks = 1

    /// Writes batch `k` (this rank's share of it) into `batch`, reusing its buffers' capacity.
    public func fill(batch k: Int, into batch: inout SentencePairBatch) {
        let whole = pairs(ofBatch: k)
        let rows = whole.dropFirst(whole.count * rank / ranks).prefix(whole.count * (rank + 1) / ranks
            - whole.count * rank / ranks)
        let b = rows.count
        var s = 0, t = 0
        for i in rows {
            s = max(s, corpus.sourceLength(i))
            t = max(t, corpus.targetLength(i))
        }
        batch.rows = b
        batch.sourceSteps = s
        batch.targetSteps = t
        reset(&batch.source, count: s * b, to: -1)
        reset(&batch.decoderInputs, count: t * b, to: -1)
        reset(&batch.targets, count: t * b, to: -1)
        reset(&batch.sourceMask, count: s * b, to: 0)
        reset(&batch.targetMask, count: t * b, to: 0)
        batch.sourceLengths.removeAll(keepingCapacity: true)
        batch.targetLengths.removeAll(keepingCapacity: true)
        batch.pairs.removeAll(keepingCapacity: true)
        let lineStart = corpus.targetLineStart
        for (row, i) in rows.enumerated() {
            let x = corpus.source(i), y = corpus.target(i)
            for (step, id) in zip(0..., x) {
                batch.source[step * b + row] = id
                batch.sourceMask[step * b + row] = 1
            }
            var previous = lineStart
            for (step, id) in zip(0..., y) {
                batch.decoderInputs[step * b + row] = previous
                batch.targets[step * b + row] = id
                batch.targetMask[step * b + row] = 1
                previous = id
            }
            batch.sourceLengths.append(x.count)
            batch.targetLengths.append(y.count)
            batch.pairs.append(i)
        }
    }

    /// Writes the batch at ``position`` into `batch` and advances; `false` when the epoch is done.
    public mutating func next(into batch: inout SentencePairBatch) -> Bool {
        guard position < batchCount else { return false }
        fill(batch: position, into: &batch)
        position += 1
        return true
    }

    /// The batch at ``position``, advancing; `nil` when the epoch is done (call ``startEpoch(_:)``).
    public mutating func next() -> SentencePairBatch? {
        var batch = SentencePairBatch()
        return next(into: &batch) ? batch : nil
    }

    /// What a checkpoint saves: the epoch, the next batch and the shape the plan belongs to.
    public struct State: Codable, Equatable, Sendable {
        public var epoch: Int
        public var position: Int
        public var seed: UInt64
        public var pairCount: Int
        public var batchSize: Int
        public var maxTokens: Int?
        public var bucketWindow: Int

        public init(epoch: Int, position: Int, seed: UInt64, pairCount: Int, batchSize: Int, maxTokens: Int?,
                    bucketWindow: Int) {
            self.epoch = epoch
            self.position = position
            self.seed = seed
            self.pairCount = pairCount
            self.batchSize = batchSize
            self.maxTokens = maxTokens
            self.bucketWindow = bucketWindow
        }

        var shape: String {
            "\(pairCount) pairs, B=\(batchSize), max tokens \(maxTokens.map(String.init) ?? "none"), "
                + "window \(bucketWindow), seed \(seed)"
        }
    }

    public var state: State {
        State(epoch: epoch, position: position, seed: seed, pairCount: corpus.count, batchSize: batchSize,
              maxTokens: maxTokens, bucketWindow: bucketWindow)
    }

    /// Rebuilds a saved epoch's plan and moves to its saved position, after checking the shape and seed match.
    /// - Throws: ``TrainError/batcherMismatch(saved:current:)`` or ``TrainError/invalidPosition(position:windowCount:)``.
    public mutating func restore(_ saved: State) throws {
        var current = state
        current.epoch = saved.epoch
        current.position = saved.position
        guard saved == current, saved.epoch >= 1 else {
            throw TrainError.batcherMismatch(saved: saved.shape, current: state.shape)
        }
        if saved.epoch != epoch { plan(epoch: saved.epoch) }
        guard saved.position >= 0 && saved.position <= batchCount else {
            throw TrainError.invalidPosition(position: saved.position, windowCount: batchCount)
        }
        position = saved.position
    }

    // MARK: Planning

    private mutating func plan(epoch: Int) {
        var rng = RNG(seed: seed)
        for _ in 1..<epoch { rng.jump() }
        var order = Array(0..<corpus.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        let corpus = self.corpus
        var batches: [ArraySlice<Int>] = []
        var start = 0
        while start < order.count {
            let end = min(start + bucketWindow, order.count)
            // Sorted by (source length, target length), ties in shuffled order: a stable sort by a rank key.
            let window = order[start..<end].enumerated().sorted {
                let a = (corpus.sourceLength($0.element), corpus.targetLength($0.element), $0.offset)
                let b = (corpus.sourceLength($1.element), corpus.targetLength($1.element), $1.offset)
                return a < b
            }.map(\.element)
            var first = 0
            while first < window.count {
                var last = first + 1
                var longest = max(corpus.sourceLength(window[first]), corpus.targetLength(window[first]))
                while last < window.count && last - first < batchSize {
                    let candidate = max(longest, corpus.sourceLength(window[last]), corpus.targetLength(window[last]))
                    if let cap = maxTokens, (last - first + 1) * candidate > cap { break }
                    longest = candidate
                    last += 1
                }
                batches.append(window[first..<last])
                first = last
            }
            start = end
        }
        for i in stride(from: batches.count - 1, to: 0, by: -1) {
            batches.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        self.order.removeAll(keepingCapacity: true)
        batchStarts = [0]
        for batch in batches {
            self.order.append(contentsOf: batch)
            batchStarts.append(self.order.count)
        }
        self.epoch = epoch
        position = 0
    }

    private func reset<Element>(_ buffer: inout [Element], count: Int, to value: Element) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: repeatElement(value, count: count))
    }
}
