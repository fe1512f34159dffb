import Foundation

/// An interpolated Kneser-Ney n-gram model over token ids (Kneser and Ney 1995; Chen and Goodman 1998, §3–4): the
/// highest order uses counts, the lower orders continuation counts (how many distinct tokens precede an n-gram), and
/// each order discounts its counts — with three discounts `D₁, D₂, D₃₊` (modified Kneser-Ney, the default) or one
/// (plain Kneser-Ney), estimated from the order's counts of counts `n₁…n₄` as SRILM and KenLM's `lmplz` do:
///
///     Y = n₁ / (n₁ + 2 n₂),   D₁ = 1 − 2Y n₂/n₁,   D₂ = 2 − 3Y n₃/n₂,   D₃₊ = 3 − 4Y n₄/n₃   (plain: D = Y)
///
///     p(w | h) = max(c(h w) − D(c(h w)), 0) / c(h ·) + γ(h) p(w | h′),   γ(h) = Σₖ Dₖ Nₖ(h ·) / c(h ·)
///
/// A model counted over **sentences** (``init(sentences:boundary:vocabularySize:order:smoothing:)``) follows SRILM's
/// and `lmplz`'s conventions: each sentence is `<s> … </s>`, n-grams do not cross sentences, n-grams that start with
/// `<s>` keep their counts at every order (nothing can precede them), and the unigrams are interpolated with the
/// uniform distribution over the vocabulary (`γ(ε) / V`). One token id, `boundary`, stands for both `<s>` (only ever a
/// context) and `</s>` (only ever predicted), as a line break does in a stream of tokens. A model counted over **one
/// stream** (``init(ids:vocabularySize:order:)``, the form stored before sentences) counts across line breaks and mixes
/// its undiscounted unigrams with a uniform share ``uniformShare``.
///
///     let model = KneserNeyModel(sentences: ids, boundary: lineBreak, vocabularySize: V, order: 5)
///     var state = model.sentenceStart
///     let p = model.score(word, state: &state)             // P(word | <s>), and the state moves on
///
/// Layout: order `n` holds its n-grams sorted (by prefix, then last token), each an `n − 1`-gram prefix index and a
/// token: a forward trie. The n-grams of order `n ≥ 2` are found by `(prefix, token)` in one open-addressing hash
/// table per order, whose slot also holds the n-gram's interpolated probability, so a query in a running state costs
/// at most one probe per order.
public struct KneserNeyModel: Sendable {
    /// Discounting: three discounts per order (modified) or one (plain).
    public enum Smoothing: String, Codable, Sendable, CaseIterable {
        case modified, plain
    }

    /// The largest order: 2 for bigrams, 3 for trigrams, … at most ``maximumOrder``.
    public let order: Int
    public let vocabularySize: Int
    public let smoothing: Smoothing
    /// The token that is `<s>` and `</s>` of a model counted over sentences; `nil` for one stream.
    public let boundary: Int32?
    /// A running state holds one context per length `1…order − 1` (``State``).
    public static let maximumOrder = 8
    /// Token ids and trie indices are 32-bit.
    public static let maximumVocabularySize = Int(Int32.max)
    /// Share of the uniform distribution in the unigram level of a model counted over one stream.
    public static let uniformShare: Float = 1e-3

    /// The n-grams of one order, sorted by (prefix, token); the prefix is an index into the order below (at order 2,
    /// a token id). Order 1 is dense: entry `w` is token `w`.
    struct Level: Sendable {
        var prefix: [Int32] = []
        var token: [Int32] = []
        /// Counts at the highest order, continuation counts below (raw counts for n-grams starting with `<s>`).
        var count: [Float] = []
        /// `p(token | prefix)`, interpolated down to the uniform distribution.
        var probability: [Float] = []
        /// As a context of the order above: `γ`, and its followers `childStart[i]..<childStart[i + 1]` there. A
        /// context without followers has `γ = 1`, as an unseen one.
        var backoff: [Float] = []
        var childStart: [Int32] = []
        var table = GramTable(capacity: 0)
        /// `D₁, D₂, D₃₊`.
        var discounts: [Float] = [0.75, 0.75, 0.75]
    }

    /// `levels[n - 1]` holds order `n`.
    private var levels: [Level]

    /// Why stored n-grams do not make a model.
    public enum GramError: Error, Equatable, CustomStringConvertible {
        case notSorted(order: Int, entry: Int)
        case missingPrefix(order: Int, entry: Int)
        case missingSuffix(order: Int, entry: Int)

