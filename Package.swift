// swift-tools-version:6.0
// Quill: a Swift toolkit for modelling text as sequences.
// No unsafeFlags anywhere, so other packages can depend on Quill.
import PackageDescription

// `QUILL_MPI=1` adds the MPI layer (Open MPI from the system: libopenmpi-dev), its check program, and MPI to `quill`
// (data-parallel training and sharded prediction under mpirun); without it neither the library nor the command line
// needs MPI. scripts/build-mpi.sh builds it (docs/scale-out.md).
let withMPI = Context.environment["QUILL_MPI"] == "1"

let package = Package(
    name: "Quill",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Quill", targets: ["Quill"]),
        .executable(name: "quill", targets: ["quill"]),
        // The REPL's key decoding, a product of its own so that the fuzz harnesses (fuzz/) can import it.
        .library(name: "QuillTerminal", targets: ["QuillTerminal"]),
    ] + (withMPI ? [.executable(name: "quill-mpi-check", targets: ["quill-mpi-check"])] : []),
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // ICU4C from the system, and a C shim whose header exposes only plain C types: a Swift file that sees both
        // Foundation and raw ICU headers does not compile (Foundation bundles its own, different, ICU).
        .systemLibrary(name: "ICU4C", pkgConfig: "icu-uc", providers: [.apt(["libicu-dev"])]),
        .target(name: "CICU", dependencies: ["ICU4C"]),
        // SQLite from the system, called through its C API (see docs/store.md for why not an ORM).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Kernels in C: function-level `target` attributes give AVX-512 / AVX2+FMA / NEON variants chosen at run
        // time, without unsafeFlags (see docs/kernels.md).
        .target(name: "CQuillKernels"),
        .target(name: "QuillTensor", dependencies: ["CQuillKernels"]),

        .target(name: "QuillNN", dependencies: ["QuillTensor"]),
        // File formats: safetensors reading and writing, PyTorch's state_dict names (layers know nothing of files).
        .target(name: "QuillFormats", dependencies: ["QuillNN", "QuillTensor"]),

        .target(name: "QuillText", dependencies: ["CICU"]),
        // CQuillKernels for CRC32C, the checksum of every stored tensor and vocabulary.
        .target(name: "QuillStore", dependencies: ["QuillText", "CSQLite", "CQuillKernels"]),
        .target(name: "QuillTrain", dependencies: ["QuillNN", "QuillText"]),
        // Counts only: an n-gram model, the baseline and a prior mixed into a recurrent model's suggestions.
        .target(name: "QuillNGram"),
        .target(name: "QuillDecode", dependencies: ["QuillNN", "QuillText", "QuillTensor", "QuillNGram"]),
        // BLEU, chrF and chrF++ exactly as sacreBLEU 2.6 computes them; Foundation only (see docs/metrics.md).
        .target(name: "QuillMetrics"),
        .target(name: "Quill", dependencies: ["QuillText", "QuillStore", "QuillNN", "QuillFormats", "QuillTrain",
                                              "QuillDecode", "QuillTensor", "QuillNGram", "QuillMetrics"]),

        // `quill serve`: the HTTP API over the library, in a module of its own so that `Quill` has no networking.
        .target(name: "QuillServer", dependencies: [
            "Quill", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // Bytes from a terminal in raw mode → key presses and pastes; no I/O, so it can be tested and fuzzed alone.
        .target(name: "QuillTerminal"),
        .executableTarget(name: "quill", dependencies: [
            "Quill", "QuillServer", "QuillTerminal", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ] + (withMPI ? ["QuillMPI"] : [])),
        // The benchmarks also call CICU directly, to time ICU alone as the peer of Quill's tokenizer.
        .executableTarget(name: "quill-bench", dependencies: [
            "Quill", "QuillNN", "QuillTensor", "CICU", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "QuillTestSupport", path: "Tests/QuillTestSupport"),
        .testTarget(name: "QuillTensorTests", dependencies: ["QuillTensor", "QuillTestSupport"]),
        // The parity tests read PyTorch's numbers from safetensors files (Tests/Fixtures).
        .testTarget(name: "QuillNNTests", dependencies: ["QuillNN", "QuillFormats", "QuillTestSupport"]),
        .testTarget(name: "QuillFormatsTests", dependencies: ["QuillFormats", "QuillTestSupport"]),
        .testTarget(name: "QuillTrainTests", dependencies: ["QuillTrain", "QuillTestSupport"]),
        .testTarget(name: "QuillDecodeTests", dependencies: ["QuillDecode", "QuillTestSupport"]),
        .testTarget(name: "QuillNGramTests", dependencies: ["QuillNGram", "QuillTestSupport"]),
        .testTarget(name: "QuillTextTests", dependencies: ["QuillText", "QuillTestSupport"]),
        // The sacreBLEU exactness test reads sacreBLEU's own scores from Tests/Fixtures/sacrebleu-multi30k-val.json.
        .testTarget(name: "QuillMetricsTests", dependencies: ["QuillMetrics", "QuillTestSupport"]),
        .testTarget(name: "QuillStoreTests", dependencies: ["QuillStore", "CQuillKernels", "QuillTestSupport"]),
        .testTarget(name: "QuillTests", dependencies: ["Quill", "QuillTestSupport"]),
        // Starts the server on a free loopback port and talks to it over HTTP.
        .testTarget(name: "QuillServerTests", dependencies: ["QuillServer", "Quill", "QuillTestSupport"]),
        // Depends on the executable so `swift test` builds it; most tests run the built binary, a few test its
        // terminal UI directly.
        .testTarget(name: "QuillCLITests", dependencies: ["quill", "QuillTerminal", "QuillTestSupport"]),
    ] + (withMPI ? [
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // MPI as QuillTrain's ProcessGroup: `quill` built with it runs as N ranks under mpirun.
        .target(name: "QuillMPI", dependencies: ["CMPI", "QuillTrain"]),
        .executableTarget(name: "quill-mpi-check", dependencies: ["QuillMPI"]),
    ] : [])
)
