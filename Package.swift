// swift-tools-version:6.1
//===----------------------------------------------------------------------===//
//
// This source file is part of the Keystorm open source project
//
// Copyright (c) 2026 the Keystorm project authors
// Licensed under Apache License v2.0
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Keystorm",
    products: [
        .library(name: "KMIPCodec", targets: ["KMIPCodec"]),
        .library(name: "KMIPModel", targets: ["KMIPModel"]),
        .library(name: "IOReactor", targets: ["IOReactor"]),
        // For Benchmarks/ (a separate package that depends on this one by path).
        .library(name: "KeyStore", targets: ["KeyStore"]),
        .library(name: "RootKeys", targets: ["RootKeys"]),
        .library(name: "KMIPServer", targets: ["KMIPServer"]),
        .library(name: "KeystormTestSupport", targets: ["KeystormTestSupport"]),
    ],
    traits: [
        .trait(
            name: "PostgreSQL",
            description: "The PostgreSQL key store (postgres-nio), for several nodes sharing one database."
        ),
        .default(enabledTraits: ["PostgreSQL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // TTLV wire format: no dependencies, no Foundation, no I/O.
        .target(name: "KMIPCodec", dependencies: [], swiftSettings: swiftSettings),
        // Typed KMIP 1.0-1.4 and 2.0-2.1 messages, attributes, objects and operation payloads.
        .target(name: "KMIPModel", dependencies: ["KMIPCodec"], swiftSettings: swiftSettings),
        // Tenants, client rules and managed objects (key material only wrapped); SQLite and PostgreSQL.
        .target(
            name: "KeyStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Root-key services (Local, Key Protect, PKCS#11), unwrap batching and the key cache. No KMIP.
        .target(
            name: "RootKeys",
            dependencies: [
                "CKeystormCrypto",
                "CKeystormPKCS11",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // OpenSSL's libcrypto (EVP, RAND, ERR) for RootKeys; imported internally, never re-exported.
        .systemLibrary(name: "CKeystormCrypto", providers: [.apt(["libssl-dev"])]),
        // PKCS#11 declarations from p11-kit's header (no library: the module is dlopen'ed); RootKeys only.
        .systemLibrary(name: "CKeystormPKCS11", providers: [.apt(["libp11-kit-dev"])]),
        // The provider contract runs against the Key Protect emulator too: SwiftPM builds it first.
        .testTarget(
            name: "RootKeysTests",
            dependencies: [
                "RootKeys", "KeystormTestSupport", "KeyProtectEmulator",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The KMIP server: batches, operations, authorization, audit. Sees no transport.
        .target(
            name: "KMIPServer",
            dependencies: [
                "KMIPCodec", "KMIPModel", "KeyStore", "RootKeys", .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KMIPServerTests",
            dependencies: [
                "KMIPServer", "KMIPModel", "KMIPCodec", "KeyStore", "RootKeys", "KeystormTestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The server and operator commands: the composition root, the only target that sees both
        // the transport and the KMIP server.
        .executableTarget(
            name: "keystorm",
            dependencies: [
                "IOReactor", "KMIPServer", "KMIPModel", "KMIPCodec", "KeyStore", "RootKeys", "KeystormPKI", "KeystormControl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "AdminHTTP",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "KMIPCodecTests", dependencies: ["KMIPCodec"], swiftSettings: swiftSettings),
        .testTarget(
            name: "KeyStoreTests",
            dependencies: [
                "KeyStore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
            ],
            swiftSettings: swiftSettings
        ),
        // Child processes for tests and benchmarks (openssl, the emulator, keystorm serve) with
        // posix_spawn: Foundation's Process.run() can crash a process holding many descriptors.
        .target(name: "KeystormSpawn", swiftSettings: swiftSettings),
        .testTarget(name: "KeystormSpawnTests", dependencies: ["KeystormSpawn"], swiftSettings: swiftSettings),
        // Test helpers shared by the test targets: KMIP XML test-vector conversion, fixture paths.
        .target(
            name: "KeystormTestSupport",
            dependencies: ["KMIPCodec", "KMIPModel", "KMIPServer", "KeyStore", "RootKeys", "KeystormSpawn"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KMIPModelTests",
            dependencies: ["KMIPModel", "KMIPCodec", "KeystormTestSupport", "KeystormSpawn"],
            swiftSettings: swiftSettings
        ),
        // X.509 for the four vCenter trust modes: Keystorm's CAs, server and client certificates, CSR signing.
        .target(
            name: "KeystormPKI",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KeystormPKITests",
            dependencies: ["KeystormPKI", "KeystormSpawn"],
            swiftSettings: swiftSettings
        ),
        // Thin C shim over the system liburing and OpenSSL (libssl-dev). No _GNU_SOURCE here: see shim.c.
        .target(
            name: "CKeystorm",
            linkerSettings: [.linkedLibrary("uring"), .linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // io_uring / epoll event loops and OpenSSL mutual TLS. Bytes only: imports no KMIP* target.
        .target(name: "IOReactor", dependencies: ["CKeystorm"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IOReactorTests",
            dependencies: ["IOReactor", "CKeystorm", "KeystormSpawn"],
            swiftSettings: swiftSettings
        ),
        // The live server: the built `keystorm` binary over mutual TLS (vCenter replay, OASIS,
        // PyKMIP, tenants, kill -9). Depends on the executable so that SwiftPM builds it first.
        .testTarget(
            name: "KeystormIntegrationTests",
            dependencies: [
                "keystorm", "keystorm-load", "KeyProtectEmulator", "KeystormTestSupport", "KeystormSpawn", "KMIPModel",
                "KMIPCodec", "CKeystorm", "RootKeys",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // An emulator of IBM Key Protect's REST API (IAM tokens, root keys, wrap/unwrap/rewrap/rotate)
        // with fault injection, for the Key Protect client's tests and the boot-storm benchmark.
        .executableTarget(
            name: "KeyProtectEmulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The emulator over real HTTP. Depends on the executable so that SwiftPM builds it first.
        .testTarget(
            name: "KeyProtectEmulatorTests",
            dependencies: ["KeyProtectEmulator", "KeystormTestSupport", "KeystormSpawn"],
            swiftSettings: swiftSettings
        ),
        // The Key Protect root-key provider against the emulator over real HTTP (the emulator is
        // a dependency so that SwiftPM builds it first).
        .testTarget(
            name: "KeyProtectTests",
            dependencies: ["RootKeys", "KeystormTestSupport", "KeystormSpawn", "KeyProtectEmulator"],
            swiftSettings: swiftSettings
        ),
        // The control plane: tenants, client rules, client certificates, keys admin and root-key
        // lifecycle, with one typed error. Used by the admin API and the CLI; never by KMIPServer.
        .target(
            name: "KeystormControl",
            dependencies: ["KeyStore", "RootKeys", "KMIPServer", "KMIPModel", "KeystormPKI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KeystormControlTests",
            dependencies: [
                "KeystormControl", "KeyStore", "RootKeys", "KMIPServer", "KMIPModel", "KMIPCodec", "KeystormPKI",
                "KeystormSpawn",
            ],
            swiftSettings: swiftSettings
        ),
        // The admin HTTP listener: /metrics, /healthz, /readyz and the token-protected /v1 admin API.
        // Sees neither the transport nor the KMIP server: it talks to the control plane.
        .target(
            name: "AdminHTTP",
            dependencies: [
                "KeystormControl", "KeyStore", "RootKeys",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdminHTTPTests",
            dependencies: [
                "AdminHTTP", "KeystormControl", "KeyStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // Boot-storm load tool for any KMIP server: its own KMIP-over-TLS client (SwiftNIO + NIOSSL),
        // HdrHistogram latencies, JSON/Markdown/SVG reports.
        .executableTarget(
            name: "keystorm-load",
            dependencies: [
                "KMIPModel", "KMIPCodec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KeystormLoadTests",
            dependencies: ["keystorm-load", .product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: swiftSettings
        ),
        // Request/response server used only by Tuning/scripts/reactor-bench.sh.
        .executableTarget(name: "reactor-bench-server", dependencies: ["IOReactor"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
