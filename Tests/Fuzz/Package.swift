// swift-tools-version:5.4
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

// libFuzzer targets for Keystorm. Build them with the sanitizers (see run.sh):
//   swift build -c release --scratch-path .build-fuzz \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// A separate package so that the main build never links libFuzzer. Tools version 5.4, the last
// before SwiftPM renames an executable's `main` (which would hide libFuzzer's own `main`).

import PackageDescription

let package = Package(
    name: "keystorm-fuzz",
    platforms: [.macOS(.v11)],
    dependencies: [
        .package(name: "Keystorm", path: "../..")
    ],
    targets: [
        // The TTLV parser (strict and lenient), the framer and the typed model decoder.
        .executableTarget(
            name: "FuzzTTLV",
            dependencies: [
                .product(name: "KMIPCodec", package: "Keystorm"),
                .product(name: "KMIPModel", package: "Keystorm"),
            ]
        ),
        // The whole request path: bytes into the batch executor of an in-process server with a
        // real SQLite store, Local root keys and audit log, as an authenticated client sends them.
        // With KEYSTORM_FUZZ_WRITE_CORPUS=DIR it writes the seed corpus instead: the OASIS test
        // cases of Tests/Fixtures/oasis and the hex vectors of ../shared/kmip-vectors/derived.
        .executableTarget(
            name: "FuzzServer",
            dependencies: [
                .product(name: "KMIPCodec", package: "Keystorm"),
                .product(name: "KMIPModel", package: "Keystorm"),
                .product(name: "KMIPServer", package: "Keystorm"),
                .product(name: "KeystormTestSupport", package: "Keystorm"),
            ]
        ),
    ]
)
