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
import KMIPCodec
import Testing

/// Bytes from a hex string; whitespace is ignored.
func hex(_ s: some StringProtocol) -> [UInt8] {
    var out: [UInt8] = []
    var high: UInt8?
    for c in s.utf8 {
        let v: UInt8
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
        default: continue
        }
        if let h = high {
            out.append(h << 4 | v)
            high = nil
        } else {
            high = v
        }
    }
    return out
}

/// `../shared/kmip-vectors/derived` beside the package root, found from this file's path.
func derivedVectorsDirectory(file: String = #filePath) -> URL {
    URL(fileURLWithPath: file)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("shared/kmip-vectors/derived")
}

/// The data rows of a tab-separated vectors file (comment lines and the header dropped).
func tsvRows(_ name: String) throws -> [[Substring]] {
    let text = try String(contentsOf: derivedVectorsDirectory().appendingPathComponent(name), encoding: .utf8)
    return text.split(separator: "\n").dropFirst(0).filter { !$0.hasPrefix("#") }.dropFirst().map {
        $0.split(separator: "\t", omittingEmptySubsequences: false)
    }
}

/// Expects `body` to throw a ``TTLVError`` with `code`.
func expectTTLVError<R>(
    _ code: TTLVError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) {
    do {
        _ = try body()
        Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as TTLVError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
