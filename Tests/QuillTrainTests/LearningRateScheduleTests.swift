import Foundation
import Testing
@testable import QuillTrain

@Suite struct LearningRateScheduleTests {
    @Test func constant() {
        let s = LearningRateSchedule.constant(0.01)
        #expect((1...20).allSatisfy { s.lr(forEpoch: $0) == 0.01 })
    }

    @Test func ptbSmallHalvesAfterEpochFour() {
        let s = TrainingPreset.ptbSmall.schedule
        let expected: [Double] = [1, 1, 1, 1, 0.5, 0.25, 0.125, 0.0625, 1.0 / 32, 1.0 / 64, 1.0 / 128, 1.0 / 256,
                                  1.0 / 512]
        #expect((1...13).map { s.lr(forEpoch: $0) } == expected)
    }

    @Test func ptbMediumDividesBy1point2AfterEpochSix() {
        let s = TrainingPreset.ptbMedium.schedule
        for epoch in 1...39 {
            let expected = pow(1.2, -Double(max(0, epoch - 6)))
            #expect(abs(s.lr(forEpoch: epoch) - expected) <= 1e-12 * expected, "epoch \(epoch)")
        }
        #expect(s.lr(forEpoch: 6) == 1)
        #expect(abs(s.lr(forEpoch: 7) - 1 / 1.2) < 1e-15)
    }

    @Test func plateauWaitsPatienceEpochsThenDecays() {
        var s = LearningRateSchedule.plateau(lr: 1, factor: 0.5, patience: 2, minLR: 0.2)
        // Improvements, then a plateau: the third bad epoch (> patience) decays.
        let losses: [Double] = [5, 4, 4, 4.5, 4.2, 3, 3, 3, 3, 3, 3, 3, 3, 3]
        var rates: [Double] = []
        for loss in losses {
            s.update(validationLoss: loss)
            rates.append(s.lr(forEpoch: 99))
        }
        #expect(rates == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2])
        #expect(s.bestLoss == 3)
    }

    @Test func plateauThresholdIsRelative() {
        var s = LearningRateSchedule.plateau(lr: 1, factor: 0.1, patience: 0, threshold: 0.01)
        s.update(validationLoss: 100)
        do { let r = s.update(validationLoss: 99.5); #expect(r) }  // less than 1 % better: a bad epoch, patience 0 → decay
        #expect(abs(s.currentLR - 0.1) < 1e-15)
        do { let r = s.update(validationLoss: 90); #expect(!r) }
    }

    @Test func stateRoundTripsThroughJSON() throws {
        var s = LearningRateSchedule.plateau(lr: 0.3, factor: 0.5, patience: 1, cooldown: 2)
        for loss in [3.0, 3.0, 3.0, 2.9] { s.update(validationLoss: loss) }
        let data = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: data) == s)
    }
}
