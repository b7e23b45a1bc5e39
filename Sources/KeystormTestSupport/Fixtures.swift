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

import Foundation

/// Locates test fixtures relative to this source file, as swift-crypto's Wycheproof loader does,
/// instead of through SwiftPM resources.
public enum Fixtures {
    /// The package root: three levels above `Sources/KeystormTestSupport/Fixtures.swift`.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Tests/Fixtures/oasis`: the OASIS and OVH KMIP XML test cases (see its NOTICE.md).
    public static var oasisDirectory: String {
        Self.packageRoot + "/Tests/Fixtures/oasis"
    }

    /// `../shared/kmip-vectors` next to the package, or `nil` when that checkout is absent.
    public static var sharedVectorsDirectory: String? {
        let url = URL(fileURLWithPath: Self.packageRoot).deletingLastPathComponent()
            .appendingPathComponent("shared/kmip-vectors")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        return url.path
    }

    /// The paths, relative to `directory`, of every file below it whose name ends in
    /// `suffix`, sorted.
    public static func files(under directory: String, withSuffix suffix: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let path = enumerator.nextObject() as? String {
            if path.hasSuffix(suffix) { files.append(path) }
        }
        return files.sorted()
    }
}
