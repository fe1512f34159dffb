// swift-tools-version:6.0
// libFuzzer harnesses over Quill's parsers and decoders, a package of their own so that the fuzzer's instrumentation
// never enters Quill's default build. Build and run them with scripts/fuzz.sh (docs/reliability.md), which passes
// `--sanitize=fuzzer --sanitize=address`: every module, Quill's included, is instrumented for coverage and ASan.
//
// Quill is this repository, one folder up; a path dependency's identity is its folder's name, so it is computed.
import Foundation
import PackageDescription

let quillRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let quill = quillRoot.lastPathComponent.lowercased()

/// One executable per harness: `fuzz-<name>`, defining `LLVMFuzzerTestOneInput`; libFuzzer supplies `main`.
func harness(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: "fuzz-\(name)",
                      dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: quill) })
}

let package = Package(
    name: "quill-fuzz",
    dependencies: [.package(path: quillRoot.path)],
    targets: [
        .target(name: "FuzzSupport"),
        harness("utf8", ["Quill"]),
        harness("tokenizer", ["Quill"]),
        harness("safetensors", ["Quill"]),
        harness("vocabulary-file", ["Quill"]),
        harness("store", ["Quill"]),
        harness("keys", ["QuillTerminal"]),
    ]
)
