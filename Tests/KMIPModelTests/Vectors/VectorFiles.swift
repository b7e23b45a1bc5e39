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
import KMIPModel
import Testing

/// Reads the shared vectors beside the package: `../shared/kmip-vectors/derived`.
enum VectorFiles {
    static let derived: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/kmip-vectors/derived")

    /// The data rows of a TSV file, or `nil` when the file is absent. Comment lines are dropped,
    /// and so is the first remaining line when `hasHeader` (a column header that is not a comment).
    static func rows(_ name: String, hasHeader: Bool) throws -> [[String]]? {
        let url = derived.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst(hasHeader ? 1 : 0).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    static func hex(_ s: some StringProtocol) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count / 2)
        var high: UInt8?
        for c in s.utf8 {
            guard let v = UInt8(String(UnicodeScalar(c)), radix: 16) else { continue }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }
}

/// The result of decoding a whole message into the typed model and encoding it again.
struct RoundTrip {
    var reEncoded: [UInt8]
    var operations: [KMIPModel.Operation?]
    /// Payloads that stayed raw although their operation is modelled.
    var untypedModelledPayloads: Int

    static let modelled: Set<KMIPModel.Operation> = [
        .discoverVersions, .query, .create, .register, .get, .getAttributes, .getAttributeList, .addAttribute,
        .modifyAttribute, .deleteAttribute, .setAttribute, .locate, .activate, .revoke, .destroy, .reKey, .check,
    ]

    /// Decodes `bytes` as a request or response (by the outer tag) and re-encodes it.
    static func run(_ bytes: [UInt8], mode: TTLVParsingMode = .strict) throws -> RoundTrip {
        let document = try TTLV.parse(bytes, mode: mode)
        switch document.nodes[0].tag {
        case .requestMessage:
            let message = try RequestMessage(decoding: bytes, mode: mode)
            let raw = message.batchItems.filter {
                if case .other = $0.payload { return modelled.contains($0.operation) }
                return false
            }.count
            return RoundTrip(reEncoded: message.encoded(), operations: message.batchItems.map(\.operation), untypedModelledPayloads: raw)
        case .responseMessage:
            let message = try ResponseMessage(decoding: bytes, mode: mode)
            let raw = message.batchItems.filter {
                guard $0.resultStatus == .success, let op = $0.operation, case .other? = $0.payload else { return false }
                return modelled.contains(op)
            }.count
            return RoundTrip(reEncoded: message.encoded(), operations: message.batchItems.map(\.operation), untypedModelledPayloads: raw)
        default:
            throw TTLVError(.unexpectedField, offset: 0, reason: "not a KMIP message")
        }
    }
}
