import CMPI
import Foundation
import QuillTrain

/// The processes of an MPI job (Open MPI): who this one is, and the collective operations data-parallel work needs.
///
/// Built only when asked (`QUILL_MPI=1`, see docs/scale-out.md), so the library and the default build need no MPI.
/// A program started without `mpirun` is a world of one rank, and every collective is then a copy.
public final class MPIWorld: @unchecked Sendable {
    /// An MPI call that failed, with its code and MPI's message.
    public struct Failure: Error, CustomStringConvertible {
        public var call: String
        public var code: Int32
        public var description: String
    }

    /// This process's rank, 0 ..< ``size``.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    /// The float sums (in training, the gradients' all-reduce) this process has made: how many, of how many floats
    /// in all, and the seconds spent in them, waiting for the other ranks included.
    public private(set) var floatSums = (calls: 0, floats: 0, seconds: 0.0)
    /// The parts of this rank's slice that the rank-order all-reduce receives, kept between calls: a buffer
    /// allocated per call costs its page faults every step.
    private var scratch: [UInt8] = []

    /// Starts MPI (once per process). Open MPI reads what `mpirun` set in the environment.
    public init() throws {
        var provided: Int32 = 0
        try Self.check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided), "MPI_Init_thread")
        var rank: Int32 = 0, size: Int32 = 0
        try Self.check(MPI_Comm_rank(quill_mpi_world(), &rank), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(quill_mpi_world(), &size), "MPI_Comm_size")
        self.rank = Int(rank)
        self.size = Int(size)
    }

    /// Ends MPI; call once, after the last collective.
    public func finalize() { MPI_Finalize() }

    /// Ends the whole job from any rank (the others are killed by `mpirun`): for a rank that cannot go on.
    public func abort(code: Int32 = 1) -> Never {
        MPI_Abort(quill_mpi_world(), code)
        exit(code)
    }

    public func barrier() throws { try Self.check(MPI_Barrier(quill_mpi_world()), "MPI_Barrier") }

    /// The element-wise sum over all ranks of `buffer`, into `buffer` on every rank, **summed in rank order**
    /// (`((b₀ + b₁) + b₂) + …`) whatever the job's size or network: every rank gets the same bits, and the result
    /// is that of a sequential loop over the ranks' buffers. (`MPI_Allreduce` leaves the order to the algorithm the
    /// library picks, which varies with size and topology.)
    ///
    /// A reduce-scatter then an all-gather, as a ring all-reduce moves data: rank `j` owns the `j`-th of `size`
    /// slices; every rank sends each owner its part of that slice (`MPI_Alltoallv`), the owner adds the `size` parts
    /// in rank order, and the sums are gathered back into every rank's buffer (`MPI_Allgatherv`). Each rank sends and
    /// receives about `2·(size − 1)/size·count` floats and adds `count/size` of them per other rank.
    public func allReduceSumInRankOrder(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try sumInRankOrder(buffer, type: quill_mpi_float())
    }

    /// ``allReduceSumInRankOrder(_:)`` for doubles.
    public func allReduceSumInRankOrder(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try sumInRankOrder(buffer, type: quill_mpi_double())
    }

    private func sumInRankOrder<Scalar: BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<Scalar>,
                                                             type: MPI_Datatype) throws {
        guard size > 1, let base = buffer.baseAddress else { return }
        let count = buffer.count
        // Slice j is [offsets[j], offsets[j] + counts[j]); this rank owns slice `rank`.
        let counts = (0..<size).map { Int32(count * ($0 + 1) / size - count * $0 / size) }
        let offsets = (0..<size).map { Int32(count * $0 / size) }
        let mine = Int(counts[rank])
        let stride = MemoryLayout<Scalar>.stride
        if scratch.count < mine * size * stride { scratch = [UInt8](repeating: 0, count: mine * size * stride) }
        try scratch.withUnsafeMutableBytes { raw in
            let parts = raw.baseAddress!.bindMemory(to: Scalar.self, capacity: mine * size)
            let partCounts = [Int32](repeating: Int32(mine), count: size)
            let partOffsets = (0..<size).map { Int32($0 * mine) }
            try Self.check(MPI_Alltoallv(base, counts, offsets, type, parts, partCounts, partOffsets, type,
                                         quill_mpi_world()), "MPI_Alltoallv")
            let sum = base + Int(offsets[rank])
            for i in 0..<mine { sum[i] = parts[i] }
            for r in 1..<size {
                let part = parts + r * mine
                for i in 0..<mine { sum[i] += part[i] }
            }
        }
        try Self.check(MPI_Allgatherv(quill_mpi_in_place(), 0, type, base, counts, offsets, type, quill_mpi_world()),
                       "MPI_Allgatherv")
    }

    /// Every rank's `values` (the same count on each), concatenated in rank order, on every rank.
    public func allGather(_ values: [Float]) throws -> [Float] {
        guard size > 1 else { return values }
        var all = [Float](repeating: 0, count: values.count * size)
        try values.withUnsafeBufferPointer { mine in
            try all.withUnsafeMutableBufferPointer { all in
                try Self.check(MPI_Allgather(mine.baseAddress, Int32(mine.count), quill_mpi_float(), all.baseAddress,
                                             Int32(mine.count), quill_mpi_float(), quill_mpi_world()), "MPI_Allgather")
            }
        }
        return all
    }

    /// Rank `root`'s bytes on every rank: their count first, then the bytes.
    public func broadcast(bytes: [UInt8], from root: Int) throws -> [UInt8] {
        var count = Int64(bytes.count)
        try withUnsafeMutableBytes(of: &count) { try broadcast($0, from: root) }
        var result = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        try result.withUnsafeMutableBytes { try broadcast($0, from: root) }
        return result
    }

    /// Every rank's bytes (any count each), in rank order, on rank `root` (`MPI_Gather` of the counts, then
    /// `MPI_Gatherv`); an empty array on the others.
    public func gather(bytes: [UInt8], to root: Int) throws -> [[UInt8]] {
        var counts = [Int32](repeating: 0, count: size)
        var mine = Int32(bytes.count)
        try Self.check(MPI_Gather(&mine, 1, quill_mpi_int(), &counts, 1, quill_mpi_int(), Int32(root),
                                  quill_mpi_world()), "MPI_Gather")
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) { offsets[r] = offsets[r - 1] + counts[r - 1] }
        var all = [UInt8](repeating: 0, count: rank == root ? Int(counts.reduce(0, +)) : 0)
        try bytes.withUnsafeBufferPointer { mineBytes in
            try all.withUnsafeMutableBufferPointer { allBytes in
                try Self.check(MPI_Gatherv(mineBytes.baseAddress, Int32(mineBytes.count), quill_mpi_byte(),
                                           allBytes.baseAddress, counts, offsets, quill_mpi_byte(), Int32(root),
                                           quill_mpi_world()), "MPI_Gatherv")
            }
        }
        guard rank == root else { return [] }
        return (0..<size).map { Array(all[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
    }

    /// Sends `bytes` to rank `destination` under `tag` (`MPI_Send`): a message between two ranks, for work handed
    /// out one piece at a time (the search's trials).
    public func send(_ bytes: [UInt8], to destination: Int, tag: Int32) throws {
        try bytes.withUnsafeBufferPointer { buffer in
            try Self.check(MPI_Send(buffer.baseAddress, Int32(buffer.count), quill_mpi_byte(), Int32(destination), tag,
                                    quill_mpi_world()), "MPI_Send")
        }
    }

    /// The rank a message with `tag` waits from (`source`, or any rank when nil), without receiving it
    /// (`MPI_Iprobe`); nil when none has arrived.
    public func pendingMessage(from source: Int? = nil, tag: Int32) throws -> Int? {
        var flag: Int32 = 0
        var status = MPI_Status()
        try Self.check(MPI_Iprobe(source.map(Int32.init) ?? quill_mpi_any_source(), tag, quill_mpi_world(), &flag,
                                  &status), "MPI_Iprobe")
        return flag != 0 ? Int(quill_mpi_status_source(&status)) : nil
    }

    /// Receives the next message with `tag` from rank `source` (`MPI_Probe` for its size, then `MPI_Recv`).
    public func receive(from source: Int, tag: Int32) throws -> [UInt8] {
        var status = MPI_Status()
        try Self.check(MPI_Probe(Int32(source), tag, quill_mpi_world(), &status), "MPI_Probe")
        var count: Int32 = 0
        try Self.check(MPI_Get_count(&status, quill_mpi_byte(), &count), "MPI_Get_count")
        var bytes = [UInt8](repeating: 0, count: Int(count))
        try bytes.withUnsafeMutableBufferPointer { buffer in
            try Self.check(MPI_Recv(buffer.baseAddress, count, quill_mpi_byte(), Int32(source), tag, quill_mpi_world(),
                                    &status), "MPI_Recv")
        }
        return bytes
    }

    /// The element-wise sum over all ranks by `MPI_Allreduce`: the library's fastest algorithm, in an order it
    /// chooses (the same bits on every rank of one job, not necessarily those of a sequential sum).
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard size > 1 else { return }
        try Self.check(MPI_Allreduce(quill_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), quill_mpi_float(),
                                     quill_mpi_sum(), quill_mpi_world()), "MPI_Allreduce")
    }

    /// `buffer` of rank `root` copied into `buffer` on every rank.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int = 0) throws {
        try Self.check(MPI_Bcast(buffer.baseAddress, Int32(buffer.count), quill_mpi_byte(), Int32(root),
                                 quill_mpi_world()), "MPI_Bcast")
    }

    private static func check(_ code: Int32, _ call: String) throws {
        guard code != quill_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(quill_mpi_max_error_string()))
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw Failure(call: call, code: code, description: "\(call) failed: \(String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))")
    }
}

/// MPI as the process group of data-parallel training. A failed MPI call ends the whole job, as MPI's default error
/// handler would: a rank cannot go on alone while the others wait for it.
extension MPIWorld: ProcessGroup {
    public func sum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        let start = DispatchTime.now().uptimeNanoseconds
        orAbort { try allReduceSumInRankOrder(buffer) }
        floatSums.calls += 1
        floatSums.floats += buffer.count
        floatSums.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    public func sum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        orAbort { try allReduceSumInRankOrder(buffer) }
    }

    public func gather(_ values: [Float]) -> [Float] {
        orAbort { try allGather(values) }
    }

    public func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] {
        orAbort { try broadcast(bytes: bytes, from: root) }
    }

    public func gather(_ bytes: [UInt8], to root: Int) -> [[UInt8]] {
        orAbort { try gather(bytes: bytes, to: root) }
    }

    private func orAbort<T>(_ body: () throws -> T) -> T {
        do {
            return try body()
        } catch {
            FileHandle.standardError.write(Data("quill: error: rank \(rank): \(error)\n".utf8))
            abort()
        }
    }
}
