import Testing
@testable import QuillTrain

@Suite struct BatcherTests {
    /// Windows as arrays of `[t][b]`.
    static func window(_ batcher: inout Batcher) -> (x: [[Int32]], y: [[Int32]])? {
        var x = [Int32](repeating: -1, count: batcher.windowCapacity)
        var y = x
        guard let t = batcher.next(inputs: &x, targets: &y) else { return nil }
        let b = batcher.batchSize
        return ((0..<t).map { Array(x[$0 * b..<($0 + 1) * b]) }, (0..<t).map { Array(y[$0 * b..<($0 + 1) * b]) })
    }

    @Test func exactWindowsForTwoStreamsOfThreeSteps() throws {
        // 17 ids, B = 2: L = 8, id 16 dropped. Stream 0 = 0...7, stream 1 = 8...15. L − 1 = 7 = 3 + 3 + 1.
        var batcher = try Batcher(ids: (0..<17).map(Int32.init), batchSize: 2, steps: 3)
        #expect(batcher.streamLength == 8)
        #expect(batcher.windowCount == 3)
        #expect(batcher.targetsPerEpoch == 14)
        let w0 = try #require(Self.window(&batcher))
        #expect(w0.x == [[0, 8], [1, 9], [2, 10]])
        #expect(w0.y == [[1, 9], [2, 10], [3, 11]])
        let w1 = try #require(Self.window(&batcher))
        #expect(w1.x == [[3, 11], [4, 12], [5, 13]])
        #expect(w1.y == [[4, 12], [5, 13], [6, 14]])
        let w2 = try #require(Self.window(&batcher))
        #expect(w2.x == [[6, 14]])
        #expect(w2.y == [[7, 15]])
        #expect(batcher.isEpochDone)
        #expect(Self.window(&batcher) == nil)
        batcher.startEpoch()
        #expect(try #require(Self.window(&batcher)).x == w0.x)
    }

    @Test(arguments: [(1, 1), (1, 5), (3, 4), (4, 7), (5, 50), (7, 3)])
    func targetsOfAllWindowsAreTheStreamShiftedByOne(batchSize: Int, steps: Int) throws {
        let ids = (0..<101).map { Int32(($0 * 37) % 23) }
        var batcher = try Batcher(ids: ids, batchSize: batchSize, steps: steps)
        let length = ids.count / batchSize
        var inputs = [[Int32]](repeating: [], count: batchSize)
        var targets = [[Int32]](repeating: [], count: batchSize)
        var windows = 0
        while let w = Self.window(&batcher) {
            windows += 1
            #expect(w.x.count <= steps)
            for row in 0..<w.x.count {
                for b in 0..<batchSize {
                    inputs[b].append(w.x[row][b])
                    targets[b].append(w.y[row][b])
                }
            }
        }
        #expect(windows == (length - 1 + steps - 1) / steps)
        for b in 0..<batchSize {
            let stream = Array(ids[b * length..<(b + 1) * length])
            #expect(targets[b] == Array(stream[1...]))
            #expect(inputs[b] == Array(stream[..<(length - 1)]))
        }
    }

    @Test func restoredPositionGivesTheSameRemainingWindows() throws {
        let ids = (0..<200).map { Int32($0 % 13) }
        var original = try Batcher(ids: ids, batchSize: 4, steps: 6)
        for _ in 0..<3 { _ = Self.window(&original) }
        let saved = original.state
        var rest: [[[Int32]]] = []
        while let w = Self.window(&original) { rest.append(w.x + w.y) }

        var resumed = try Batcher(ids: ids, batchSize: 4, steps: 6)
        try resumed.restore(saved)
        #expect(resumed.position == 3)
        var resumedRest: [[[Int32]]] = []
        while let w = Self.window(&resumed) { resumedRest.append(w.x + w.y) }
        #expect(resumedRest == rest)
        #expect(rest.count == original.windowCount - 3)
    }

    @Test func restoreRefusesAnotherShapeOrPosition() throws {
        let ids = (0..<200).map { Int32($0 % 13) }
        var batcher = try Batcher(ids: ids, batchSize: 4, steps: 6)
        var other = try Batcher(ids: ids, batchSize: 5, steps: 6)
        #expect(throws: TrainError.self) { try other.restore(batcher.state) }
        #expect(throws: TrainError.invalidPosition(position: 100, windowCount: batcher.windowCount)) {
            try batcher.seek(to: 100)
        }
    }

    @Test func tooSmallCorpusSaysHowManyTokensAreNeeded() {
        #expect(throws: TrainError.corpusTooSmall(tokens: 39, batchSize: 20)) {
            _ = try Batcher(ids: [Int32](repeating: 1, count: 39), batchSize: 20, steps: 5)
        }
        let message = TrainError.corpusTooSmall(tokens: 39, batchSize: 20).description
        #expect(message.contains("at least 40 tokens"))
        #expect((try? Batcher(ids: [Int32](repeating: 1, count: 40), batchSize: 20, steps: 5))?.windowCount == 1)
        #expect(throws: TrainError.invalidShape(batchSize: 0, steps: 5)) {
            _ = try Batcher(ids: [1, 2, 3], batchSize: 0, steps: 5)
        }
    }
}
