/// An open-addressing hash table from byte strings to `Int` values that looks keys up straight from UTF-8 bytes,
/// so the tokenizer's hot loop allocates nothing per token (a `String` and a `Dictionary` probe per token cost ~4×).
///
/// Layout, for cache efficiency: the probe array holds 8-byte slots (a 32-bit hash tag and an entry index), so a
/// probe of a 10k–30k-key table stays within a few hundred KB; an entry (key offset, length, value) is read only when
/// the tag matches. Keys live back to back in one byte arena, entries in insertion order.
public struct ByteTable: Sendable {
    private struct Entry { var offset: Int32; var length: Int32; var value: Int }
    private var arena: [UInt8] = []
    private var entries: [Entry] = []
    /// 0 = empty; else `tag << 32 | (entry index + 1)`, the tag being the hash's high 32 bits.
    private var slots: [UInt64]
    private var mask: Int

    public init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    /// The number of keys.
    public var count: Int { entries.count }

    /// The value stored for `key`, or nil.
    public func value(for key: UnsafeRawBufferPointer) -> Int? {
        find(key, ByteTable.hash(key)).entry.map { entries[$0].value }
    }

    public func value(for key: String) -> Int? {
        var k = key
        return k.withUTF8 { value(for: UnsafeRawBufferPointer($0)) }
    }

    /// Adds `delta` to the value for `key` (inserting it with `delta` when absent); returns the new value.
    @discardableResult
    public mutating func add(_ delta: Int, to key: UnsafeRawBufferPointer) -> Int {
        let h = ByteTable.hash(key)
        let (entry, slot) = find(key, h)
        if let entry {
            entries[entry].value &+= delta
            return entries[entry].value
        }
        entries.append(Entry(offset: Int32(arena.count), length: Int32(key.count), value: delta))
        arena.append(contentsOf: key)
        slots[slot] = (h >> 32) << 32 | UInt64(entries.count)
        if entries.count * 2 > slots.count { grow() }
        return delta
    }

    /// Sets the value for `key`.
    public mutating func set(_ value: Int, for key: String) {
        var k = key
        k.withUTF8 { p in
            let raw = UnsafeRawBufferPointer(p)
            add(value &- (self.value(for: raw) ?? 0), to: raw)
        }
    }

    /// Every (key bytes, value) pair, in insertion order.
    public func forEach(_ body: (UnsafeRawBufferPointer, Int) throws -> Void) rethrows {
        try arena.withUnsafeBytes { a in
            for e in entries {
                try body(UnsafeRawBufferPointer(rebasing: a[Int(e.offset)..<Int(e.offset) + Int(e.length)]), e.value)
            }
        }
    }

    /// The entry holding `key`, or nil and the empty slot where it would go.
    private func find(_ key: UnsafeRawBufferPointer, _ h: UInt64) -> (entry: Int?, slot: Int) {
        let tag = h >> 32
        return slots.withUnsafeBufferPointer { s in
            entries.withUnsafeBufferPointer { e in
                arena.withUnsafeBytes { a in
                    var i = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let slot = s[i]
                        if slot == 0 { return (nil, i) }
                        if slot >> 32 == tag {
                            let index = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) &- 1
                            let entry = e[index]
                            if Int(entry.length) == key.count
                                && ByteTable.equal(a.baseAddress! + Int(entry.offset), key.baseAddress, key.count) {
                                return (index, i)
                            }
                        }
                        i = (i &+ 1) & mask
                    }
                }
            }
        }
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        arena.withUnsafeBytes { a in
            for (index, e) in entries.enumerated() {
                let h = ByteTable.hash(UnsafeRawBufferPointer(rebasing: a[Int(e.offset)..<Int(e.offset) + Int(e.length)]))
                var i = Int(truncatingIfNeeded: h) & mask
                while slots[i] != 0 { i = (i &+ 1) & mask }
                slots[i] = (h >> 32) << 32 | UInt64(index + 1)
            }
        }
    }

    /// Byte equality; words are compared inline because most tokens are short and a `memcmp` call costs more.
    private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer?, _ n: Int) -> Bool {
        guard let b else { return n == 0 }
        var i = 0
        while i &+ 8 <= n {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i &+= 8
        }
        while i < n {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i &+= 1
        }
        return true
    }

    /// A fast 64-bit hash over 8-byte words (wyhash-style multiply-mix); quality is enough for a probing table.
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        let n = key.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        guard let p = key.baseAddress else { return mix(h) }
        var i = 0
        while i &+ 8 <= n {
            h = mix(h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i &+= 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n { tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift; shift &+= 8; i &+= 1 }
            h = mix(h ^ tail)
        }
        return mix(h)
    }

    static func mix(_ x: UInt64) -> UInt64 {
        let m = x.multipliedFullWidth(by: 0xA076_1D64_78BD_642F)
        return m.high ^ m.low
    }
}
