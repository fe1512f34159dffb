import Testing
@testable import QuillTrain

@Suite struct EarlyStoppingTests {
    @Test func stopsAfterPatienceEpochsWithoutImprovement() {
        var e = EarlyStopping(patience: 2)
        do { let r = e.record(epoch: 1, validationLoss: 5); #expect(r) }
        do { let r = e.record(epoch: 2, validationLoss: 4); #expect(r) }
        do { let r = e.record(epoch: 3, validationLoss: 4); #expect(!r) }
        #expect(!e.shouldStop)
        do { let r = e.record(epoch: 4, validationLoss: 4.1); #expect(!r) }
        #expect(e.shouldStop)
        #expect(e.bestLoss == 4)
        #expect(e.bestEpoch == 2)
        #expect(e.epochsWithoutImprovement == 2)
    }

    @Test func improvementResetsTheCounter() {
        var e = EarlyStopping(patience: 2, minDelta: 0.1)
        e.record(epoch: 1, validationLoss: 5)
        do { let r = e.record(epoch: 2, validationLoss: 4.95); #expect(!r) }  // within minDelta
        do { let r = e.record(epoch: 3, validationLoss: 4.8); #expect(r) }
        #expect(e.epochsWithoutImprovement == 0)
        #expect(e.bestEpoch == 3)
    }

    @Test func withoutPatienceItOnlyTracksTheBest() {
        var e = EarlyStopping()
        for (epoch, loss) in [3.0, 2.0, 2.5, 2.6, 2.7, 2.8, .nan].enumerated() {
            e.record(epoch: epoch + 1, validationLoss: loss)
        }
        #expect(!e.shouldStop)
        #expect(e.bestLoss == 2)
        #expect(e.bestEpoch == 2)
    }

    @Test(arguments: [Double.infinity, -.infinity, .nan])
    func aNonFiniteLossIsNeverTheBest(loss: Double) {
        var e = EarlyStopping()
        do { let r = e.record(epoch: 1, validationLoss: loss); #expect(!r) }
        #expect(e.bestLoss == nil && e.bestEpoch == nil)
        do { let r = e.record(epoch: 2, validationLoss: 3); #expect(r) }
        do { let r = e.record(epoch: 3, validationLoss: loss); #expect(!r) }
        #expect(e.bestLoss == 3)
    }
}
