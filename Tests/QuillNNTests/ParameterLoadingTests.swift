import QuillNN
import QuillTensor
import Testing

/// The one checked load behind stored models, safetensors files and checkpoints.
@Suite struct ParameterLoadingTests {
    static func parameters() throws -> ParameterSet {
        try ParameterSet([("a.weight", [2, 3]), ("a.bias", [2]), ("b.weight", [4])])
    }

    @Test func copiesExactlyTheParametersUnderTheirKeys() throws {
        let set = try Self.parameters()
        let source: [String: [Float]] = ["A.weight": [1, 2, 3, 4, 5, 6], "A.bias": [-1, -2], "B.weight": [7, 8, 9, 0]]
        let shapes = ["A.weight": [2, 3], "A.bias": [2], "B.weight": [4]]
        try set.load(shapes: shapes, source: "file", key: { $0.prefix(1).uppercased() + $0.dropFirst() }) {
            source[$0]!
        }
        #expect(set.value("a.weight")!.scalars == [1, 2, 3, 4, 5, 6])
        #expect(set.value("a.bias")!.scalars == [-1, -2])
        #expect(set.value("b.weight")!.scalars == [7, 8, 9, 0])
    }

    /// Missing, unexpected and misshapen tensors are named together, and nothing is copied or even read.
    @Test func namesEveryMismatchAtOnceAndCopiesNothing() throws {
        let set = try Self.parameters()
        let shapes = ["a.weight": [3, 2], "b.weight": [4], "extra": [1], "another": [2]]
        var reads = 0
        #expect(throws: ParameterLoadError(source: "model 'm'", missing: ["a.bias"], unexpected: ["another", "extra"],
                                           misshapen: [.init(name: "a.weight", expected: [2, 3], actual: [3, 2])])) {
            try set.load(shapes: shapes, source: "model 'm'") { _ in reads += 1; return [1, 1, 1, 1] }
        }
        #expect(reads == 0)
        #expect(set.values.buffer.allSatisfy { $0 == 0 })
        let message = "\(ParameterLoadError(source: "model 'm'", missing: ["a.bias"], unexpected: ["extra"], misshapen: [.init(name: "a.weight", expected: [2, 3], actual: [3, 2])]))"
        #expect(message == "model 'm': the tensors do not fit the model's parameters: missing a.bias; unexpected "
            + "extra; wrong shape a.weight is [3, 2], expected [2, 3]")
    }

    /// A reading error leaves the parameters as they were.
    @Test func aFailedReadCopiesNothing() throws {
        struct Unreadable: Error {}
        let set = try Self.parameters()
        let shapes = ["a.weight": [2, 3], "a.bias": [2], "b.weight": [4]]
        #expect(throws: Unreadable.self) {
            try set.load(shapes: shapes, source: "f") { name in
                if name == "b.weight" { throw Unreadable() }
                return name == "a.weight" ? [1, 2, 3, 4, 5, 6] : [1, 2]
            }
        }
        #expect(set.values.buffer.allSatisfy { $0 == 0 })
    }

    @Test func unexpectedTensorsCanBeAllowed() throws {
        let set = try Self.parameters()
        let shapes = ["a.weight": [2, 3], "a.bias": [2], "b.weight": [4], "grad.a.bias": [2]]
        try set.load(shapes: shapes, source: "fixture", allowUnexpected: true) { [Float](repeating: 2, count: shapes[$0]!.reduce(1, *)) }
        #expect(set.values.buffer.prefix(2).allSatisfy { $0 == 2 })
        #expect(set.value("b.weight")!.scalars == [2, 2, 2, 2])
    }
}
