/// Learns byte-pair-encoding merges (Sennrich, Haddow and Birch 2016, "Neural Machine Translation of Rare Words with
/// Subword Units") from the counts of pre-tokenized words, and makes the ``TokenLevel/bpe`` vocabulary.
///
/// The words are the word level's tokens, whitespace scheme included (`" the"`, `"\n"`, `" \n"`, `"  "`), so a merge
/// never crosses a word or whitespace token and detokenizing stays concatenation. Each word starts as its Unicode
/// scalars; each step merges the most frequent adjacent pair of symbols (counted over the words, weighted by word
/// count) everywhere it occurs, left to right. Two merges that spell the same string (`"ab"+"c"`, `"a"+"bc"`) make
/// the same subword, as in Sennrich's reference, so tokens stay unique.
///
/// ## Deterministic ties
/// Among pairs of equal count the one whose left symbol is older wins, then the one whose right symbol is older.
/// Symbols are numbered characters first, by count descending then scalar value ascending, then subwords in the order
/// they were made. This depends only on the word counts, never on hashing or the order words were seen.
///
/// ## Speed
/// Pair counts are kept up to date incrementally: each pair knows the words it occurs in (a list that may hold
/// stale entries, checked when read), a merge rewrites only those words and adjusts the counts of the pairs around
/// each occurrence, and a max-heap with lazy invalidation finds the next pair (an entry whose count is stale is pushed
/// again with the current count). Nothing is recounted per merge.
public struct SubwordLearner {
    /// Learning stops when no pair occurs this often: subword-nmt's `--min-frequency` default (a pair seen once
    /// would only memorize one word).
    public static let minimumPairCount = 2

    /// The most merges to learn.
    public let merges: Int

    public init(merges: Int) { self.merges = merges }

    /// The BPE vocabulary of word counts given as (UTF-8 bytes, count): the specials, the 256 byte tokens, the
    /// characters (by count descending, then scalar value), then the subwords in the order they were made, with the
    /// merges by rank. A character's count is its corpus count; a subword's is its pair's count when it was made.
    public func vocabulary(settings: TokenizerSettings,
                           forEachWord: ((UnsafeRawBufferPointer, Int) -> Void) -> Void) -> Vocabulary {
        var state = State()
        forEachWord { bytes, count in state.addWord(bytes, count: count) }
        state.numberCharacters()
        state.countPairs()
        state.learn(merges)

        var tokens = Vocabulary.specialTokens
        var counts = [Int](repeating: 0, count: tokens.count)
        for b in 0..<Vocabulary.byteTokenCount { tokens.append(Vocabulary.byteToken(UInt8(b))); counts.append(0) }
        for (bytes, count) in zip(state.symbolBytes, state.symbolCounts) {
            tokens.append(String(decoding: bytes, as: UTF8.self))
            counts.append(count)
        }
        let merges = state.learned.map {
            SubwordMerge(String(decoding: state.symbolBytes[Int($0.left)], as: UTF8.self),
                         String(decoding: state.symbolBytes[Int($0.right)], as: UTF8.self))
        }
        return Vocabulary(settings: settings, tokens: tokens, counts: counts, merges: merges)
    }

    /// The BPE vocabulary of words given as strings with counts (tests, small inputs).
    public func vocabulary(settings: TokenizerSettings, wordCounts: [String: Int]) -> Vocabulary {
        vocabulary(settings: settings) { add in
            for (word, count) in wordCounts {
                var w = word
                w.withUTF8 { add(UnsafeRawBufferPointer($0), count) }
            }
        }
    }
}

/// A pair of symbol ids as one key: left in the high 32 bits, so keys order by left, then right.
@inline(__always) private func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
}

private struct State {
    // Words, flat: word w's symbols are symbols[start[w] ..< start[w] + length[w]] (its length shrinks as it merges).
    var scalars: [UInt32] = []
    var symbols: [Int32] = []
    var start: [Int32] = []
    var length: [Int32] = []
    var wordCount: [Int] = []
    var scalarCount: [UInt32: Int] = [:]

