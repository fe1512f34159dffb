// swift-tools-version:6.0
// A package that depends on Quill, as any other package would. Elsewhere you would write
//   .package(url: "https://…/quill.git", from: "0.1.0")   and   .product(name: "Quill", package: "quill")
// Here Quill is this repository, two folders up; a path dependency's identity is its folder's name, which depends
// on where the repository was cloned, so it is computed.
import Foundation
import PackageDescription

let quillRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let package = Package(
    name: "feedforward",
    dependencies: [.package(path: quillRoot.path)],
    targets: [
        .executableTarget(name: "feedforward", dependencies: [
            .product(name: "Quill", package: quillRoot.lastPathComponent.lowercased()),
        ]),
    ]
)
