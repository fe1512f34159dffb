import Foundation
import QuillTensor
import Testing
@testable import QuillTrain

@Suite struct SentencePairBatcherTests {
    static let lineBreak: Int32 = 5

    /// `count` pairs whose ids name the pair (`1000·i + k`, then the line break); source lengths 1...maxLength (tokens
    /// without the line break), drawn from a seeded generator, target lengths within 2 of them.
    static func corpus(count: Int, maxLength: Int = 30, seed: UInt64 = 3) -> ParallelCorpus {
        var rng = RNG(seed: seed)
        let pairs = (0..<count).map { i -> (source: [Int32], target: [Int32]) in
            // Translations have similar lengths: the target is within 2 tokens of the source.
            let s = 1 + Int(rng.next() % UInt64(maxLength)), t = max(1, s + Int(rng.next() % 5) - 2)
            return ((0..<s).map { Int32(1000 * i + $0 + 10) } + [lineBreak],
                    (0..<t).map { Int32(1000 * i + 500 + $0) } + [lineBreak])
        }
        return ParallelCorpus(pairs: pairs, targetLineStart: lineBreak)
    }

    static func epoch(_ batcher: inout SentencePairBatcher) -> [SentencePairBatch] {
        var batches: [SentencePairBatch] = []
        while let batch = batcher.next() { batches.append(batch) }
        return batches
    }