    // Symbols: characters, then subwords.
    var symbolBytes: [[UInt8]] = []
    var symbolCounts: [Int] = []
    var symbolID: [[UInt8]: Int32] = [:]

    var pairs = PairTable()
    var heap = PairHeap()
    var learned: [(left: Int32, right: Int32)] = []

    mutating func addWord(_ bytes: UnsafeRawBufferPointer, count: Int) {
        start.append(Int32(scalars.count))
        var i = 0
        let n = bytes.count
        while i < n {
            let (scalar, size) = decodeScalar(bytes, i)
            scalars.append(scalar)
            scalarCount[scalar, default: 0] += count
            i += size
        }
        length.append(Int32(scalars.count) - start.last!)
        wordCount.append(count)
    }

    mutating func numberCharacters() {
        let characters = scalarCount.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }
        var idOfScalar: [UInt32: Int32] = [:]
        for (scalar, count) in characters {
            let bytes = Array(String(Unicode.Scalar(scalar)!).utf8)
            idOfScalar[scalar] = Int32(symbolBytes.count)
            symbolID[bytes] = Int32(symbolBytes.count)
            symbolBytes.append(bytes)
            symbolCounts.append(count)
        }
        symbols = scalars.map { idOfScalar[$0]! }
        scalars = []
    }

    mutating func countPairs() {
        for w in 0..<start.count {
            let s = Int(start[w])
            let f = wordCount[w]
            for i in s..<(s + Int(length[w]) - 1) {
                let p = pairs.index(of: pairKey(symbols[i], symbols[i + 1]))
                pairs.counts[p] += f
                pairs.words[p].appendUnlessLast(Int32(w))
            }
        }
        heap.items = pairs.counts.indices.map {
            PairHeap.Item(count: pairs.counts[$0], pair: pairs.keys[$0], index: Int32($0))
        }
        heap.heapify()
    }

    mutating func learn(_ wanted: Int) {
        var visited = [Int32](repeating: -1, count: start.count)
        var increased: [Int32] = []
        while learned.count < wanted, let top = heap.pop() {
            let current = pairs.counts[Int(top.index)]
            if current != top.count {
                if current > 0 { heap.push(.init(count: current, pair: top.pair, index: top.index)) }
                continue
            }
            if current < SubwordLearner.minimumPairCount { break }
            let a = Int32(truncatingIfNeeded: top.pair >> 32), b = Int32(truncatingIfNeeded: top.pair & 0xFFFF_FFFF)
            let bytes = symbolBytes[Int(a)] + symbolBytes[Int(b)]
            let c: Int32
            if let existing = symbolID[bytes] {
                c = existing
            } else {
                c = Int32(symbolBytes.count)
                symbolID[bytes] = c
                symbolBytes.append(bytes)
                symbolCounts.append(current)
            }
            let step = Int32(learned.count)
            learned.append((a, b))
            increased.removeAll(keepingCapacity: true)
            var words: [Int32] = []
            swap(&words, &pairs.words[Int(top.index)])
            for w in words where visited[Int(w)] != step {
                visited[Int(w)] = step
                merge(a, b, pair: Int(top.index), into: c, word: w, increased: &increased)
            }
            pairs.counts[Int(top.index)] = 0
            for p in increased where pairs.counts[Int(p)] > 0 {
                heap.push(.init(count: pairs.counts[Int(p)], pair: pairs.keys[Int(p)], index: p))
            }
        }
    }

    /// Rewrites word `w`, merging each `a b` into `c` left to right, and moves the counts of the neighbouring pairs:
    /// `x a` → `x c` on the left, `b y` → `c y` on the right (a previous merge in the same word is the left neighbour).
    mutating func merge(_ a: Int32, _ b: Int32, pair ab: Int, into c: Int32, word w: Int32,
                        increased: inout [Int32]) {
        let s = Int(start[Int(w)]), n = Int(length[Int(w)])
        let f = wordCount[Int(w)]
        var read = s, write = s
        let end = s + n
        while read < end {
            if read + 1 < end && symbols[read] == a && symbols[read + 1] == b {
                pairs.counts[ab] -= f
                if write > s {
                    let x = symbols[write - 1]
                    pairs.counts[pairs.index(of: pairKey(x, a))] -= f
                    let p = pairs.index(of: pairKey(x, c))
                    pairs.counts[p] += f
                    pairs.words[p].appendUnlessLast(w)
                    increased.append(Int32(p))
                }
                if read + 2 < end {
                    let y = symbols[read + 2]
                    pairs.counts[pairs.index(of: pairKey(b, y))] -= f
                    let p = pairs.index(of: pairKey(c, y))
                    pairs.counts[p] += f
                    pairs.words[p].appendUnlessLast(w)
                    increased.append(Int32(p))
                }
                symbols[write] = c
                read += 2
            } else {
                symbols[write] = symbols[read]
                read += 1
            }
            write += 1
        }
        length[Int(w)] = Int32(write - s)
    }
}

