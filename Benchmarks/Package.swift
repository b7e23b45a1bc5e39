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

let package = Package(
    name: "benchmarks",
    platforms: [
        .macOS(.v13)
    ],
    dependencies: [
        // Named so that the products below resolve whatever the checkout's folder is called.
        .package(name: "Keystorm", path: "..", traits: []),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "KMIPCodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "KMIPCodec", package: "Keystorm"),
                .product(name: "KMIPModel", package: "Keystorm"),
            ],
            path: "Benchmarks/KMIPCodecBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        // The key cache's hit path (KeyAccess.unwrap of a cached key) and insert/evict churn.
        .executableTarget(
            name: "KeyCacheBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RootKeys", package: "Keystorm"),
            ],
            path: "Benchmarks/KeyCacheBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        // Misses through the unwrap batcher to the Local root-key service; single flight.
        .executableTarget(
            name: "UnwrapBatcherBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RootKeys", package: "Keystorm"),
                .product(name: "KeystormTestSupport", package: "Keystorm"),
            ],
            path: "Benchmarks/UnwrapBatcherBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        // SQLiteKeyStore: object lookup by unique identifier, inserts with group commit.
        .executableTarget(
            name: "KeyStoreBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "KeyStore", package: "Keystorm"),
            ],
            path: "Benchmarks/KeyStoreBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        // A KMIP Get from request bytes to response bytes: SQLite, Local root keys, key cache, audit log.
        .executableTarget(
            name: "EndToEndBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "KMIPCodec", package: "Keystorm"),
                .product(name: "KMIPModel", package: "Keystorm"),
                .product(name: "KMIPServer", package: "Keystorm"),
                .product(name: "RootKeys", package: "Keystorm"),
                .product(name: "KeystormTestSupport", package: "Keystorm"),
            ],
            path: "Benchmarks/EndToEndBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        // Temporary directories for the benchmarks' setup and teardown.
        .target(name: "BenchmarkSupport", path: "Sources/BenchmarkSupport"),
    ],
    swiftLanguageModes: [.v6]
)
