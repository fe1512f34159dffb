#if canImport(QuillMPI)
import Foundation
import Quill
import QuillMPI

/// `mpirun -np N quill search`: the search's trials spread over the ranks of an MPI job, results in the one store.
///
/// Rank 0 runs the search as `--jobs N` would, and hands each trial it starts to a free rank; the other ranks train
/// the trials they are sent, as the processes `--jobs` starts do, writing their runs to the store (a file every rank
/// can write: one host, or a shared filesystem that locks), and say when each has ended. One of the N slots is rank
/// 0's own host: a trial there trains in a child process, as with `--jobs`.
struct SearchRanks {
    let world: MPIWorld

    /// Rank 0 → a rank: a trial to train; a stop; the end of the search. A rank → rank 0: its trial has ended.
    private enum Tag: Int32 { case trial = 1, stop, end, ended }

    /// What rank 0 sends with a trial: the `TrialRequest`, as data.
    private struct Work: Codable {
        var trial: String
        var epochs: Int
        var run: Int64?
        var deadline: Double
    }

    /// The search's job, when `quill` runs as more than one rank.
    init?() {
        guard let world = Job.group as? MPIWorld, world.size > 1 else { return nil }
        self.world = world
    }

    /// Rank 0's trial processes: one slot per rank, rank 0's own slot a local child process (`local`).
    func trialProcesses(local: TrialProcesses) -> TrialProcesses {
        let free = FreeRanks(Array(1..<world.size))
        return TrialProcesses(jobs: world.size) { [world] request in
            guard let rank = free.take() else { return try local.launch(request) }
            let work = Work(trial: request.trial, epochs: request.epochs, run: request.run,
                            deadline: request.deadline.timeIntervalSince1970)
            try world.send(Array(try JSONEncoder().encode(work)), to: rank, tag: Tag.trial.rawValue)
            return RemoteTrial(world: world, rank: rank, trial: request.trial) { free.give(rank) }
        }
    }

    /// Rank 0: tells every other rank that the search is over.
    func end() {
        for rank in 1..<world.size { try? world.send([], to: rank, tag: Tag.end.rawValue) }
    }

    /// A rank other than 0: trains the trials rank 0 sends, until it says the search is over. A trial stops on a
    /// stop from rank 0, its deadline, or a signal, having checkpointed; its error, if any, goes back to rank 0.
    func follow(_ search: HyperparameterSearch, store: Store) throws {
        while true {
            if try world.pendingMessage(from: 0, tag: Tag.end.rawValue) != nil {
                _ = try world.receive(from: 0, tag: Tag.end.rawValue)
                return
            }
            guard try world.pendingMessage(from: 0, tag: Tag.trial.rawValue) != nil else {
                Thread.sleep(forTimeInterval: 0.02)  // not MPI's busy wait: rank 0's own trial shares this host
                continue
            }
            let work = try JSONDecoder().decode(Work.self, from: Data(try world.receive(from: 0, tag: Tag.trial.rawValue)))
            var failure: String?
            do {
                try search.train(trial: work.trial, to: work.epochs, continuing: work.run, in: store, shouldStop: {
                    if (try? world.pendingMessage(from: 0, tag: Tag.stop.rawValue)) != nil {
                        _ = try? world.receive(from: 0, tag: Tag.stop.rawValue)
                        return true
                    }
                    return StopSignals.requested != nil || Date().timeIntervalSince1970 >= work.deadline
                })
            } catch TrainingRunError.interrupted {
            } catch {
                failure = "\(error)"
            }
            try world.send(Array(failure.map { Data($0.utf8) } ?? Data()), to: 0, tag: Tag.ended.rawValue)
        }
    }

    /// Rank 0's view of a trial training on another rank.
    private final class RemoteTrial: TrialProcess {
        let world: MPIWorld, rank: Int, trial: String
        let release: () -> Void
        private var failure: String?
        private var ended = false

        init(world: MPIWorld, rank: Int, trial: String, release: @escaping () -> Void) {
            (self.world, self.rank, self.trial, self.release) = (world, rank, trial, release)
        }

        var isRunning: Bool {
            if !ended, (try? world.pendingMessage(from: rank, tag: Tag.ended.rawValue)) != nil {
                let said = (try? world.receive(from: rank, tag: Tag.ended.rawValue)) ?? []
                failure = said.isEmpty ? nil : String(decoding: said, as: UTF8.self)
                ended = true
                release()
            }
            return !ended
        }

        func stop() { if !ended { try? world.send([], to: rank, tag: Tag.stop.rawValue) } }

        func finish() throws {
            while isRunning { Thread.sleep(forTimeInterval: 0.02) }
            if let failure { throw SearchError.trialFailed(trial: trial, detail: "on rank \(rank): \(failure)") }
        }
    }

    /// The ranks without a trial.
    private final class FreeRanks: @unchecked Sendable {
        private var ranks: [Int]
        private let lock = NSLock()
        init(_ ranks: [Int]) { self.ranks = ranks }
        func take() -> Int? { lock.withLock { ranks.isEmpty ? nil : ranks.removeFirst() } }
        func give(_ rank: Int) { lock.withLock { ranks.append(rank) } }
    }
}
#endif