/// Every pair of symbols seen, numbered in order of first sight, with its count and the words it occurs in (a list
/// that may name a word twice or one the pair has left; readers check). Open addressing with Fibonacci hashing: a
/// probe costs a multiply, not a SipHash as a `Dictionary` key does.
private struct PairTable {
    var keys: [UInt64] = []
    var counts: [Int] = []
    var words: [[Int32]] = []
    /// Pair index + 1, or 0 for an empty slot.
    private var slots = [Int32](repeating: 0, count: 1 << 16)
    private var shift: UInt64 = 64 - 16

    /// The pair's index, inserting it (count 0, no words) when new.
    @inline(__always)
    mutating func index(of key: UInt64) -> Int {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while true {
            let slot = slots[i]
            if slot == 0 { break }
            if keys[Int(slot) - 1] == key { return Int(slot) - 1 }
            i = (i &+ 1) & mask
        }
        keys.append(key)
        counts.append(0)
        words.append([])
        slots[i] = Int32(keys.count)
        if keys.count * 2 > slots.count { grow() }
        return keys.count - 1
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        shift -= 1
        let mask = slots.count - 1
        for (index, key) in keys.enumerated() {
            var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while slots[i] != 0 { i = (i &+ 1) & mask }
            slots[i] = Int32(index + 1)
        }
    }
}

extension Array where Element == Int32 {
    @inline(__always) fileprivate mutating func appendUnlessLast(_ x: Int32) {
        if last != x { append(x) }
    }
}

/// A max-heap of (count, pair): the highest count first, ties to the smaller pair key (older left, then right).
private struct PairHeap {
    struct Item { var count: Int; var pair: UInt64; var index: Int32 }
    var items: [Item] = []

    @inline(__always) static func before(_ x: Item, _ y: Item) -> Bool {
        x.count != y.count ? x.count > y.count : x.pair < y.pair
    }

    mutating func heapify() {
        guard items.count > 1 else { return }
        for i in stride(from: items.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    mutating func push(_ item: Item) {
        items.append(item)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard PairHeap.before(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Item? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            siftDown(0)
        }
        return top
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < n && PairHeap.before(items[l], items[best]) { best = l }
            if r < n && PairHeap.before(items[r], items[best]) { best = r }
            if best == i { return }
            items.swapAt(i, best)
            i = best
        }
    }
}

/// The scalar starting at `p[i]` and its length in bytes; valid UTF-8 assumed (``TextReader`` validates).
@inline(__always)
func decodeScalar(_ p: UnsafeRawBufferPointer, _ i: Int) -> (UInt32, Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1]) & 0x3F, 2) }
    if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | (UInt32(p[i + 1]) & 0x3F) << 6 | UInt32(p[i + 2]) & 0x3F, 3) }
    return ((b0 & 0x07) << 18 | (UInt32(p[i + 1]) & 0x3F) << 12 | (UInt32(p[i + 2]) & 0x3F) << 6
                | UInt32(p[i + 3]) & 0x3F, 4)
}