        public var description: String {
            switch self {
            case let .notSorted(order, entry): return "the \(order)-grams are not sorted at entry \(entry)"
            case let .missingPrefix(order, entry): return "\(order)-gram \(entry) has no prefix among the \(order - 1)-grams"
            case let .missingSuffix(order, entry): return "\(order)-gram \(entry) has no suffix among the \(order - 1)-grams"
            }
        }
    }

    // MARK: Counting

    /// Counts the n-grams of `ids` as one stream, in which line breaks are tokens like any other (plain Kneser-Ney,
    /// the model stored before sentences).
    public init(ids: [Int32], vocabularySize: Int, order: Int = 3) {
        let grams = Self.count(tokens: ids, sentenceStarts: nil, boundary: nil, vocabularySize: vocabularySize,
                               order: order)
        try! self.init(vocabularySize: vocabularySize, smoothing: .plain, boundary: nil, sorted: grams)
    }

    /// Counts the n-grams of sentences: `ids` is each sentence's tokens followed by `boundary` (its `</s>`); each
    /// sentence is counted as `<s> … </s>`, `boundary` standing for both.
    public init(sentences ids: [Int32], boundary: Int32, vocabularySize: Int, order: Int = 5,
                smoothing: Smoothing = .modified) {
        precondition((0..<Int32(vocabularySize)).contains(boundary), "the boundary is a token id")
        var tokens: [Int32] = []
        var starts: [Bool] = []
        tokens.reserveCapacity(ids.count * 11 / 10 + 1)
        starts.reserveCapacity(ids.count * 11 / 10 + 1)
        var open = false
        for id in ids {
            if !open { tokens.append(boundary); starts.append(true); open = true }
            tokens.append(id)
            starts.append(false)
            if id == boundary { open = false }
        }
        if open { tokens.append(boundary); starts.append(false) }
        let grams = Self.count(tokens: tokens, sentenceStarts: starts, boundary: boundary,
                               vocabularySize: vocabularySize, order: order)
        try! self.init(vocabularySize: vocabularySize, smoothing: smoothing, boundary: boundary, sorted: grams)
    }

    /// Counts every n-gram of `tokens` up to `order` (none ending on a sentence start), makes the counts below the
    /// highest order continuation counts, and returns the levels sorted.
    private static func count(tokens: [Int32], sentenceStarts: [Bool]?, boundary: Int32?, vocabularySize: Int,
                              order: Int) -> [Level] {
        precondition((1...maximumOrder).contains(order), "orders 1…\(maximumOrder)")
        precondition(vocabularySize <= maximumVocabularySize)
        let t = tokens.count
        var levels = [Level](repeating: Level(), count: order)
        // Order 1: raw counts (used only by a unigram model), and every position ends a 1-gram node.
        var unigram = [Float](repeating: 0, count: vocabularySize)
        for i in 0..<t where !(sentenceStarts?[i] ?? false) { unigram[Int(tokens[i])] += 1 }
        levels[0].count = unigram
        var node = tokens  // node[i]: the n-gram of the current order ending at i, or −1
        var startsWithBOS: [[Bool]] = [[]]
        for n in 2...max(2, order) where n <= order {
            var level = Level()
            level.table = GramTable(capacity: 1 << 16)
            var next = [Int32](repeating: -1, count: t)
            for i in 1..<max(1, t) {
                if sentenceStarts?[i] ?? false { continue }
                let p = node[i - 1]
                if p < 0 { continue }
                let (j, inserted) = level.table.insert(GramTable.key(p, tokens[i]), index: Int32(level.token.count))
                if inserted {
                    level.prefix.append(p)
                    level.token.append(tokens[i])
                    level.count.append(1)
                } else {
                    level.count[Int(j)] += 1
                }
                next[i] = j
            }
            node = next
            startsWithBOS.append(n == 2 ? level.prefix.map { $0 == boundary }
                                        : level.prefix.map { startsWithBOS[n - 2][Int($0)] })
            levels[n - 1] = level
        }
        // Continuation counts: the number of distinct n + 1-grams each n-gram ends.
        if order > 1 {
            var suffixBelow: [Int32] = []  // the suffix of each n − 1-gram, an index into order n − 2
            for n in 2...order {
                let upper = levels[n - 1]
                let suffix = n == 2 ? upper.token : upper.prefix.indices.map { j in
                    levels[n - 2].table.lookup(GramTable.key(suffixBelow[Int(upper.prefix[j])], upper.token[j]))!.index
                }
                var continuation = [Float](repeating: 0, count: n == 2 ? vocabularySize : levels[n - 2].count.count)
                for s in suffix { continuation[Int(s)] += 1 }
                if n == 2 {
                    levels[0].count = continuation
                } else {
                    let bos = startsWithBOS[n - 2]
                    for j in continuation.indices where !bos[j] { levels[n - 2].count[j] = continuation[j] }
                }
                suffixBelow = suffix
            }
        }
        for n in levels.indices { levels[n].table = GramTable(capacity: 0) }  // free before sorting
        return sortLevels(levels)
    }

