import Foundation
import QuillMPI

// `mpirun -np N quill-mpi-check [COUNT]`: checks the MPI layer on N ranks and times its all-reduce.
// Every rank fills COUNT floats from a generator seeded by its rank, all-reduces them in rank order, and compares the
// result bit for bit with the sum it computes alone from every rank's numbers (it can make them all: they depend on
// the rank only). Rank 0 prints one JSON line; the exit status is 1 on any mismatch.

/// Deterministic floats in [-1, 1) for a rank (SplitMix64).
func numbers(rank: Int, count: Int) -> [Float] {
    var state = UInt64(rank + 1) &* 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 23) - 1
    }
}

let world = try MPIWorld()
let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_003 : 1_000_003
var buffer = numbers(rank: world.rank, count: count)
var expected = numbers(rank: 0, count: count)
for r in 1..<max(world.size, 1) {
    let part = numbers(rank: r, count: count)
    for i in 0..<count { expected[i] += part[i] }
}
try buffer.withUnsafeMutableBufferPointer { try world.allReduceSumInRankOrder($0) }
let identical = zip(buffer, expected).allSatisfy { $0.bitPattern == $1.bitPattern }

// Timing: the rank-order reduction and MPI_Allreduce, median of 5, on the same buffer size.
func median(_ body: () throws -> Void) throws -> Double {
    var times: [Double] = []
    for _ in 0..<5 {
        try world.barrier()
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    return times.sorted()[2]
}
let ordered = try median { try buffer.withUnsafeMutableBufferPointer { try world.allReduceSumInRankOrder($0) } }
let library = try median { try buffer.withUnsafeMutableBufferPointer { try world.allReduceSum($0) } }

// Every rank's verdict reaches rank 0.
var verdict: [Float] = [identical ? 0 : 1]
try verdict.withUnsafeMutableBufferPointer { try world.allReduceSum($0) }
if world.rank == 0 {
    print(#"{"ranks": \#(world.size), "floats": \#(count), "identical_on_every_rank": \#(verdict[0] == 0), "#
        + #""rank_order_ms": \#(String(format: "%.2f", ordered)), "mpi_allreduce_ms": \#(String(format: "%.2f", library))}"#)
}
world.finalize()
exit(verdict[0] == 0 ? 0 : 1)
