import Foundation
import QuillNN
import Testing
@testable import QuillTrain

@Suite struct MetricsTests {
    @Test func perplexityAndBitsPerCharacter() {
        #expect(Perplexity.perplexity(meanLoss: 0) == 1)
        #expect(abs(Perplexity.perplexity(meanLoss: log(114.5)) - 114.5) < 1e-9)
        #expect(abs(Perplexity.bitsPerCharacter(meanLoss: log(2)) - 1) < 1e-15)
        #expect(abs(Perplexity.bitsPerCharacter(meanLoss: 1.0) - 1.4426950408889634) < 1e-15)
    }

    @Test func runningMeanIsWeightedAndExact() {
        var m = RunningMean()
        #expect(m.mean == 0)
        m.add(2, weight: 3)
        m.add(4, weight: 1)
        #expect(m.mean == 2.5)
        #expect(m.count == 4)
        var many = RunningMean()
        for _ in 0..<1_000_000 { many.add(4.6) }
        #expect(abs(many.mean - 4.6) < 1e-9)
        #expect(abs(many.perplexity - exp(4.6)) < 1e-6)
        m.reset()
        #expect(m == RunningMean())
    }

    @Test func lossReductions() {
        #expect(LossReduction.mean.perTokenLoss(4.5, steps: 20) == 4.5)
        #expect(LossReduction.sumOverTime.perTokenLoss(90, steps: 20) == 4.5)
    }
}
