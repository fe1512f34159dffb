import Foundation
import QuillTestSupport
import Testing

/// `quill serve` refuses what would expose or break a server before it starts; the API itself is tested over HTTP in
/// QuillServerTests.
struct ServeCommandTests {
    @Test func helpNamesTheOptions() throws {
        let result = try QuillCLI().run("serve", "--help")
        expectSuccess(result)
        for mention in ["--model", "--host", "--port", "--token", "--allow-anyone", "--allow-origin", "--max-sessions",
                        "--precision", "/v1/suggest", "Example"] {
            #expect(result.stdout.contains(mention), "help lacks \(mention)")
        }
    }

    @Test func anotherMachineNeedsATokenOrConsent() throws {
        expectFailure(try QuillCLI().run("serve", "--model", "m", "--host", "0.0.0.0"), status: 64,
                      mentioning: ["--token", "--allow-anyone"])
        expectFailure(try QuillCLI().run("serve"), status: 64, mentioning: ["--model"])
        expectFailure(try QuillCLI().run("serve", "--model", "m", "--port", "70000"), status: 64, mentioning: ["--port"])
    }

    @Test func anUnknownModelStopsItBeforeItListens() throws {
        let cli = try QuillCLI()
        expectSuccess(try cli.run("store", "init"))
        expectFailure(try cli.run("serve", "--model", "nope", "--port", "0"), status: 1, mentioning: ["nope"])
    }
}
