import Foundation
import QuillFormats
import QuillTestSupport
import Testing

@Suite struct SafeTensorsWriterTests {
    /// The bytes of a one-tensor file, written out: header length, sorted-key JSON padded with spaces, data.
    @Test func writesTheExactBytesOfTheFormat() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", shape: [2], values: [1, -2])
        let json = #"{"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}"#  // 54 bytes, padded to 56
        let header = Array(json.utf8) + [0x20, 0x20]
        let expected = [56, 0, 0, 0, 0, 0, 0, 0] + header + [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]
        #expect(try writer.bytes() == expected)
    }

    @Test func roundTripsBitsShapesAndMetadata() throws {
        let special: [Float] = [-0.0, .infinity, -.infinity, .leastNonzeroMagnitude, Float(bitPattern: 0x0001_16C2), .greatestFiniteMagnitude,
                                Float(bitPattern: 0x7FC0_1234)]  // a quiet NaN with a payload
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "note": "quotes \" and \\ and é"])
        try writer.add("z.last", shape: [7], values: special)
        try writer.add("a.matrix", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        try writer.add("m.scalar", shape: [], values: [42])
        try writer.add("m.empty", shape: [0, 4], values: [])
        let bytes = try writer.bytes()
        let headerLength = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        #expect(headerLength % 8 == 0 && bytes[8 + headerLength - 1] != 0)

        let file = try SafeTensors(bytes: bytes, source: "w.safetensors")
        #expect(file.names == ["a.matrix", "m.empty", "m.scalar", "z.last"])
        #expect(file.metadata == writer.metadata)
        #expect(try file.floats("z.last").map(\.bitPattern) == special.map(\.bitPattern))
        #expect(try file.shape("a.matrix") == [2, 3])
        #expect(try file.floats("a.matrix") == [1, 2, 3, 4, 5, 6])
        #expect(try file.shape("m.scalar") == [])
        #expect(try file.floats("m.scalar") == [42])
        #expect(try file.shape("m.empty") == [0, 4])
        #expect(try file.floats("m.empty") == [])
        // Data in name order: the first tensor's data starts the section.
        #expect(try file.info("a.matrix").range == 0..<24)
        #expect(try file.info("z.last").range.upperBound == bytes.count - 8 - headerLength)
    }

    @Test func refusesBadTensors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("w", shape: [2], values: [1, 2])
        #expect(throws: SafeTensorsError.self) { try writer.add("w", shape: [1], values: [1]) }
        #expect(throws: SafeTensorsError.self) { try writer.add("x", shape: [2, 2], values: [1]) }
        #expect(throws: SafeTensorsError.self) { try writer.add("__metadata__", shape: [1], values: [1]) }
        #expect(throws: SafeTensorsError.self) { try writer.add("y", shape: [-1], values: []) }
        #expect(writer.names == ["w"])
    }

    @Test func writesAtomicallyAndNamesAnUnwritableFile() throws {
        try withTemporaryDirectory { directory in
            var writer = SafeTensorsWriter()
            try writer.add("w", shape: [1], values: [3])
            let url = directory.appendingPathComponent("w.safetensors")
            try writer.write(to: url)
            #expect(try SafeTensors(contentsOf: url).floats("w") == [3])
            let bad = directory.appendingPathComponent("missing/dir/w.safetensors")
            do {
                try writer.write(to: bad)
                Issue.record("writing into a missing directory should fail")
            } catch let error as SafeTensorsError {
                #expect(error.description.hasPrefix(bad.path) && error.description.contains("cannot write"))
            }
        }
    }
}
