import Foundation
import QuillFormats
import QuillTestSupport
import Testing

/// Builds a safetensors file by hand: `entries` as (name, dtype, shape, raw bytes), laid out in order.
func safetensorsBytes(_ entries: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])],
                      metadata: [String: String] = [:], padHeader: Bool = true) -> [UInt8] {
    var parts: [String] = []
    if !metadata.isEmpty {
        let items = metadata.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }
        parts.append("\"__metadata__\":{\(items.joined(separator: ","))}")
    }
    var offset = 0
    for entry in entries {
        parts.append("\"\(entry.name)\":{\"dtype\":\"\(entry.dtype)\",\"shape\":\(entry.shape),"
            + "\"data_offsets\":[\(offset),\(offset + entry.bytes.count)]}")
        offset += entry.bytes.count
    }
    var header = Array("{\(parts.joined(separator: ","))}".utf8)
    while padHeader && header.count % 8 != 0 { header.append(0x20) }
    var bytes = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64($0))) }
    bytes += header
    for entry in entries { bytes += entry.bytes }
    return bytes
}

func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}

@Suite struct SafeTensorsTests {
    static let sample = safetensorsBytes([
        ("weight", "F32", [2, 3], littleEndian([1.5, -2, 0, 3.25, 1e-3, -7].map { Float($0).bitPattern })),
        ("ids", "I64", [4], littleEndian([Int64(0), 5, -1, 1 << 40])),
        ("small", "I32", [2], littleEndian([Int32(7), -9])),
        ("scalar", "F64", [], littleEndian([Double.pi.bitPattern])),
        ("empty", "F32", [0, 4], []),
    ], metadata: ["format": "pt", "note": "hand-built"])

    @Test func readsAHandBuiltFile() throws {
        let file = try SafeTensors(bytes: Self.sample, source: "sample.safetensors")
        #expect(file.names == ["empty", "ids", "scalar", "small", "weight"])
        #expect(file.metadata == ["format": "pt", "note": "hand-built"])
        #expect(try file.shape("weight") == [2, 3])
        #expect(try file.floats("weight") == [1.5, -2, 0, 3.25, 1e-3, -7])
        #expect(try file.int64s("ids") == [0, 5, -1, 1 << 40])
        #expect(try file.int64s("small") == [7, -9])
        #expect(try file.int32s("small") == [7, -9])
        #expect(try file.doubles("scalar") == [Double.pi])
        #expect(try file.floats("scalar") == [Float(Double.pi)])
        #expect(try file.info("scalar").count == 1)
        #expect(try file.floats("empty") == [])
    }

    @Test func readsFromAFile() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("sample.safetensors")
            try Data(Self.sample).write(to: url)
            let file = try SafeTensors(contentsOf: url)
            #expect(try file.floats("weight").count == 6)
            #expect(file.source == url.path)
        }
    }

    @Test func namesTheFileAndTensorInErrors() throws {
        let file = try SafeTensors(bytes: Self.sample, source: "sample.safetensors")
        #expect(throws: SafeTensorsError.missingTensor(file: "sample.safetensors", tensor: "nope")) {
            try file.floats("nope")
        }
        #expect(throws: SafeTensorsError.wrongDType(file: "sample.safetensors", tensor: "ids", dtype: "I64",
                                                    requested: "Float")) { try file.floats("ids") }
        #expect(throws: SafeTensorsError.valueOutOfRange(file: "sample.safetensors", tensor: "ids", index: 3)) {
            try file.int32s("ids")
        }
        let error = SafeTensorsError.missingTensor(file: "sample.safetensors", tensor: "nope")
        #expect(error.description.contains("sample.safetensors") && error.description.contains("nope"))
    }

    @Test func rejectsTruncatedFiles() throws {
        #expect(throws: SafeTensorsError.truncatedHeader(file: "f", headerLength: 0, fileSize: 5)) {
            try SafeTensors(bytes: [1, 2, 3, 4, 5], source: "f")
        }
        // Cut inside the header.
        let cutHeader = Array(Self.sample.prefix(40))
        #expect(throws: SafeTensorsError.self) { try SafeTensors(bytes: cutHeader, source: "f") }
        do {
            _ = try SafeTensors(bytes: cutHeader, source: "f")
        } catch let error as SafeTensorsError {
            guard case .truncatedHeader = error else { Issue.record("got \(error)"); return }
        }
        // Cut inside the data: the last tensor with data (`scalar`, 8 bytes of F64) runs past the end.
        let cutData = Array(Self.sample.dropLast(3))
        do {
            _ = try SafeTensors(bytes: cutData, source: "cut.safetensors")
            Issue.record("a truncated file was accepted")
        } catch let error as SafeTensorsError {
            guard case let .dataOutOfBounds(file, tensor, _, _, _) = error else { Issue.record("got \(error)"); return }
            #expect(file == "cut.safetensors" && tensor == "scalar")
            #expect(error.description.contains("truncated"))
        }
    }

    @Test func rejectsCorruptHeaders() throws {
        func error(_ bytes: [UInt8]) -> SafeTensorsError? {
            do { _ = try SafeTensors(bytes: bytes, source: "bad"); return nil } catch { return error as? SafeTensorsError }
        }
        var notJSON = Self.sample
        notJSON[8] = UInt8(ascii: "x")
        guard case .invalidHeader = error(notJSON) else { Issue.record("not JSON: \(String(describing: error(notJSON)))"); return }
        #expect(error(safetensorsBytes([("w", "Q7", [1], [0])])) ==
            .unsupportedDType(file: "bad", tensor: "w", dtype: "Q7"))
        #expect(error(safetensorsBytes([("w", "F32", [2], [0, 0, 0, 0])])) ==
            .sizeMismatch(file: "bad", tensor: "w", expectedBytes: 8, actualBytes: 4))
        guard case .invalidEntry(_, "w", _) = error(safetensorsBytes([("w", "F32", [-1], [])])) else {
            Issue.record("negative extent accepted"); return
        }
        let arrayHeader: [UInt8] = [2, 0, 0, 0, 0, 0, 0, 0] + Array("[]".utf8)
        guard case .invalidHeader = error(arrayHeader) else { Issue.record("array header accepted"); return }
    }

    @Test func readsThePyTorchFixture() throws {
        let file = try SafeTensors(contentsOf: try TestSupport.fixture("pytorch-lstm-lm.safetensors"))
        #expect(try file.shape("rnn.weight_ih_l0") == [64, 16])
        #expect(try file.shape("input") == [7, 3])
        #expect(try file.info("input").dtype == .I64)
        #expect(try file.int32s("target").allSatisfy { $0 >= 0 && $0 < 37 })
        #expect(file.metadata["config"]?.contains("\"gate_order\": \"i,f,g,o\"") == true)
        #expect(try file.floats("loss").count == 1)
    }
}
