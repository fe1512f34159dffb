import Testing
@testable import QuillTensor

@Suite struct ParameterSetTests {
    let layout: [(name: String, shape: [Int])] = [
        ("embedding.weight", [10, 7]), ("rnn.0.weightIH", [12, 7]), ("rnn.0.biasIH", [12]), ("decoder.bias", [1]),
        ("empty", [0, 3]),
    ]

    @Test func layoutIsFlatAlignedAndInInsertionOrder() throws {
        let set = try ParameterSet(layout)
        #expect(set.names == layout.map(\.name))
        #expect(Int(bitPattern: set.values.base) % 64 == 0)
        #expect(Int(bitPattern: set.gradients.base) % 64 == 0)
        var previousEnd = 0
        for (entry, spec) in zip(set.entries, layout) {
            #expect(entry.shape == spec.shape)
            #expect(entry.count == spec.shape.reduce(1, *))
            #expect(entry.offset % 16 == 0)
            #expect(entry.offset >= previousEnd)
            #expect(Int(bitPattern: set.value(entry.name)!.base) % 64 == 0)
            #expect(Int(bitPattern: set.gradient(entry.name)!.base) % 64 == 0)
            previousEnd = entry.offset + entry.count
        }
        #expect(set.parameterCount == 70 + 84 + 12 + 1)
        #expect(set.flatCount == 80 + 96 + 16 + 16)
    }

    @Test func viewsShareTheFlatBuffersAndGradientsZeroInOneCall() throws {
        let set = try ParameterSet(layout)
        let bias = set.value("rnn.0.biasIH")!
        bias[flat: 3] = 2.5
        let entry = set.entry("rnn.0.biasIH")!
        #expect(set.values.base[entry.offset + 3] == 2.5)
        #expect(bias.shape == [12])
        let dBias = set.gradient("rnn.0.biasIH")!
        dBias[flat: 0] = 1
        #expect(set.gradients.base[entry.offset] == 1)
        set.zeroGradients()
        #expect(dBias[flat: 0] == 0)
        #expect(set.value("missing") == nil)
    }

    @Test func rejectsDuplicateAndInvalidNames() {
        #expect(throws: ParameterSetError.duplicateName("a.b")) { try ParameterSet([("a.b", [1]), ("a.b", [2])]) }
        #expect(throws: ParameterSetError.invalidName("a..b")) { try ParameterSet([("a..b", [1])]) }
        #expect(throws: ParameterSetError.invalidName("")) { try ParameterSet([("", [1])]) }
        #expect(throws: ParameterSetError.invalidShape(name: "w", shape: [2, -1])) {
            try ParameterSet([("w", [2, -1])])
        }
    }
}
