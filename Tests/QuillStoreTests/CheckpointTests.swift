import Testing
@testable import QuillStore

@Suite("Checkpoints")
struct CheckpointTests {
    @Test("the latest checkpoint comes back with its tensors, state and metrics", arguments: StoreLocation.allCases)
    func saveAndLoadLatest(location: StoreLocation) throws {
        try withStore(location) { store throws in
            let run = try store.createRun(name: "r", configJSON: "{}")
            #expect(try store.latestCheckpoint(run: run) == nil)

            let tensors = [makeTensor("rnn.0.weightIH", [4, 3]), makeTensor("adam.m.rnn.0.weightIH", [4, 3]),
                           StoredTensor(name: "adam.v.decoder.bias", shape: [2], values: [-0.0, .nan])]
            let state = #"{"step":100,"lr":0.001,"rng":[1,2,3,4],"position":{"epoch":2,"offset":4096}}"#
            let metrics = [MetricRow(runID: run, step: 100, epoch: 2, loss: 3.5),
                           MetricRow(runID: run, step: 100, epoch: 2, split: .valid, loss: 3.75)]
            try store.saveCheckpoint(run: run, step: 50, epoch: 1, stateJSON: "{}", tensors: [makeTensor("w", [1])])
            let id = try store.saveCheckpoint(run: run, step: 100, epoch: 2, stateJSON: state, tensors: tensors,
                                              metrics: metrics)

            let latest = try #require(try store.latestCheckpoint(run: run))
            #expect(latest.0.id == id && latest.0.runID == run)
            #expect(latest.0.step == 100 && latest.0.epoch == 2 && latest.0.stateJSON == state)
            #expect(latest.0.createdAt.hasSuffix("Z"))
            #expect(latest.1 == tensors.sorted { $0.name < $1.name })
            #expect(try store.metrics(run: run) == metrics)
        }
    }

    @Test("only the last checkpoints are kept, with their tensors", arguments: [1, 2, 3])
    func pruning(keepLast: Int) throws {
        let store = try Store(path: ":memory:")
        let run = try store.createRun(name: "r", configJSON: "{}")
        let other = try store.createRun(name: "other", configJSON: "{}")
        try store.saveCheckpoint(run: other, step: 1, epoch: 0, stateJSON: "{}", tensors: [makeTensor("w", [2])],
                                 keepLast: 1)
        for step in 1...5 {
            try store.saveCheckpoint(run: run, step: step * 10, epoch: 0, stateJSON: "{}",
                                     tensors: [makeTensor("w", [2]), makeTensor("b", [1])], keepLast: keepLast)
        }
        let kept = try store.checkpoints(run: run)
        #expect(kept.map(\.step) == Array((6 - keepLast)...5).map { $0 * 10 })
        #expect(try rowCount("tensors", in: store, where: "checkpoint_id IS NOT NULL") == 2 * keepLast + 1)
        #expect(try store.checkpoints(run: other).count == 1)
    }

    @Test("a checkpoint saved out of order is kept; a second one at a step replaces the first")
    func outOfOrderAndSameStep() throws {
        let store = try Store(path: ":memory:")
        let run = try store.createRun(name: "r", configJSON: "{}")
        for step in [10, 20, 30] {
            try store.saveCheckpoint(run: run, step: step, epoch: 0, stateJSON: "{}", tensors: [], keepLast: 2)
        }
        try store.saveCheckpoint(run: run, step: 5, epoch: 0, stateJSON: "{}", tensors: [], keepLast: 2)
        #expect(try store.checkpoints(run: run).map(\.step) == [5, 30])

        try store.saveCheckpoint(run: run, step: 30, epoch: 1, stateJSON: #"{"again":true}"#,
                                 tensors: [makeTensor("w", [3])], keepLast: 2)
        let latest = try #require(try store.latestCheckpoint(run: run))
        #expect(latest.0.epoch == 1 && latest.0.stateJSON == #"{"again":true}"#)
        #expect(latest.1.map(\.name) == ["w"])
        #expect(try store.checkpoints(run: run).map(\.step) == [5, 30])
    }

    @Test("a failing checkpoint save writes nothing: no row, no tensors, no metrics, no pruning")
    func atomicity() throws {
        let store = try Store(path: ":memory:")
        let run = try store.createRun(name: "r", configJSON: "{}")
        try store.saveCheckpoint(run: run, step: 1, epoch: 0, stateJSON: "{}", tensors: [makeTensor("w", [2])],
                                 keepLast: 1)
        #expect(throws: StoreError.self) {
            try store.saveCheckpoint(run: run, step: 2, epoch: 0, stateJSON: "{}",
                                     tensors: [makeTensor("w", [2]), StoredTensor(name: "bad", shape: [3], values: [])],
                                     metrics: [MetricRow(runID: run, step: 2, epoch: 0, loss: 1)], keepLast: 1)
        }
        #expect(try store.checkpoints(run: run).map(\.step) == [1])
        #expect(try rowCount("tensors", in: store) == 1)
        #expect(try store.metrics(run: run).isEmpty)
    }

    @Test("bad arguments are refused before anything is written")
    func invalidArguments() throws {
        let store = try Store(path: ":memory:")
        let run = try store.createRun(name: "r", configJSON: "{}")
        #expect(throws: StoreError.self) {
            try store.saveCheckpoint(run: run, step: 1, epoch: 0, stateJSON: "{}", tensors: [], keepLast: 0)
        }
        #expect(throws: StoreError.self) {
            try store.saveCheckpoint(run: run, step: 1, epoch: 0, stateJSON: "not json", tensors: [])
        }
        #expect(throws: StoreError.self) {
            try store.saveCheckpoint(run: run, step: 1, epoch: 0, stateJSON: "{}", tensors: [],
                                     metrics: [MetricRow(runID: run + 1, step: 1, epoch: 0)])
        }
        #expect(throws: StoreError.notFound(kind: "run", name: "#\(run + 1)", closest: ["#\(run)"])) {
            try store.saveCheckpoint(run: run + 1, step: 1, epoch: 0, stateJSON: "{}", tensors: [])
        }
        #expect(throws: StoreError.notFound(kind: "run", name: "#\(run + 1)", closest: ["#\(run)"])) {
            try store.latestCheckpoint(run: run + 1)
        }
        #expect(try store.checkpoints(run: run).isEmpty)
    }
}