    /// Renumbers each order so that its n-grams are sorted by (prefix, token), prefixes in the order below's new
    /// numbering: lexicographic order of the ids.
    private static func sortLevels(_ levels: [Level]) -> [Level] {
        var sorted = levels
        var remap: [Int32] = []  // old index → new index, of the order below
        for n in 2...max(2, levels.count) where n <= levels.count {
            let level = levels[n - 1]
            var keys = level.prefix.indices.map { j -> (UInt64, Int32) in
                let p = n == 2 ? level.prefix[j] : remap[Int(level.prefix[j])]
                return (GramTable.key(p, level.token[j]), Int32(j))
            }
            keys.sort { $0.0 < $1.0 }
            var out = Level()
            out.prefix = keys.map { Int32(truncatingIfNeeded: $0.0 >> 32) }
            out.token = keys.map { Int32(truncatingIfNeeded: $0.0) }
            out.count = keys.map { level.count[Int($0.1)] }
            remap = [Int32](repeating: 0, count: keys.count)
            for (new, key) in keys.enumerated() { remap[Int(key.1)] = Int32(new) }
            sorted[n - 1] = out
        }
        return sorted
    }

    // MARK: Building from n-grams

    /// A model from its n-grams: `grams[n - 1]` lists each n-gram of order `n` (its `n` token ids) with its count
    /// (for orders below the highest, its continuation count), in any order.
    public init(vocabularySize: Int, grams: [[(ids: [Int32], count: Float)]], smoothing: Smoothing = .plain,
                boundary: Int32? = nil) {
        let sorted = grams.map { list in list.sorted { $0.ids.lexicographicallyPrecedes($1.ids) } }
        try! self.init(vocabularySize: vocabularySize, smoothing: smoothing, boundary: boundary,
                       ids: sorted.map { $0.flatMap(\.ids) }, counts: sorted.map { $0.map(\.count) })
    }

    /// A model from flat n-gram lists, as a store keeps them: `ids[n - 1]` holds the `n` ids of each n-gram of order
    /// `n` one after the other, sorted lexicographically, and `counts[n - 1]` their counts.
    /// - Throws: ``GramError`` when an order is not sorted or an n-gram's prefix or suffix is not among the order
    ///   below.
    public init(vocabularySize: Int, smoothing: Smoothing, boundary: Int32?, ids: [[Int32]], counts: [[Float]]) throws {
        precondition((1...Self.maximumOrder).contains(ids.count) && ids.count == counts.count)
        var (ids, counts) = (ids, counts)
        if boundary == nil { Self.addMissingPrefixes(&ids, &counts) }  // sentences have every prefix
        var levels = [Level](repeating: Level(), count: ids.count)
        levels[0].count = [Float](repeating: 0, count: vocabularySize)
        for (e, id) in ids[0].enumerated() { levels[0].count[Int(id)] = counts[0][e] }
        for n in 2...max(2, ids.count) where n <= ids.count {
            let e = counts[n - 1].count
            var level = Level()
            level.prefix = [Int32](repeating: 0, count: e)
            level.token = [Int32](repeating: 0, count: e)
            let m = n - 1
            try ids[n - 1].withUnsafeBufferPointer { grams in
                try ids[n - 2].withUnsafeBufferPointer { below in
                    // -1, 0, 1 as row a of `x` (length `k`) is before, equal to, after row b of `y`.
                    func compare(_ x: UnsafeBufferPointer<Int32>, _ a: Int, _ y: UnsafeBufferPointer<Int32>, _ b: Int,
                                 _ k: Int) -> Int {
                        for i in 0..<k where x[a + i] != y[b + i] { return x[a + i] < y[b + i] ? -1 : 1 }
                        return 0
                    }
                    let rows = below.count / m
                    var q = 0  // the prefix's index in the order below
                    for j in 0..<e {
                        if j > 0 && compare(grams, (j - 1) * n, grams, j * n, n) >= 0 {
                            throw GramError.notSorted(order: n, entry: j)
                        }
                        if n == 2 {
                            q = Int(grams[j * 2])
                        } else {
                            while q < rows && compare(below, q * m, grams, j * n, m) < 0 { q += 1 }
                            guard q < rows, compare(below, q * m, grams, j * n, m) == 0
                            else { throw GramError.missingPrefix(order: n, entry: j) }
                        }
                        level.prefix[j] = Int32(q)
                        level.token[j] = grams[j * n + m]
                    }
                }
            }
            level.count = counts[n - 1]
            levels[n - 1] = level
        }
        try self.init(vocabularySize: vocabularySize, smoothing: smoothing, boundary: boundary, sorted: levels)
    }

