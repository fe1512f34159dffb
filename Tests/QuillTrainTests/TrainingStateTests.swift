import Foundation
import Testing
@testable import QuillTrain

@Suite struct TrainingStateTests {
    static func sample() -> TrainingState {
        var schedule = LearningRateSchedule.plateau(lr: 1, factor: 0.5, patience: 0)
        schedule.update(validationLoss: 5.25)
        schedule.update(validationLoss: 5.5)
        var stopping = EarlyStopping(patience: 3)
        stopping.record(epoch: 1, validationLoss: 5.25)
        stopping.record(epoch: 2, validationLoss: 5.5)
        var loss = RunningMean()
        loss.add(4.75, weight: 400)
        return TrainingState(
            epoch: 3, globalStep: 2_657, data: .stream(Batcher.State(position: 17, batchSize: 20, steps: 20,
                                                                        streamLength: 46_479)),
            schedule: schedule, earlyStopping: stopping,
            rngState: [0, 1, 0x9E37_79B9_7F4A_7C15, UInt64.max], optimizerStep: 2_657, tokensSeen: 1_062_800,
            wallTime: 321.5, epochLoss: loss, vocabularyFingerprint: "ab12")
    }

    @Test func roundTripsExactly() throws {
        let state = Self.sample()
        let json = try state.jsonString()
        let back = try TrainingState(json: json)
        #expect(back == state)
        #expect(try back.jsonString() == json)
        #expect(back.bestValidationLoss == 5.25)
        #expect(back.bestEpoch == 1)
        #expect(back.rngState.last == UInt64.max)
    }

    /// A stream position keeps the key of every checkpoint written before sentence pairs; pairs have their own.
    @Test func dataPositionKeys() throws {
        var state = Self.sample()
        #expect(try state.jsonString().contains("\"batcher\":{"))
        state.data = .sentencePairs(SentencePairBatcher.State(epoch: 4, position: 9, seed: 7, pairCount: 29_000,
                                                              batchSize: 64, maxTokens: nil, bucketWindow: 6_400))
        let json = try state.jsonString()
        #expect(json.contains("\"sentencePairs\":{") && !json.contains("\"batcher\""))
        #expect(try TrainingState(json: json) == state)
        #expect(!state.data.hasSameShape(as: Self.sample().data))
    }

    @Test func doublesSurviveTheRoundTrip() throws {
        var state = Self.sample()
        state.schedule = TrainingPreset.ptbMedium.schedule
        state.wallTime = 0.1 + 0.2
        var m = RunningMean()
        m.add(1 / 3, weight: 7)
        state.epochLoss = m
        #expect(try TrainingState(json: state.jsonString()) == state)
    }

    @Test func encodingIsStable() throws {
        let json = try Self.sample().jsonString()
        #expect(json == (try Self.sample().jsonString()))
        // Sorted keys, no whitespace, RNG words as 16 hex digits: the form stored in checkpoints.state_json.
        #expect(json.hasPrefix(#"{"batcher":{"batchSize":20,"position":17,"steps":20,"streamLength":46479},"#))
        #expect(json.contains(#""rngState":["0000000000000000","0000000000000001","9e3779b97f4a7c15","ffffffffffffffff"]"#))
        #expect(!json.contains(" "))
        let keys = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]).keys.sorted()
        #expect(keys == ["batcher", "earlyStopping", "epoch", "epochComplete", "epochLoss", "globalStep", "optimizerStep", "rngState",
                         "schedule", "tokensSeen", "version", "vocabularyFingerprint", "wallTime"])
    }

    @Test func recordsWithoutEpochCompleteWereTakenAtEpochEnds() throws {
        var object = try #require(JSONSerialization.jsonObject(with: Data(try Self.sample().jsonString().utf8))
            as? [String: Any])
        object["epochComplete"] = nil
        let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(try TrainingState(json: json).epochComplete)
    }

    @Test func badJSONIsAClearError() throws {
        #expect(throws: TrainError.self) { _ = try TrainingState(json: "{}") }
        let json = try Self.sample().jsonString().replacingOccurrences(of: "ffffffffffffffff", with: "xyz")
        #expect(throws: TrainError.stateFormat(reason: "RNG word 'xyz' is not 16 hex digits")) {
            _ = try TrainingState(json: json)
        }
    }
}
