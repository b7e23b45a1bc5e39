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

/// Replays the requests of the real vCenter 7.0.3 capture (read from `../shared`, never copied
/// into the repository) against any server, substituting the server's own unique identifiers.
public struct VCenterReplay {
    struct Row {
        var session: String
        var direction: String
        var operations: String
        var bytes: [UInt8]
    }

    public struct Mismatch: Sendable, CustomStringConvertible {
        public var index: Int
        public var what: String
        public var description: String { "request \(self.index): \(self.what)" }
    }

    /// `../shared/kmip-vectors/derived/vmware-vcenter-7.0.3-wire.tsv` beside the package.
    public static let path: String = {
        URL(fileURLWithPath: Fixtures.packageRoot).deletingLastPathComponent()
            .appendingPathComponent("shared/kmip-vectors/derived/vmware-vcenter-7.0.3-wire.tsv").path
    }()

    public static var isAvailable: Bool { FileManager.default.fileExists(atPath: path) }

    static func rows() throws -> [Row] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst().map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Row(session: f[2], direction: f[3], operations: f[4], bytes: hexBytes(f[7]))
        }
    }

    static func hexBytes(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
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

    /// Replaces every Unique Identifier text value found in `map`.
    static func substitute(_ item: TTLVItem, _ map: [String: String]) -> TTLVItem {
        switch item.value {
        case .structure(let children): return TTLVItem(item.tag, .structure(children.map { substitute($0, map) }))
        case .textString(let text) where item.tag == .uniqueIdentifier: return TTLVItem(item.tag, .textString(map[text] ?? text))
        default: return item
        }
    }

    /// Sends every request in capture order through `send` and compares each response with the
    /// captured one: same operations and batch item IDs, success where the capture succeeded, and
    /// success too for the custom-attribute batches the captured server failed to parse; the
    /// payloads hold the same fields.
    public static func run(send: ([UInt8]) async throws -> [UInt8]) async throws -> (requests: Int, mismatches: [Mismatch]) {
        let rows = try rows()
        var map: [String: String] = [:]
        var mismatches: [Mismatch] = []
        var count = 0
        for (i, row) in rows.enumerated() where row.direction == "Request" {
            count += 1
            let request = substitute(try TTLVItem(parsing: row.bytes), map)
            let ours = try ResponseMessage(decoding: try await send(request.encoded()))
            guard let capturedRow = rows[(i + 1)...].first(where: { $0.direction == "Response" && $0.session == row.session }) else {
                continue
            }
            let captured = try ResponseMessage(decoding: capturedRow.bytes)
            let sent = try RequestMessage(decoding: request.encoded())
            if ours.header.protocolVersion != sent.header.protocolVersion {
                mismatches.append(Mismatch(index: count, what: "answered in \(ours.header.protocolVersion)"))
            }
            guard ours.batchItems.count == sent.batchItems.count else {
                mismatches.append(Mismatch(index: count, what: "\(ours.batchItems.count) items for \(sent.batchItems.count)"))
                continue
            }
            for (k, item) in ours.batchItems.enumerated() {
                let asked = sent.batchItems[k]
                if item.operation != asked.operation || item.uniqueBatchItemID != asked.uniqueBatchItemID {
                    mismatches.append(Mismatch(index: count, what: "item \(k) does not echo operation and batch item ID"))
                }
                if item.resultStatus != .success {
                    mismatches.append(Mismatch(index: count, what: "item \(k) \(asked.operation.name) failed: \(item.resultMessage ?? "")"))
                    continue
                }
                // The captured server's answer to the same item, when it had one.
                let capturedItem = captured.batchItems.count == sent.batchItems.count ? captured.batchItems[k] : nil
                if let capturedItem, capturedItem.resultStatus == .success,
                    let theirs = capturedItem.payload, let mine = item.payload
                {
                    let theirTags = Set(payloadTags(theirs)), myTags = Set(payloadTags(mine))
                    if theirTags != myTags {
                        mismatches.append(Mismatch(index: count, what: "item \(k) payload fields \(myTags.sorted()) vs captured \(theirTags.sorted())"))
                    }
                }
                if case .create(let created)? = item.payload, case .create(let theirs)? = capturedItem?.payload,
                    let old = theirs.uniqueIdentifier.text, let new = created.uniqueIdentifier.text
                {
                    map[old] = new
                }
            }
        }
        return (count, mismatches)
    }

    static func payloadTags(_ payload: ResponsePayload) -> [TTLVTag] {
        var encoder = KMIPEncoder(version: .v1_1)
        payload.encode(to: &encoder)
        guard let item = try? TTLVItem(parsing: encoder.bytes) else { return [] }
        return item.children.map(\.tag)
    }
}
