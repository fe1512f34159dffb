import Foundation
import Quill
#if canImport(QuillMPI)
import QuillMPI
#endif

/// The MPI job this process is one rank of, when `quill` is built with MPI (`QUILL_MPI=1`, scripts/build-mpi.sh) and
/// started by `mpirun -np N` with N > 1; otherwise none, and every command runs as one process.
///
/// Rank 0 does what a single process does; the other ranks (followers) do their share of the work, read the store
/// but never write it (the search's trials excepted: each is a run of its own), and print nothing but their errors.
enum Job {
    /// The job, or nil for one process.
    nonisolated(unsafe) static let group: (any ProcessGroup)? = {
        #if canImport(QuillMPI)
        guard let size = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"], size != "1" else { return nil }
        do {
            let world = try MPIWorld()
            atexit { Job.finish() }
            return world
        } catch {
            FileHandle.standardError.write(Data("quill: error: \(error)\n".utf8))
            exit(1)
        }
        #else
        return nil
        #endif
    }()

    /// Set when the error that ends the command is one every rank met at the same point (see ``exitAfter``).
    nonisolated(unsafe) static var everyRankStopped = false

    /// Whether this process is a rank other than 0 of a job.
    static var isFollower: Bool { (group?.rank ?? 0) != 0 }

    /// Ends MPI when the process exits normally. With `QUILL_MPI_REPORT=1` each rank first writes one JSON line to
    /// standard error: its float all-reduces (in training, the gradients') and the seconds spent in them
    /// (scripts/bench-mpi.sh reads it).
    private static func finish() {
        #if canImport(QuillMPI)
        guard let world = group as? MPIWorld else { return }
        if ProcessInfo.processInfo.environment["QUILL_MPI_REPORT"] == "1" {
            let sums = world.floatSums
            FileHandle.standardError.write(Data(("{\"mpi_report\": true, \"rank\": \(world.rank), \"size\": \(world.size), "
                + "\"all_reduces\": \(sums.calls), \"floats\": \(sums.floats), "
                + "\"all_reduce_seconds\": \(sums.seconds)}\n").utf8))
        }
        world.finalize()
        #endif
    }

    /// Ends the process after `error`. In a job, an error every rank met at the same point (a stop all agreed on, a
    /// loss that diverged everywhere, a rank that could not start) exits as one process would; any other error may
    /// leave the other ranks waiting for this one, so it ends the whole job (`MPI_Abort`).
    static func exitAfter(_ error: Error, agreed: Bool, code: Int32) -> Never {
        #if canImport(QuillMPI)
        if !agreed, let world = group as? MPIWorld { world.abort(code: code) }
        #endif
        exit(code)
    }

    /// Opens the store on every rank: rank 0 in `mode` (which may create it); the others once rank 0 has it open, so
    /// no two processes create one file, read-only or read-write as `mode` is.
    static func openStore(_ options: StoreOptions, _ mode: Store.OpenMode) throws -> Store {
        guard let group, group.size > 1, mode != .readOnly else { return try options.open(mode) }
        if group.rank == 0 {
            do {
                let store = try options.open(mode)
                _ = group.any([false])
                return store
            } catch {
                _ = group.any([true])
                throw error
            }
        }
        guard !group.any([false])[0] else {
            throw CLIError("rank 0 could not open the store \(options.resolvedPath); its message says why")
        }
        return try options.open(.readWrite)
    }

    /// One round of work shared over the ranks, in input order: rank 0 hands out `items` in contiguous ranges, one
    /// per rank, every rank runs `work` on its range, and rank 0 gets all outputs back in the order of `items`.
    /// Without a job, `work(items)`.
    ///
    /// Rank 0 ends the rounds with `items` nil (it then gets nil). The other ranks pass nil and loop while the
    /// result is not nil: `while try Job.shareRound(nil, work) != nil {}`.
    static func shareRound<Item: Codable, Output: Codable>(_ items: [Item]?, _ work: ([Item]) throws -> [Output])
        throws -> [Output]? {
        guard let group, group.size > 1 else { return try items.map(work) }
        let encoded = group.rank == 0 ? try JSONEncoder().encode(items) : Data()
        let round = try JSONDecoder().decode([Item]?.self, from: Data(group.broadcast(Array(encoded), from: 0)))
        guard let round else { return nil }
        let n = round.count, r = group.rank, size = group.size
        let mine = try work(Array(round[(n * r / size)..<(n * (r + 1) / size)]))
        let parts = group.gather(Array(try JSONEncoder().encode(mine)), to: 0)
        guard group.rank == 0 else { return [] }
        return try parts.flatMap { try JSONDecoder().decode([Output].self, from: Data($0)) }
    }
}