    /// Adds, with count 0, the prefixes an order lacks: a model stored before the trie kept no n-gram whose
    /// continuation count was 0 (the first n-grams of its stream), though a longer one starts with it.
    private static func addMissingPrefixes(_ ids: inout [[Int32]], _ counts: inout [[Float]]) {
        guard ids.count >= 3 else { return }
        for n in stride(from: ids.count, through: 3, by: -1) {
            let m = n - 1
            let (upper, below) = (ids[n - 1], ids[m - 1])
            let rows = below.count / m
            var (mergedIDs, mergedCounts) = ([Int32](), [Float]())
            var q = 0, added = 0
            var last: ArraySlice<Int32> = []
            for j in 0..<(upper.count / n) {
                let prefix = upper[(j * n)..<(j * n + m)]
                if prefix.elementsEqual(last) { continue }
                last = prefix
                while q < rows && below[(q * m)..<((q + 1) * m)].lexicographicallyPrecedes(prefix) {
                    mergedIDs.append(contentsOf: below[(q * m)..<((q + 1) * m)])
                    mergedCounts.append(counts[m - 1][q])
                    q += 1
                }
                if q < rows && below[(q * m)..<((q + 1) * m)].elementsEqual(prefix) { continue }
                mergedIDs.append(contentsOf: prefix)
                mergedCounts.append(0)
                added += 1
            }
            if added == 0 { continue }
            mergedIDs.append(contentsOf: below[(q * m)...])
            mergedCounts.append(contentsOf: counts[m - 1][q...])
            ids[m - 1] = mergedIDs
            counts[m - 1] = mergedCounts
        }
    }

