import Foundation

/// A seeded, splittable random number generator: xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom
/// number generators", 2018), seeded through SplitMix64.
///
/// Its whole state is four `UInt64`s (``state``), so a checkpoint can store it and ``init(state:)`` resumes the
/// exact stream. ``split()`` hands out a new generator 2¹²⁸ draws ahead, so streams never overlap.
public struct RNG: RandomNumberGenerator, Sendable, Equatable {
    private var s0, s1, s2, s3: UInt64

    /// The four state words (never all zero): what a checkpoint stores.
    public var state: [UInt64] { [s0, s1, s2, s3] }

    /// A generator whose stream is fixed by `seed`.
    public init(seed: UInt64) {
        var s = seed
        s0 = RNG.splitMix64(&s)
        s1 = RNG.splitMix64(&s)
        s2 = RNG.splitMix64(&s)
        s3 = RNG.splitMix64(&s)
    }

    /// Resumes from a saved ``state``.
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "an RNG state is four words, not all zero")
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = RNG.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = RNG.rotl(s3, 45)
        return result
    }

    /// Advances the state by 2¹²⁸ draws (the reference `jump()`).
    public mutating func jump() {
        let polynomial: [UInt64] = [0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C,
                                    0xA958_2618_E03F_C9AA, 0x39AB_DC45_29B1_661C]
        var (t0, t1, t2, t3): (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for word in polynomial {
            for bit in 0..<64 {
                if word & (1 << UInt64(bit)) != 0 { t0 ^= s0; t1 ^= s1; t2 ^= s2; t3 ^= s3 }
                _ = next()
            }
        }
        (s0, s1, s2, s3) = (t0, t1, t2, t3)
    }

    /// A new generator for an independent stream: a copy of this one, after which this one jumps 2¹²⁸ draws ahead.
    public mutating func split() -> RNG {
        let child = self
        jump()
        return child
    }

    /// A uniform `Float` in [0, 1): the top 24 bits of a draw.
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A uniform `Float` in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        let u = low + (high - low) * uniform()
        return u < high ? u : low   // rounding can reach `high` when the interval is wide
    }

    /// A normal `Float` of mean 0 and standard deviation 1 (Box–Muller, the cosine branch; one pair per call).
    public mutating func normal() -> Float {
        let (a, _) = normalPair()
        return a
    }

    /// Two independent standard normal values from one Box–Muller transform, computed in `Double`.
    public mutating func normalPair() -> (Float, Float) {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53   // in (0, 1], so the logarithm is finite
        let u2 = Double(next() >> 11) * 0x1p-53
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (Float(radius * cos(angle)), Float(radius * sin(angle)))
    }

    /// Fills `buffer` with uniform values in [low, high).
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, low: Float = 0, high: Float = 1) {
        for i in buffer.indices { buffer[i] = uniform(low, high) }
    }

    /// Fills `buffer` with normal values of `mean` and `standardDeviation` (both values of each Box–Muller pair).
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Float = 0,
                                    standardDeviation: Float = 1) {
        var i = buffer.startIndex
        while i < buffer.endIndex {
            let (a, b) = normalPair()
            buffer[i] = mean + standardDeviation * a
            if i + 1 < buffer.endIndex { buffer[i + 1] = mean + standardDeviation * b }
            i += 2
        }
    }

    /// Fills `tensor` with uniform values in [low, high).
    public mutating func fillUniform(_ tensor: Tensor, low: Float = 0, high: Float = 1) {
        fillUniform(tensor.buffer, low: low, high: high)
    }

    /// Fills `tensor` with normal values of `mean` and `standardDeviation`.
    public mutating func fillNormal(_ tensor: Tensor, mean: Float = 0, standardDeviation: Float = 1) {
        fillNormal(tensor.buffer, mean: mean, standardDeviation: standardDeviation)
    }
}