    @Test(arguments: [(1, nil, nil), (8, nil, nil), (16, 200, nil), (7, nil, 7), (32, 64, 100), (500, nil, 5000)]
          as [(Int, Int?, Int?)])
    func everyPairOncePerEpoch(batchSize: Int, maxTokens: Int?, window: Int?) throws {
        let corpus = Self.corpus(count: 301)
        var batcher = try SentencePairBatcher(corpus: corpus, batchSize: batchSize, maxTokens: maxTokens,
                                              bucketWindow: window, seed: 11)
        var orders: [[Int]] = []
        for epoch in 1...2 {
            batcher.startEpoch(epoch)
            let batches = Self.epoch(&batcher)
            #expect(batcher.isEpochDone)
            #expect(batches.count == batcher.batchCount)
            let pairs = batches.flatMap(\.pairs)
            #expect(pairs.sorted() == Array(0..<corpus.count))
            orders.append(pairs)
            for batch in batches {
                #expect(batch.rows >= 1 && batch.rows <= batchSize)
                if let cap = maxTokens, batch.rows > 1 {
                    #expect(batch.rows * max(batch.sourceSteps, batch.targetSteps) <= cap)
                }
            }
        }
        if corpus.count > batchSize { #expect(orders[0] != orders[1]) }
    }

    @Test func paddingIsMinusOneAndMasksAreZeroExactlyThere() throws {
        let corpus = Self.corpus(count: 120)
        var batcher = try SentencePairBatcher(corpus: corpus, batchSize: 16, bucketWindow: 16, seed: 5)
        var batch = SentencePairBatch()
        var paddedSeen = 0
        while batcher.next(into: &batch) {  // one buffer, reused
            let b = batch.rows
            #expect(batch.source.count == batch.sourceSteps * b && batch.sourceMask.count == batch.source.count)
            #expect(batch.targets.count == batch.targetSteps * b && batch.decoderInputs.count == batch.targets.count)
            #expect(batch.targetMask.count == batch.targets.count)
            #expect(batch.sourceSteps == batch.sourceLengths.max())
            #expect(batch.targetSteps == batch.targetLengths.max())
            for (row, i) in batch.pairs.enumerated() {
                let x = Array(corpus.source(i)), y = Array(corpus.target(i))
                #expect(batch.sourceLengths[row] == x.count && batch.targetLengths[row] == y.count)
                for s in 0..<batch.sourceSteps {
                    let inside = s < x.count
                    #expect(batch.source[s * b + row] == (inside ? x[s] : -1))
                    #expect(batch.sourceMask[s * b + row] == (inside ? 1 : 0))
                    if !inside { paddedSeen += 1 }
                }
                for t in 0..<batch.targetSteps {
                    let inside = t < y.count
                    #expect(batch.targets[t * b + row] == (inside ? y[t] : -1))
                    #expect(batch.decoderInputs[t * b + row] == (inside ? (t == 0 ? Self.lineBreak : y[t - 1]) : -1))
                    #expect(batch.targetMask[t * b + row] == (inside ? 1 : 0))
                }
                #expect(y.last == Self.lineBreak)  // the last target is the end of sentence
            }
            // Masks are 0 exactly where ids are -1.
            #expect(zip(batch.source, batch.sourceMask).allSatisfy { ($0 == -1) == ($1 == 0) && ($1 == 0 || $1 == 1) })
            #expect(zip(batch.targets, batch.targetMask).allSatisfy { ($0 == -1) == ($1 == 0) && ($1 == 0 || $1 == 1) })
            #expect(zip(batch.decoderInputs, batch.targetMask).allSatisfy { ($0 == -1) == ($1 == 0) })
            #expect(batch.targetTokens == Int(batch.targetMask.reduce(0, +)))
        }
        #expect(paddedSeen > 0)  // random batches (window = B): there was padding to check
    }

    /// Mean over batches of (longest − shortest) source length, and the fraction of source slots that are padding.
    static func spread(_ batches: [SentencePairBatch]) -> (spread: Double, padding: Double) {
        var spread = 0, slots = 0, real = 0
        for batch in batches {
            spread += batch.sourceLengths.max()! - batch.sourceLengths.min()!
            slots += batch.rows * batch.sourceSteps
            real += batch.sourceLengths.reduce(0, +)
        }
        return (Double(spread) / Double(batches.count), 1 - Double(real) / Double(slots))
    }

    @Test func batchesAreBucketedByLength() throws {
        let corpus = Self.corpus(count: 2000, maxLength: 50)
        var bucketed = try SentencePairBatcher(corpus: corpus, batchSize: 20, seed: 1)  // window 100·B = 2000
        var random = try SentencePairBatcher(corpus: corpus, batchSize: 20, bucketWindow: 20, seed: 1)
        let b = Self.spread(Self.epoch(&bucketed)), r = Self.spread(Self.epoch(&random))
        // Random batches of 20 lengths uniform in 1...50 spread ~45; sorted windows of 2000 spread ~0.5.
        #expect(r.spread > 35)
        #expect(b.spread < 2)
        #expect(b.spread < r.spread / 20)
        #expect(b.padding < 0.05 && r.padding > 0.3)

        // Smaller windows bucket less, but still far better than random.
        var small = try SentencePairBatcher(corpus: corpus, batchSize: 20, bucketWindow: 200, seed: 1)
        let s = Self.spread(Self.epoch(&small))
        #expect(s.spread > b.spread && s.spread < r.spread / 4)
    }

    @Test func aTokenCapMakesLongSentencesSmallerBatches() throws {
        let corpus = Self.corpus(count: 600, maxLength: 40)
        var batcher = try SentencePairBatcher(corpus: corpus, batchSize: 32, maxTokens: 256, seed: 2)
        let batches = Self.epoch(&batcher)
        for batch in batches {
            #expect(batch.rows * max(batch.sourceSteps, batch.targetSteps) <= 256)
        }
        let short = batches.filter { max($0.sourceSteps, $0.targetSteps) <= 8 }
        let long = batches.filter { max($0.sourceSteps, $0.targetSteps) >= 32 }
        #expect(!short.isEmpty && !long.isEmpty)
        #expect(short.map(\.rows).max() == 32)  // 32 rows of at most 8 steps fit in 256 tokens
        #expect(long.allSatisfy { $0.rows <= 8 })
    }

    @Test func theSameSeedGivesTheSameBatches() throws {
        let corpus = Self.corpus(count: 250)
        var a = try SentencePairBatcher(corpus: corpus, batchSize: 10, maxTokens: 150, bucketWindow: 60, seed: 42)
        var b = try SentencePairBatcher(corpus: corpus, batchSize: 10, maxTokens: 150, bucketWindow: 60, seed: 42)
        var c = try SentencePairBatcher(corpus: corpus, batchSize: 10, maxTokens: 150, bucketWindow: 60, seed: 43)
        let first = Self.epoch(&a)
        #expect(first == Self.epoch(&b))
        #expect(first.map(\.pairs) != Self.epoch(&c).map(\.pairs))
        a.startEpoch(3)
        b.startEpoch(2)
        b.startEpoch(3)
        let third = Self.epoch(&a)
        #expect(third == Self.epoch(&b))
        #expect(third.map(\.pairs) != first.map(\.pairs))
        a.startEpoch(1)
        #expect(Self.epoch(&a) == first)
    }

    @Test(arguments: [0, 1, 9, 24])
    func restoringASavedStateContinuesIdentically(stopAfter: Int) throws {
        let corpus = Self.corpus(count: 250)
        var original = try SentencePairBatcher(corpus: corpus, batchSize: 10, maxTokens: 150, seed: 9)
        original.startEpoch(2)
        for _ in 0..<stopAfter { _ = original.next() }
        let json = try JSONEncoder().encode(original.state)
        let rest = Self.epoch(&original)
        #expect(rest.count == original.batchCount - stopAfter)

        var resumed = try SentencePairBatcher(corpus: corpus, batchSize: 10, maxTokens: 150, seed: 9)  // at epoch 1
        try resumed.restore(JSONDecoder().decode(SentencePairBatcher.State.self, from: json))
        #expect(resumed.epoch == 2 && resumed.position == stopAfter)
        #expect(Self.epoch(&resumed) == rest)
        original.startEpoch(3)
        resumed.startEpoch(3)
        #expect(Self.epoch(&resumed) == Self.epoch(&original))
    }

    @Test func restoreRefusesAnotherShapeSeedOrPosition() throws {
        let corpus = Self.corpus(count: 100)
        let batcher = try SentencePairBatcher(corpus: corpus, batchSize: 10, seed: 9)
        var other = try SentencePairBatcher(corpus: corpus, batchSize: 10, seed: 8)
        #expect(throws: TrainError.batcherMismatch(saved: batcher.state.shape, current: other.state.shape)) {
            try other.restore(batcher.state)
        }
        var smaller = try SentencePairBatcher(corpus: Self.corpus(count: 99), batchSize: 10, seed: 9)
        #expect(throws: TrainError.self) { try smaller.restore(batcher.state) }
        var same = try SentencePairBatcher(corpus: corpus, batchSize: 10, seed: 9)
        var beyond = batcher.state
        beyond.position = batcher.batchCount + 1
        #expect(throws: TrainError.invalidPosition(position: batcher.batchCount + 1, windowCount: batcher.batchCount)) {
            try same.restore(beyond)
        }
        #expect(throws: TrainError.invalidShape(batchSize: 0, steps: 1)) {
            _ = try SentencePairBatcher(corpus: corpus, batchSize: 0, seed: 1)
        }
        // A cap below any pair gives one pair per batch.
        var single = try SentencePairBatcher(corpus: corpus, batchSize: 10, maxTokens: 0, seed: 1)
        #expect(single.maxTokens == 1 && Self.epoch(&single).allSatisfy { $0.rows == 1 })
    }
}
