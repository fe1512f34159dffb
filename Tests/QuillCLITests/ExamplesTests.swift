import Foundation
import QuillTestSupport
import Testing

/// The example scripts run as documented, so they do not rot.
@Suite struct ExamplesTests {
    @Test func tokenizePipelineScriptRuns() throws {
        let cli = try QuillCLI()
        let script = TestSupport.packageRoot.appendingPathComponent("examples/tokenize-pipeline.sh")
        let result = try TestSupport.run(URL(fileURLWithPath: "/bin/bash"), [script.path],
                                         environment: ["QUILL": cli.binary.path], in: TestSupport.packageRoot)
        expectSuccess(result)
        #expect(result.stdout.contains("\\sthe"))
        #expect(result.stdout.contains("{\"line\":2,\"tokens\":[\"the\",\" old\",\" fisherman\""))
        #expect(result.stdout.contains("# quill-vocabulary 1"))
    }

    @Test func autocompletePipelineScriptRuns() throws {
        let cli = try QuillCLI()
        let script = TestSupport.packageRoot.appendingPathComponent("examples/autocomplete-pipeline.sh")
        let result = try TestSupport.run(URL(fileURLWithPath: "/bin/bash"), [script.path],
                                         environment: ["QUILL": cli.binary.path, "HIDDEN": "16", "EPOCHS": "1"],
                                         in: TestSupport.packageRoot)
        expectSuccess(result)
        #expect(result.stdout.contains("saved n-gram model '4gram': order 4"))
        #expect(result.stdout.contains("{\"continuation\":"), "complete's JSON Lines")
        #expect(result.stdout.contains("\"perplexity\":"), "predict's score")
        #expect(result.stdout.contains("mixed with n-gram model 4gram (share 0.35)"))
    }
}
