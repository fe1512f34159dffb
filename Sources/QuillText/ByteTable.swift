/// An open-addressing hash table from byte strings to `Int` values that looks keys up straight from UTF-8 bytes,
/// so the tokenizer's hot loop allocates nothing per token (a `String` and a `Dictionary` probe per token cost ~4×).
///
/// Keys live back to back in one byte arena; slots hold (hash, arena offset, length, value).
public struct ByteTable: Sendable {
    private struct Slot { var hash: UInt64; var offset: Int32; var length: Int32; var value: Int }
    private var arena: [UInt8] = []
    private var slots: [Slot]
    private var mask: Int
    public private(set) var count = 0

    public init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: Slot(hash: 0, offset: -1, length: 0, value: 0), count: size)
        mask = size - 1
    }

    /// The value stored for `key`, or nil.
    public func value(for key: UnsafeRawBufferPointer) -> Int? { lookup(key) }

    public func value(for key: String) -> Int? {
        var k = key
        return k.withUTF8 { lookup(UnsafeRawBufferPointer($0)) }
    }

    func lookup(_ key: UnsafeRawBufferPointer) -> Int? {
        let h = ByteTable.hash(key)
        return slots.withUnsafeBufferPointer { s in
            arena.withUnsafeBytes { a in
                var i = Int(truncatingIfNeeded: h) & mask
                while true {
                    let slot = s[i]
                    if slot.offset < 0 { return nil }
                    if slot.hash == h && Int(slot.length) == key.count
                        && ByteTable.equal(a.baseAddress! + Int(slot.offset), key.baseAddress, key.count) {
                        return slot.value
                    }
                    i = (i &+ 1) & mask
                }
            }
        }
    }

    /// Adds `delta` to the value for `key` (inserting it with `delta` when absent); returns the new value.
    @discardableResult
    public mutating func add(_ delta: Int, to key: UnsafeRawBufferPointer) -> Int {
        let h = ByteTable.hash(key)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let slot = slots[i]
            if slot.offset < 0 { break }
            if slot.hash == h && Int(slot.length) == key.count && equalsKey(slot, key) {
                slots[i].value &+= delta
                return slots[i].value
            }
            i = (i &+ 1) & mask
        }
        slots[i] = Slot(hash: h, offset: Int32(arena.count), length: Int32(key.count), value: delta)
        arena.append(contentsOf: key)
        count += 1
        if count * 2 > slots.count { grow() }
        return delta
    }

    /// Sets the value for `key`.
    public mutating func set(_ value: Int, for key: String) {
        var k = key
        k.withUTF8 { p in
            let raw = UnsafeRawBufferPointer(p)
            let old = lookup(raw) ?? 0
            add(value &- old, to: raw)
        }
    }

    /// Every (key bytes, value) pair, in insertion order of the arena.
    public func forEach(_ body: (UnsafeRawBufferPointer, Int) throws -> Void) rethrows {
        let live = slots.filter { $0.offset >= 0 }.sorted { $0.offset < $1.offset }
        try arena.withUnsafeBytes { a in
            for slot in live {
                try body(UnsafeRawBufferPointer(rebasing: a[Int(slot.offset)..<Int(slot.offset + slot.length)]), slot.value)
            }
        }
    }

    private func equalsKey(_ slot: Slot, _ key: UnsafeRawBufferPointer) -> Bool {
        arena.withUnsafeBytes { ByteTable.equal($0.baseAddress! + Int(slot.offset), key.baseAddress, key.count) }
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

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(hash: 0, offset: -1, length: 0, value: 0), count: old.count * 2)
        mask = slots.count - 1
        for slot in old where slot.offset >= 0 {
            var i = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[i].offset >= 0 { i = (i &+ 1) & mask }
            slots[i] = slot
        }
    }

    /// A fast 64-bit hash over 8-byte words (wyhash-style multiply-mix); quality is enough for a probing table.
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        let n = key.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        guard let p = key.baseAddress else { return h }
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
