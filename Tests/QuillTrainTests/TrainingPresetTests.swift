import Foundation
import QuillText
import Testing
@testable import QuillTrain

@Suite struct TrainingPresetTests {
    @Test func zarembaHyperparameters() throws {
        let small = try TrainingPreset.named("ptb-small")
        #expect(small.layers == 2 && small.hiddenSize == 200 && small.initScale == 0.1)
        #expect(small.optimizer == .sgd && small.learningRate == 1 && small.epochs == 13)
        #expect(small.steps == 20 && small.batchSize == 20 && small.gradientClip == 5 && small.dropout == 0)
        #expect(small.loss == .sumOverTime && small.referenceTestPerplexity == 114.5)
        let medium = try TrainingPreset.named("ptb-medium")
        #expect(medium.hiddenSize == 650 && medium.initScale == 0.05 && medium.dropout == 0.5)
        #expect(medium.epochs == 39 && medium.steps == 35 && medium.batchSize == 20)
        let char = try TrainingPreset.named("char-shakespeare")
        #expect(char.tokenizer.level == .character && char.hiddenSize == 512 && char.optimizer == .adam)
        #expect(char.learningRate == 2e-3 && char.steps == 100 && char.batchSize == 32 && char.dropout == 0.2)
    }

    @Test func unknownNameListsTheAvailableOnes() {
        #expect(throws: TrainError.unknownPreset(name: "ptb-huge",
                                                 available: ["ptb-small", "ptb-medium", "char-shakespeare"])) {
            _ = try TrainingPreset.named("ptb-huge")
        }
    }

    @Test(arguments: TrainingPreset.all)
    func codableRoundTrip(preset: TrainingPreset) throws {
        let data = try JSONEncoder().encode(preset)
        #expect(try JSONDecoder().decode(TrainingPreset.self, from: data) == preset)
    }
}