    /// The one place probabilities are computed: from sorted levels with their (continuation) counts.
    private init(vocabularySize: Int, smoothing: Smoothing, boundary: Int32?, sorted levels: [Level]) throws {
        order = levels.count
        self.vocabularySize = vocabularySize
        self.smoothing = smoothing
        self.boundary = boundary
        var levels = levels
        let v = Float(vocabularySize)
        // Order 1.
        do {
            let counts = levels[0].count
            let total = counts.reduce(0, +)
            let discounts = Self.discounts(counts, smoothing)
            levels[0].discounts = discounts
            if boundary == nil {
                let share = Self.uniformShare
                levels[0].probability = counts.map { (1 - share) * (total > 0 ? $0 / total : 0) + share / v }
            } else {
                var gamma: Float = total > 0 ? 0 : 1
                for c in counts where c > 0 { gamma += Self.discount(c, discounts) / total }
                levels[0].probability = counts.map { c in
                    (c > 0 ? max(c - Self.discount(c, discounts), 0) / total : 0) + gamma / v
                }
            }
        }
        // Orders 2…N: tables, backoffs of the contexts below, probabilities.
        var suffix: [Int32] = []
        for n in 2...max(2, order) where n <= order {
            var level = levels[n - 1]
            let e = level.token.count
            let discounts = Self.discounts(level.count, smoothing)
            level.discounts = discounts
            // Contexts: children ranges, totals, γ.
            let contexts = levels[n - 2].count.count
            var childStart = [Int32](repeating: 0, count: contexts + 1)
            for p in level.prefix { childStart[Int(p) + 1] += 1 }
            for i in 0..<contexts { childStart[i + 1] += childStart[i] }
            var total = [Float](repeating: 0, count: contexts)
            var backoff = [Float](repeating: 1, count: contexts)
            for c in 0..<contexts where childStart[c] < childStart[c + 1] {
                defer { if total[c] == 0 { backoff[c] = 1 } }
                var (sum, discounted): (Float, Float) = (0, 0)
                for j in Int(childStart[c])..<Int(childStart[c + 1]) {
                    sum += level.count[j]
                    discounted += Self.discount(level.count[j], discounts)
                }
                total[c] = sum
                backoff[c] = discounted / sum
            }
            levels[n - 2].childStart = childStart
            levels[n - 2].backoff = backoff
            // Suffixes (their slot holds their probability), the interpolated probabilities, and the table.
            let below = levels[n - 2]
            let (d1, d2, d3) = (discounts[0], discounts[1], discounts[2])
            var newSuffix = [Int32](repeating: 0, count: e)
            var lowerProbability = [Float](repeating: 0, count: e)
            if n == 2 {
                for j in 0..<e {
                    newSuffix[j] = level.token[j]
                    lowerProbability[j] = below.probability[Int(level.token[j])]
                }
            } else {
                let keys = (0..<e).map { j in GramTable.key(suffix[Int(level.prefix[j])], level.token[j]) }
                if let j = below.table.lookupAll(keys, index: &newSuffix, probability: &lowerProbability) {
                    throw GramError.missingSuffix(order: n, entry: j)
                }
            }
            level.probability = [Float](repeating: 0, count: e)
            for j in 0..<e {
                let c = Int(level.prefix[j]), count = level.count[j]
                let d = count >= 3 ? d3 : count >= 2 ? d2 : count > 0 ? d1 : 0
                // A context whose followers all have count 0 (the first n-gram of a stream has no left neighbour)
                // is an unseen one.
                level.probability[j] = total[c] > 0 ? max(count - d, 0) / total[c] + backoff[c] * lowerProbability[j]
                                                    : lowerProbability[j]
            }
            level.table = GramTable(keys: (0..<e).map { j in GramTable.key(level.prefix[j], level.token[j]) },
                                    probabilities: level.probability)
            suffix = newSuffix
            levels[n - 1] = level
        }
        levels[order - 1].backoff = []
        levels[order - 1].childStart = []
        self.levels = levels
    }

    /// `D₁, D₂, D₃₊` from the counts of counts `n₁…n₄` (Chen and Goodman 1998); plain: `Y` three times. A
    /// discount whose counts of counts are missing (tiny corpora) falls back to `Y`, and `Y` to 0.75 when `n₁ = 0`;
    /// each is kept within `[0, k]`.
    static func discounts(_ counts: [Float], _ smoothing: Smoothing) -> [Float] {
        var n = [Float](repeating: 0, count: 5)
        for c in counts where c >= 1 && c <= 4 && c == c.rounded() { n[Int(c)] += 1 }
        let y: Float = n[1] > 0 ? n[1] / (n[1] + 2 * n[2]) : 0.75
        guard smoothing == .modified else { return [y, y, y] }
        return (1...3).map { k in
            let d = n[k] > 0 && n[k + 1] > 0 ? Float(k) - Float(k + 1) * y * n[k + 1] / n[k] : y
            return min(max(d, 0), Float(k))
        }
    }

    @inline(__always)
    static func discount(_ count: Float, _ d: [Float]) -> Float {
        count >= 3 ? d[2] : count >= 2 ? d[1] : count > 0 ? d[0] : 0
    }

    // MARK: Queries

    /// Where a running query stands: the trie node of the last `k` tokens for `k = 1…order − 1` (−1: not seen).
    public struct State: Sendable, Equatable {
        var nodes = SIMD8<Int32>(repeating: -1)
    }

    /// The state at the start of a sentence (`<s>`) for a model counted over sentences; for one stream, after a
    /// line break (the boundary given) or nothing.
    public func start(after token: Int32? = nil) -> State {
        var state = State()
        if let token = token ?? boundary, order > 1 { state.nodes[0] = token }
        return state
    }

    /// The start of a sentence.
    public var sentenceStart: State { start() }

