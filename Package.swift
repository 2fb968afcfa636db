// swift-tools-version:6.0
// Single Window Gateway: a batch EDI / file-drop gateway for an international trade single window.
import PackageDescription

let package = Package(
    name: "SingleWindowGateway",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "EDIFACT", targets: ["EDIFACT"]),
        .executable(name: "gateway", targets: ["gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // 2.13 for `withMetricsFactory`: tests read metrics through their own registry, no global bootstrap.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
        // The PostgreSQL store that several gateway nodes share (issue 8).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
    ],
    targets: [
        // ISO 9735 engine: standard library only, no I/O, no C.
        .target(name: "EDIFACT"),
        // Scheduler, job ledger, retries, reruns: knows nothing of EDIFACT.
        .target(
            name: "Jobs",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // One tiny system-library target per C library; see each shim.h for why it exists.
        .systemLibrary(name: "CLibSSH", pkgConfig: "libssh", providers: [.apt(["libssh-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CXMLSec", pkgConfig: "xmlsec1-openssl", providers: [.apt(["libxmlsec1-dev"])]),
        // Linux calls Swift's Glibc module leaves out (they need _GNU_SOURCE): see the header.
        .target(name: "CGatewaySys", linkerSettings: [.linkedLibrary("sqlite3")]),
        // Pickup, signatures, normalization, storage, routing, receipts: composes the above.
        .target(
            name: "Gateway",
            dependencies: [
                "EDIFACT", "Jobs", "CGatewaySys", "CLibSSH", "CArchive", "CLibXML2", "COpenSSL", "CXMLSec",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the library's bulk inserts (Store/RawInsert.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The operator's command: parses arguments and starts services, nothing more.
        .executableTarget(
            name: "gateway",
            dependencies: [
                "Gateway", "EDIFACT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // mimalloc (Debian's libmimalloc-dev) replaces glibc's malloc in the gateway process, for Swift, SQLite,
            // libxml2 and OpenSSL alike: a routed run allocates on several threads at once; with glibc's allocator it
            // ran 3 % more instructions (callgrind, 100 manifests) and took up to 1.1 times as long (alternated runs
            // of 1 000). Linked before libc, so it is the process's malloc from the first allocation; `gateway
            // version` says which allocator is in use.
            linkerSettings: [.linkedLibrary("mimalloc")]
        ),
        // libFuzzer target for the reader and validator. Build it with
        // `swift build --product EDIFACTFuzz --sanitize=fuzzer --sanitize=address -Xswiftc -parse-as-library`
        // (see scripts/fuzz.sh); a plain build makes a harmless stand-in binary.
        .executableTarget(name: "EDIFACTFuzz", dependencies: ["EDIFACT"]),
        // Throughput benchmark: `scripts/bench-edifact.sh` (release build, prints MB/s and peak RSS).
        // A seeded generator (the same sequence everywhere) for test data and benchmark files.
        .target(name: "SplitMix"),
        .executableTarget(name: "edifact-bench", dependencies: ["EDIFACT", "SplitMix"]),
        // Signature verification benchmark: `scripts/bench-signatures.sh` (files/s beside `openssl speed`).
        .executableTarget(name: "sig-bench", dependencies: ["Gateway", "COpenSSL"]),
        // SFTP transfer benchmark against the OpenSSH sftp client: `scripts/bench-sftp-transfer.sh`.
        .executableTarget(name: "sftp-bench", dependencies: ["Gateway"]),
        // Routing benchmark (issue 6): `scripts/bench-routing.sh` (realistic manifests dropped, filed and routed;
        // manifests/s and consignments/s beside the same files with routing off).
        .executableTarget(name: "route-bench", dependencies: ["Gateway", "EDIFACT", "SplitMix"]),
        // The job ledger across nodes on PostgreSQL (issue 8): `scripts/bench-ledger.sh`, and the multi-node kill test.
        .executableTarget(name: "ledger-bench", dependencies: ["Gateway", "Jobs"]),
        // Helpers shared by the test targets.
        .target(name: "TestSupport", dependencies: ["SplitMix"], path: "Tests/TestSupport"),
        .testTarget(name: "EDIFACTTests", dependencies: ["EDIFACT", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "EDIFACT", "Jobs", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            exclude: ["Golden", "Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
