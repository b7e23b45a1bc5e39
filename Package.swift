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
        .library(name: "IOReactor", targets: ["IOReactor"]),
    ],
    dependencies: [],
    targets: [
        // TTLV wire format: no dependencies, no Foundation, no I/O.
        .target(name: "KMIPCodec", dependencies: [], swiftSettings: swiftSettings),
        .testTarget(name: "KMIPCodecTests", dependencies: ["KMIPCodec"], swiftSettings: swiftSettings),
        // Thin C shim over the system liburing and OpenSSL (libssl-dev). No _GNU_SOURCE here: see shim.c.
        .target(
            name: "CKeystorm",
            linkerSettings: [.linkedLibrary("uring"), .linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // io_uring / epoll event loops and OpenSSL mutual TLS. Bytes only: imports no KMIP* target.
        .target(name: "IOReactor", dependencies: ["CKeystorm"], swiftSettings: swiftSettings),
        .testTarget(name: "IOReactorTests", dependencies: ["IOReactor", "CKeystorm"], swiftSettings: swiftSettings),
        // Request/response server used only by Tuning/scripts/reactor-bench.sh.
        .executableTarget(name: "reactor-bench-server", dependencies: ["IOReactor"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
