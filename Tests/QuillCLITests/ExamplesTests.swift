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
}
