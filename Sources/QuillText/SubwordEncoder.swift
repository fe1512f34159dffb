/// Encodes the word level's tokens into a BPE vocabulary's subword ids: the per-word half of ``TextEncoder`` at the
/// ``TokenLevel/bpe`` level.
///
/// A word starts as its Unicode scalars; a scalar the vocabulary lacks becomes its UTF-8 bytes as byte tokens
/// (`<0xNN>`), so nothing is ever `<unk>` and decoding (``Vocabulary/text(of:)``) gives the bytes back. Then the
/// lowest-ranked merge among adjacent pairs is applied, again and again, until none applies: the merges in the order
/// they were learned, as in Sennrich et al.'s `apply_bpe`. Results are cached per word (bounded: the cache is
/// emptied when full), so a corpus costs one table probe per word once its common words have been seen.
///
/// Keeps a cache and scratch buffers: use one per thread (``TextEncoder`` holds one).
public final class SubwordEncoder {
    /// Words cached at most before the cache is emptied (a few MB at most).
    public static let cacheCapacity = 1 << 16
    /// The cache starts small and grows with the words seen: a table no larger than needed keeps probes in cache.
    private static let initialCacheCapacity = 1 << 12
    /// Longer words are encoded each time rather than cached (the packed cache entry holds a length below this).
    private static let longestCachedWord = 1 << 12

    private let asciiIDs: [Int32]
    private let scalarIDs: [UInt32: Int32]
    /// `(left, right)` → `rank << 32 | merged id`.
    private let mergeTable: MergeTable

    // Unchecked exclusivity: the per-word hot path would otherwise pay a runtime access check on each of these
    // (the encoder is single-threaded by contract and never hands out an inout to them).
    @exclusivity(unchecked) private var cache = ByteTable(capacity: SubwordEncoder.initialCacheCapacity)
    /// Cached words' ids back to back; a cache value is `offset << 12 | count`, or `~id` for a word of one id (most
    /// words, which then need no second read).
    @exclusivity(unchecked) private var cachedIDs: [Int32] = []
    @exclusivity(unchecked) private var symbols: [Int32] = []
    @exclusivity(unchecked) private var ranks: [UInt64] = []

    /// - Throws: ``TextError/invalidSubwords(reason:)`` when the vocabulary is not a well-formed BPE vocabulary (byte
    ///   tokens not at ids 4–259, or a merge whose sides or result are not tokens).
    public init(_ vocabulary: Vocabulary) throws {
        let tokens = vocabulary.tokens
        let firstSubword = Int(Vocabulary.firstByteID) + Vocabulary.byteTokenCount
        guard vocabulary.settings.level == .bpe, tokens.count >= firstSubword else {
            throw TextError.invalidSubwords(reason: "a BPE vocabulary holds the 4 specials and 256 byte tokens")
        }
        for b in 0..<Vocabulary.byteTokenCount {
            let id = Int(Vocabulary.firstByteID) + b, expected = Vocabulary.byteToken(UInt8(b))
            guard tokens[id] == expected else {
                throw TextError.invalidSubwords(reason: "id \(id) must be the byte token \(expected)")
            }
        }
        var ascii = [Int32](repeating: -1, count: 128)
        var scalars: [UInt32: Int32] = [:]
        for id in firstSubword..<tokens.count {
            let t = tokens[id].unicodeScalars
            guard t.count == 1, let s = t.first?.value else { continue }
            if s < 128 {
                if ascii[Int(s)] < 0 { ascii[Int(s)] = Int32(id) }
            } else if scalars[s] == nil {
                scalars[s] = Int32(id)
            }
        }
        var table = MergeTable(capacity: vocabulary.merges.count)
        for (rank, m) in vocabulary.merges.enumerated() {
            let left = vocabulary.id(m.left), right = vocabulary.id(m.right), merged = vocabulary.id(m.left + m.right)
            guard left != Vocabulary.unknownID, right != Vocabulary.unknownID, merged != Vocabulary.unknownID else {
                throw TextError.invalidSubwords(reason: "merge \(rank) (\(jsonQuoted(m.left)) + "
                    + "\(jsonQuoted(m.right))) names a token the vocabulary lacks")
            }
            table.insertIfAbsent(subwordPairKey(left, right), UInt64(rank) << 32 | UInt64(UInt32(merged)))
        }
        asciiIDs = ascii
        scalarIDs = scalars
        mergeTable = table
    }