    /// `p(token | state)`, and the state moves past `token`: at most one table probe per order.
    @inline(__always)
    public func score(_ token: Int32, state: inout State) -> Float {
        var p = levels[0].probability[Int(token)]
        var next = State()
        if order > 1 { next.nodes[0] = token }
        var n = 2
        var matched = true
        while n <= order {
            let c = state.nodes[n - 2]
            if c < 0 { break }
            if matched, let (j, probability) = levels[n - 1].table.lookup(GramTable.key(c, token)) {
                p = probability
                if n < order { next.nodes[n - 1] = j }
            } else {
                matched = false
                p *= levels[n - 2].backoff[Int(c)]
            }
            n += 1
        }
        state = next
        return p
    }

    /// The state after `history` (its last `order − 1` tokens), as scoring them from nothing leaves it.
    public func state(after history: ArraySlice<Int32>) -> State {
        var state = State()
        for token in history.suffix(order - 1) { _ = score(token, state: &state) }
        return state
    }

    /// The probability of `token` after `history` (only its last `order - 1` tokens matter).
    public func probability(of token: Int32, after history: ArraySlice<Int32>) -> Float {
        var s = state(after: history)
        return score(token, state: &s)
    }

    /// The probabilities of the next token after `history` (only its last `order - 1` tokens matter).
    public func probabilities(after history: ArraySlice<Int32>, into p: inout [Float]) {
        probabilities(in: state(after: history), into: &p)
    }

    /// The distribution of the next token in `state`: the unigram level, then each seen context's followers.
    public func probabilities(in state: State, into p: inout [Float]) {
        p.removeAll(keepingCapacity: true)
        p.append(contentsOf: levels[0].probability)
        guard order > 1 else { return }
        for n in 2...order {
            let c = Int(state.nodes[n - 2])
            if c < 0 { break }
            let below = levels[n - 2], level = levels[n - 1]
            let range = Int(below.childStart[c])..<Int(below.childStart[c + 1])
            if range.isEmpty { continue }
            let gamma = below.backoff[c]
            for i in p.indices { p[i] *= gamma }
            for j in range { p[Int(level.token[j])] = level.probability[j] }
        }
    }

    // MARK: Contents

    /// The number of n-grams of order `n` (order 1: tokens with a count).
    public func gramCount(order n: Int) -> Int {
        n == 1 ? levels[0].count.lazy.filter { $0 > 0 }.count : levels[n - 1].token.count
    }

    /// The n-grams of order `n`, sorted, flat (`n` ids each) with their counts: what the flat initializer takes.
    public func flatGrams(order n: Int) -> (ids: [Int32], counts: [Float]) {
        var result: (ids: [Int32], counts: [Float]) = ([], [])
        forEachOrder(through: n) { m, ids, counts in if m == n { result = (ids, counts) } }
        return result
    }

    /// Calls `body` with each order `1…n`'s flat n-grams and counts, as ``flatGrams(order:)`` gives them, building
    /// each order's rows from the order below's.
    public func forEachOrder(through n: Int, _ body: (Int, [Int32], [Float]) throws -> Void) rethrows {
        let seen = levels[0].count.indices.filter { levels[0].count[$0] > 0 }
        try body(1, seen.map { Int32($0) }, seen.map { levels[0].count[$0] })
        var rows: [Int32] = (0..<Int32(vocabularySize)).map { $0 }  // order 1 as prefixes: row w is [w]
        for m in 2...max(2, n) where m <= n {
            let level = levels[m - 1]
            var next = [Int32]()
            next.reserveCapacity(level.token.count * m)
            for j in level.token.indices {
                let p = Int(level.prefix[j])
                next.append(contentsOf: rows[(p * (m - 1))..<((p + 1) * (m - 1))])
                next.append(level.token[j])
            }
            rows = next
            try body(m, rows, level.count)
        }
    }

    /// The n-grams of order `n` (1…``order``) and their counts, sorted: what ``init(vocabularySize:grams:smoothing:boundary:)`` takes.
    public func grams(order n: Int) -> [(ids: [Int32], count: Float)] {
        let (ids, counts) = flatGrams(order: n)
        return counts.indices.map { (Array(ids[($0 * n)..<(($0 + 1) * n)]), counts[$0]) }
    }

    /// The discount of order `n` for a count of 1 (plain Kneser-Ney: the only one).
    public func discount(order n: Int) -> Float { levels[n - 1].discounts[0] }

    /// `D₁, D₂, D₃₊` of order `n`.
    public func discounts(order n: Int) -> [Float] { levels[n - 1].discounts }
}

