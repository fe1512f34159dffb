import Foundation
import Testing
@testable import QuillStore

@Suite("Runs and metrics")
struct RunTests {
    @Test("a run is created running and finished with a time", arguments: StoreLocation.allCases)
    func lifecycle(location: StoreLocation) throws {
        try withStore(location) { store throws in
            let id = try store.createRun(name: "ptb", configJSON: #"{"lr":20}"#)
            var run = try store.run(id: id)
            #expect(run.name == "ptb" && run.configJSON == #"{"lr":20}"# && run.modelID == nil)
            #expect(run.status == .running && run.finishedAt == nil)

            let modelID = try saveSampleModel(in: store)
            try store.finishRun(id, status: .interrupted, modelID: modelID)
            run = try store.run(id: id)
            #expect(run.status == .interrupted && run.finishedAt != nil && run.modelID == modelID)

            try store.finishRun(id, status: .running)  // resumed: the model link stays
            run = try store.run(id: id)
            #expect(run.status == .running && run.finishedAt == nil && run.modelID == modelID)

            try store.finishRun(id, status: .finished)
            #expect(try store.run(id: id).status == .finished)
            try store.finishRun(id, status: .running)
            try store.setRunModel(id, modelID: modelID)  // a running run names the model it saved
            #expect(try store.run(id: id).modelID == modelID && store.run(id: id).status == .running)
            #expect(throws: StoreError.self) { try store.setRunModel(id, modelID: 999) }
            try store.finishRun(id, status: .finished)
            #expect(try store.runs().map(\.id) == [id])
        }
    }

    @Test("a run records its owner; once that process is gone the run reads as interrupted",
          arguments: StoreLocation.allCases)
    func owner(location: StoreLocation) throws {
        try withStore(location) { store throws in
            let me = RunOwner.current
            #expect(me.pid == getpid() && me.isAlive)
            let mine = try store.createRun(name: "a", configJSON: "{}", owner: me)
            #expect(try store.run(id: mine).owner == me && store.run(id: mine).status == .running)
            // A process that has exited: its pid no longer runs with that start time.
            let gone = RunOwner(pid: me.pid, host: me.host, start: me.start + "0")
            #expect(!gone.isAlive)
            let killed = try store.createRun(name: "b", configJSON: "{}", owner: gone)
            #expect(try store.run(id: killed).status == .interrupted)
            #expect(try store.runs().map(\.status) == [.running, .interrupted])
            // Resumed by this process: running again.
            try store.claimRun(killed, owner: me)
            #expect(try store.run(id: killed).status == .running && store.run(id: killed).owner == me)
            // A run recorded without an owner stays as recorded.
            let old = try store.createRun(name: "c", configJSON: "{}")
            #expect(try store.run(id: old).status == .running && store.run(id: old).owner == nil)
            // Another live process of this host training "a" would own the name; this process does not count.
            #expect(try store.liveRuns(named: "a").isEmpty)
            let parent = try #require(RunOwner.process(getppid()))
            let other = try store.createRun(name: "a", configJSON: "{}", owner: parent)
            #expect(try store.liveRuns(named: "a").map(\.id) == [other])
        }
    }

    @Test("runs are listed oldest first, names may repeat")
    func listing() throws {
        let store = try Store(path: ":memory:")
        let ids = try (0..<3).map { _ in try store.createRun(name: "same", configJSON: "{}") }
        #expect(try store.runs().map(\.id) == ids)
    }

    @Test("unknown runs and models are not found")
    func unknown() throws {
        let store = try Store(path: ":memory:")
        #expect(throws: StoreError.notFound(kind: "run", name: "#7", closest: [])) { try store.run(id: 7) }
        #expect(throws: StoreError.notFound(kind: "run", name: "#7", closest: [])) {
            try store.finishRun(7, status: .failed)
        }
        #expect(throws: StoreError.notFound(kind: "model", name: "#9")) {
            try store.createRun(name: "r", modelID: 9, configJSON: "{}")
        }
        #expect(throws: StoreError.notFound(kind: "run", name: "#7", closest: [])) {
            try store.appendMetrics([MetricRow(runID: 7, step: 0, epoch: 0)])
        }
        #expect(try store.runs().isEmpty)
    }

    @Test("the schema keeps status and finished_at consistent")
    func statusConstraint() throws {
        let store = try Store(path: ":memory:")
        let id = try store.createRun(name: "r", configJSON: "{}")
        let paused = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE runs SET status = 'paused' WHERE id = ?", id)
        }
        #expect(sqliteCode(paused) == 275)  // SQLITE_CONSTRAINT_CHECK
        let unfinished = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE runs SET status = 'finished' WHERE id = ?", id)
        }
        #expect(sqliteCode(unfinished) == 275)
    }

    @Test("metrics round-trip, ordered by step then train, valid, test", arguments: StoreLocation.allCases)
    func metricsRoundTrip(location: StoreLocation) throws {
        try withStore(location) { store throws in
            let run = try store.createRun(name: "r", configJSON: "{}")
            let other = try store.createRun(name: "other", configJSON: "{}")
            let rows = [
                MetricRow(runID: run, step: 200, epoch: 1, split: .valid, loss: 4.5, perplexity: 90.0),
                MetricRow(runID: run, step: 100, epoch: 0, loss: 5.25, perplexity: 190.5, tokensPerSecond: 12_345.5,
                          wallSeconds: 0.125),
                MetricRow(runID: run, step: 200, epoch: 1, split: .train, loss: 4.75, wallSeconds: 1e-9),
                MetricRow(runID: run, step: 200, epoch: 1, split: .test, loss: .infinity),
                MetricRow(runID: other, step: 1, epoch: 0, loss: 1),
            ]
            try store.appendMetrics(rows)
            #expect(try store.metrics(run: run) == [rows[1], rows[2], rows[0], rows[3]])
            #expect(try store.metrics(run: other) == [rows[4]])
        }
    }

    @Test("a NaN loss is stored as NULL; a row for the same step and split replaces the old one")
    func nanAndUpsert() throws {
        let store = try Store(path: ":memory:")
        let run = try store.createRun(name: "r", configJSON: "{}")
        try store.appendMetrics([MetricRow(runID: run, step: 10, epoch: 0, loss: .nan, perplexity: 3)])
        #expect(try store.metrics(run: run) == [MetricRow(runID: run, step: 10, epoch: 0, perplexity: 3)])
        try store.appendMetrics([MetricRow(runID: run, step: 10, epoch: 1, loss: 2)])
        #expect(try store.metrics(run: run) == [MetricRow(runID: run, step: 10, epoch: 1, loss: 2)])
    }

    @Test("deleting a run takes its metrics and checkpoints with it")
    func deleteRunCascades() throws {
        let store = try Store(path: ":memory:")
        let run = try store.createRun(name: "r", configJSON: "{}")
        try store.saveCheckpoint(run: run, step: 1, epoch: 0, stateJSON: "{}", tensors: [makeTensor("w", [2])],
                                 metrics: [MetricRow(runID: run, step: 1, epoch: 0, loss: 1)])
        try store.database.execute("DELETE FROM runs WHERE id = ?", run)
        for table in ["metrics", "checkpoints", "tensors"] { #expect(try rowCount(table, in: store) == 0) }
    }
}