    /// Calls `body` with the subword ids of one word (a token of the word level, valid UTF-8, non-empty).
    @inline(__always)
    public func forEachID(ofWord word: UnsafeRawBufferPointer, _ body: (Int32) throws -> Void) rethrows {
        if let packed = cache.value(for: word) {
            if packed < 0 { return try body(Int32(truncatingIfNeeded: ~packed)) }
            let offset = packed >> 12, count = packed & 0xFFF
            try cachedIDs.withUnsafeBufferPointer { ids in
                for i in offset..<(offset + count) { try body(ids[i]) }
            }
            return
        }
        encode(word)
        if symbols.count < SubwordEncoder.longestCachedWord {
            if cache.count >= SubwordEncoder.cacheCapacity {
                cache = ByteTable(capacity: SubwordEncoder.initialCacheCapacity)
                cachedIDs.removeAll(keepingCapacity: true)
            }
            if symbols.count == 1 {
                cache.add(~Int(symbols[0]), to: word)
            } else {
                cache.add(cachedIDs.count << 12 | symbols.count, to: word)
                cachedIDs.append(contentsOf: symbols)
            }
        }
        for id in symbols { try body(id) }
    }

    /// The ids of one word, into `symbols`: characters (or bytes), then merges by rank.
    private func encode(_ word: UnsafeRawBufferPointer) {
        symbols.removeAll(keepingCapacity: true)
        var i = 0
        while i < word.count {
            let (scalar, size) = decodeScalar(word, i)
            let id = scalar < 128 ? asciiIDs[Int(scalar)] : scalarIDs[scalar] ?? -1
            if id >= 0 {
                symbols.append(id)
            } else {
                for j in i..<(i + size) { symbols.append(Vocabulary.firstByteID + Int32(word[j])) }
            }
            i += size
        }
        guard symbols.count > 1 else { return }
        // ranks[k]: the merge of symbols[k], symbols[k + 1] (`rank << 32 | merged`), or .max when none applies.
        ranks.removeAll(keepingCapacity: true)
        for k in 0..<(symbols.count - 1) { ranks.append(rank(symbols[k], symbols[k + 1])) }
        while true {
            var best = -1
            var bestRank = UInt64.max
            for k in 0..<ranks.count where ranks[k] < bestRank { best = k; bestRank = ranks[k] }
            if best < 0 { return }
            symbols[best] = Int32(truncatingIfNeeded: bestRank & 0xFFFF_FFFF)
            symbols.remove(at: best + 1)
            ranks.remove(at: best)
            if best < ranks.count { ranks[best] = rank(symbols[best], symbols[best + 1]) }
            if best > 0 { ranks[best - 1] = rank(symbols[best - 1], symbols[best]) }
        }
    }

    @inline(__always) private func rank(_ left: Int32, _ right: Int32) -> UInt64 {
        mergeTable.value(subwordPairKey(left, right))
    }
}

/// Pair of ids → `rank << 32 | merged id`, by open addressing with Fibonacci hashing: a probe is a multiply and a
/// compare, where a `Dictionary` would SipHash the key. Looked up for every adjacent pair of a word not yet cached.
private struct MergeTable {
    private static let empty = UInt64.max  // no pair of valid ids packs to this
    private var keys: [UInt64]
    private var values: [UInt64]
    private let shift: UInt64

    init(capacity: Int) {
        var bits: UInt64 = 4
        while (1 << bits) < capacity * 2 { bits += 1 }
        keys = [UInt64](repeating: MergeTable.empty, count: 1 << bits)
        values = [UInt64](repeating: 0, count: 1 << bits)
        shift = 64 - bits
    }

    mutating func insertIfAbsent(_ key: UInt64, _ value: UInt64) {
        var i = slot(key)
        while keys[i] != MergeTable.empty {
            if keys[i] == key { return }
            i = (i &+ 1) & (keys.count - 1)
        }
        keys[i] = key
        values[i] = value
    }

    /// The value for `key`, or `UInt64.max` (ranks below every merge) when the pair has no merge.
    @inline(__always) func value(_ key: UInt64) -> UInt64 {
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == MergeTable.empty { return .max }
            i = (i &+ 1) & (keys.count - 1)
        }
    }

    @inline(__always) private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }
}

@inline(__always) private func subwordPairKey(_ left: Int32, _ right: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
}