/// Open addressing with linear probing from a 64-bit key `(prefix, token)` to an n-gram's index and probability;
/// 16 bytes a slot, at most 3/4 full.
struct GramTable: Sendable {
    struct Slot: Sendable {
        var key: UInt64
        var index: Int32
        var probability: Float
    }
    static let empty = UInt64.max
    private var slots: [Slot]
    private(set) var count = 0

    init(capacity: Int) {
        slots = [Slot](repeating: Slot(key: Self.empty, index: -1, probability: 0),
                       count: max(8, capacity * 4 / 3 + 1))
    }

    /// A table of distinct `keys`, key `j` with index `j` and `probabilities[j]`, filled in the order of the keys'
    /// home slots so that the writes walk the table forward instead of missing the cache on every key.
    init(keys: [UInt64], probabilities: [Float]) {
        self.init(capacity: keys.count)
        let capacity = slots.count
        let (sorted, order) = byHome(keys)
        slots.withUnsafeMutableBufferPointer { s in
            for (key, j) in zip(sorted, order) {
                var i = Self.home(key, capacity)
                while s[i].key != Self.empty { i += 1; if i == capacity { i = 0 } }
                s[i] = Slot(key: key, index: j, probability: probabilities[Int(j)])
            }
        }
        count = keys.count
    }

    /// `keys` and their positions sorted by home slot, by a counting sort on the slot's top bits.
    private func byHome(_ keys: [UInt64]) -> (keys: [UInt64], positions: [Int32]) {
        let shift = max(0, (Int.bitWidth - slots.count.leadingZeroBitCount) - 12)  // about 4,096 buckets
        var start = [Int](repeating: 0, count: (slots.count >> shift) + 2)
        for key in keys { start[(home(key) >> shift) + 1] += 1 }
        for b in 1..<start.count { start[b] += start[b - 1] }
        var (sorted, positions) = ([UInt64](repeating: 0, count: keys.count), [Int32](repeating: 0, count: keys.count))
        for (j, key) in keys.enumerated() {
            let b = home(key) >> shift
            sorted[start[b]] = key
            positions[start[b]] = Int32(j)
            start[b] += 1
        }
        return (sorted, positions)
    }

    /// Looks `keys` up in the order of their home slots, writing each one's index and probability at its position.
    /// - Returns: the position of a key that is absent, if any.
    func lookupAll(_ keys: [UInt64], index: inout [Int32], probability: inout [Float]) -> Int? {
        let (sorted, positions) = byHome(keys)
        for (key, j) in zip(sorted, positions) {
            guard let found = lookup(key) else { return Int(j) }
            index[Int(j)] = found.index
            probability[Int(j)] = found.probability
        }
        return nil
    }

    @inline(__always)
    static func key(_ prefix: Int32, _ token: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: prefix)) << 32 | UInt64(UInt32(bitPattern: token))
    }

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Self.home(key, slots.count) }

    @inline(__always)
    private static func home(_ key: UInt64, _ capacity: Int) -> Int {
        var h = key
        h ^= h >> 33; h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33; h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return Int(h.multipliedFullWidth(by: UInt64(capacity)).high)
    }

    @inline(__always)
    func lookup(_ key: UInt64) -> (index: Int32, probability: Float)? {
        slots.withUnsafeBufferPointer { s in
            var i = home(key)
            while true {
                let k = s[i].key
                if k == key { return (s[i].index, s[i].probability) }
                if k == Self.empty { return nil }
                i += 1
                if i == s.count { i = 0 }
            }
        }
    }


    /// Inserts `key` with `index` unless present. - Returns: the key's index, and whether it was inserted.
    mutating func insert(_ key: UInt64, index: Int32) -> (Int32, Bool) {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let capacity = slots.count
        var i = home(key)
        return slots.withUnsafeMutableBufferPointer { s in
            while true {
                if s[i].key == key { return (s[i].index, false) }
                if s[i].key == Self.empty {
                    s[i] = Slot(key: key, index: index, probability: 0)
                    count += 1
                    return (index, true)
                }
                i += 1
                if i == capacity { i = 0 }
            }
        }
    }

    private mutating func grow() {
        let old = slots
        self = GramTable(capacity: max(16, count * 2))  // twice the slots
        for slot in old where slot.key != Self.empty {
            var i = home(slot.key)
            while slots[i].key != Self.empty { i += 1; if i == slots.count { i = 0 } }
            slots[i] = slot
            count += 1
        }
    }
}
