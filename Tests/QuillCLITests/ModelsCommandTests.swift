import Foundation
import QuillTestSupport
import Testing

/// `quill models show | delete | export | import`.
@Suite struct ModelsCommandTests {
    /// Vocabulary `v` and a 2-layer LSTM `m` (hidden 8) trained for 3 windows: run #1.
    static func trained() throws -> QuillCLI {
        let (cli, corpus) = try TrainCommandTests.prepared()
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--vocabulary", "v", "--name", "m", "--layers", "2",
                                   "--max-windows", "3"] + TrainCommandTests.tinySizes))
        return cli
    }

    @Test func showsShapeVocabularyTensorsAndNotes() throws {
        let cli = try Self.trained()
        let text = try cli.run("models", "show", "m")
        expectSuccess(text)
        func field(_ label: String) -> String? {
            text.stdoutLines.first { $0.hasPrefix(label) }.map { $0.dropFirst(label.count)
                .trimmingCharacters(in: .whitespaces) }
        }
        #expect(field("kind:") == "lstm-lm" && field("cell:") == "lstm" && field("layers:") == "2")
        #expect(field("hidden:") == "8" && field("embedding:") == "8" && field("tied:") == "no")
        #expect(field("runs:") == "#1")
        let vocabulary = try jsonObject(try #require(try cli.run("vocab", "show", "v", "--format", "jsonl")
            .stdoutLines.first))
        #expect(field("fingerprint:") == vocabulary["fingerprint"] as? String)
        let size = try #require(vocabulary["size"] as? Int)
        #expect(field("vocabulary:")?.hasPrefix("v (\(size) entries, word level)") == true, "\(text.stdout)")
        let listed = try jsonObject(try #require(try cli.run("models", "list", "--format", "jsonl").stdoutLines.first))
        let parameters = try #require(listed["parameters"] as? Int)
        #expect(field("parameters:")?.hasPrefix("\(parameters) (") == true)
        #expect(text.stdout.contains("rnn.1.weightHH    [32, 8]"), "\(text.stdout)")
        #expect(text.stdout.contains("embedding.weight  [\(size), 8]"))
        #expect(text.stdout.contains("training:") && text.stdout.contains("  seed"))

        let show = try cli.run("models", "show", "m", "--format", "jsonl")
        let json = try jsonObject(try #require(show.stdoutLines.first))
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        #expect(tensors.count == 11)  // embedding, 4 per layer, decoder weight and bias
        #expect(tensors.reduce(0) { $0 + ($1["values"] as? Int ?? 0) } == parameters)
        #expect(json["parameters"] as? Int == parameters && json["runs"] as? [Int] == [1])
        #expect((json["hyperparameters"] as? [String: Any])?["layers"] as? Int == 2)
        #expect(json["vocabularySize"] as? Int == size)
    }

    @Test func deleteKeepsTheRunAndNamesAMissingModel() throws {
        let cli = try Self.trained()
        expectFailure(try cli.run("models", "delete", "nope"), status: 1,
                      mentioning: ["no model named 'nope'", "quill models list"])
        expectFailure(try cli.run("models", "show", "nope"), status: 1, mentioning: ["no model named 'nope'"])
        let delete = try cli.run("models", "delete", "m")
        expectSuccess(delete)
        #expect(delete.stdout.contains("deleted model 'm'") && delete.stdout.contains("run #1 keeps its history"))
        let list = try cli.run("models", "list")
        #expect(list.stdout.isEmpty && list.stderr.contains("no models"))
        let run = try jsonObject(try #require(try cli.run("runs", "list", "--format", "jsonl").stdoutLines.first))
        #expect(run["status"] as? String == "finished" && run["model"] is NSNull && run["epochsDone"] as? Int == 1)
        expectFailure(try cli.run("models", "delete", "m"), status: 1, mentioning: ["no model named 'm'"])
        // The vocabulary is free again.
        expectSuccess(try cli.run("vocab", "delete", "v"))
    }

    @Test func exportThenImportGivesTheSameModel() throws {
        let cli = try Self.trained()
        let export = try cli.run("models", "export", "m", "--safetensors", "m.safetensors")
        expectSuccess(export)
        #expect(export.stdout.contains("11 tensors"), "\(export.stdout)")
        let bytes = try Data(contentsOf: cli.directory.file("m.safetensors"))
        let headerLength = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        let header = try jsonObject(String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
            .trimmingCharacters(in: .whitespaces))
        #expect(header["rnn.weight_hh_l1"] != nil && header["embedding.weight"] != nil && header["decoder.bias"] != nil)
        let metadata = try #require(header["__metadata__"] as? [String: String])
        #expect(metadata["kind"] == "lstm-lm" && metadata["vocabulary"] == "v")

        let imported = try cli.run("models", "import", "--safetensors", "m.safetensors", "--name", "m2",
                                   "--vocabulary", "v")
        expectSuccess(imported)
        #expect(imported.stdout.contains("lstm 2×8") && imported.stdout.contains("pytorch names"),
                "\(imported.stdout)")
        // Bit-identical weights evaluate identically.
        let text = try cli.write("t.txt", EvalCommandTests.valid)
        let a = try cli.run("eval", "--model", "m", "--text", text, "--format", "json")
        let b = try cli.run("eval", "--model", "m2", "--text", text, "--format", "json")
        expectSuccess(b)
        let lossA = try jsonObject(a.stdout)["loss"] as? Double, lossB = try jsonObject(b.stdout)["loss"] as? Double
        #expect(lossA != nil && lossA == lossB)
        // And export to the same bytes under Quill's names and back.
        expectSuccess(try cli.run("models", "export", "m2", "--safetensors", "q.safetensors", "--names", "quill"))
        expectSuccess(try cli.run("models", "import", "--safetensors", "q.safetensors", "--name", "m3",
                                  "--vocabulary", "v"))
        let c = try cli.run("eval", "--model", "m3", "--text", text, "--format", "json")
        #expect(try jsonObject(c.stdout)["loss"] as? Double == lossA)

        expectFailure(try cli.run("models", "import", "--safetensors", "m.safetensors", "--name", "m2",
                                  "--vocabulary", "v"), status: 1, mentioning: ["'m2' already exists", "--replace"])
        expectSuccess(try cli.run("models", "import", "--safetensors", "m.safetensors", "--name", "m2",
                                  "--vocabulary", "v", "--replace"))
    }

    @Test func importErrors() throws {
        let cli = try Self.trained()
        expectSuccess(try cli.run("models", "export", "m", "--safetensors", "m.safetensors"))
        // Another vocabulary (even of another corpus) is refused by fingerprint.
        let other = try cli.write("other.txt", "Completely different words here.\nAnd more of them.\n")
        expectSuccess(try cli.run("vocab", "build", "--corpus", other, "--name", "w"))
        expectFailure(try cli.run("models", "import", "--safetensors", "m.safetensors", "--name", "x",
                                  "--vocabulary", "w"), status: 1,
                      mentioning: ["m.safetensors", "fingerprint", "quill vocab import"])
        // Submodule names the file does not use: every tensor is named at once, and nothing is saved.
        expectFailure(try cli.run("models", "import", "--safetensors", "m.safetensors", "--name", "x",
                                  "--vocabulary", "v", "--modules", "a,b,c"), status: 1,
                      mentioning: ["do not fit", "missing a.weight", "b.weight_ih_l0", "unexpected decoder.bias",
                                   "embedding.weight"])
        expectFailure(try cli.run("models", "show", "x"), status: 1, mentioning: ["no model named 'x'"])
        expectFailure(try cli.run("models", "import", "--safetensors", "nope.safetensors", "--name", "x",
                                  "--vocabulary", "v"), status: 1, mentioning: ["nope.safetensors"])
        let junk = try cli.write("junk.safetensors", "not a safetensors file at all")
        expectFailure(try cli.run("models", "import", "--safetensors", junk, "--name", "x", "--vocabulary", "v"),
                      status: 1, mentioning: ["junk.safetensors"])
        expectFailure(try cli.run("models", "import", "--safetensors", "m.safetensors", "--name", "x",
                                  "--vocabulary", "nope"), status: 1, mentioning: ["nope"])
        expectFailure(try cli.run("models", "import", "--safetensors", "m.safetensors", "--name", "x",
                                  "--vocabulary", "v", "--modules", "a,b"), status: 64, mentioning: ["--modules"])
        expectFailure(try cli.run("models", "export", "nope", "--safetensors", "n.safetensors"), status: 1,
                      mentioning: ["no model named 'nope'"])
        #expect(!FileManager.default.fileExists(atPath: cli.directory.file("n.safetensors").path))
    }

    @Test func exportNamesAMissingFolderAndKeepsAnExistingFileWithoutForce() throws {
        let cli = try Self.trained()
        expectFailure(try cli.run("models", "export", "m", "--safetensors", "out/m.safetensors"), status: 1,
                      mentioning: ["--safetensors out/m.safetensors", "the folder out does not exist"])
        let path = try cli.write("m.safetensors", "precious")
        expectFailure(try cli.run("models", "export", "m", "--safetensors", path), status: 1,
                      mentioning: ["exists", "--force"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
        expectSuccess(try cli.run("models", "export", "m", "--safetensors", path, "--force"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count > 100)
    }

    @Test(arguments: [(["models"], ["list", "show", "delete", "export", "import"]),
                      (["models", "show"], ["--format", "--store"]),
                      (["models", "delete"], ["--store"]),
                      (["models", "export"], ["--safetensors", "--names", "--modules"]),
                      (["models", "import"], ["--safetensors", "--name", "--vocabulary", "--modules", "--replace"])])
    func helpNamesOptions(_ command: [String], _ mentions: [String]) throws {
        let result = try QuillCLI().run(command + ["--help"])
        expectSuccess(result)
        #expect(result.stdout.contains("Example"))
        for mention in mentions { #expect(result.stdout.contains(mention), "help lacks \(mention)") }
    }
}
