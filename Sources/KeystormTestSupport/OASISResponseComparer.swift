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

/// An expected item with the rule for comparing it.
indirect enum Expectation {
    /// Equal value.
    case exact(TTLVValue)
    /// Any value of the type.
    case anyValue(TTLVType)
    /// A byte string of this length.
    case length(Int)
    /// A date within the tolerance of this one.
    case time(Int64)
    /// A structure; `unordered` compares the children as a multiset; `ignored` tags are dropped
    /// from both sides; `repeatedAsSet` compares runs of these tags as multisets.
    case structure([ExpectedItem], ignored: Set<TTLVTag>, unordered: Bool)
}

struct ExpectedItem {
    var tag: TTLVTag
    var expectation: Expectation
}

struct Difference {
    var path: String
    var detail: String
    var actualReason: ResultReason?
}

struct ResponseComparer {
    let expected: KMIPXMLMessage
    let request: TTLVItem
    let state: RunState
    let tolerance: Int64

    /// Fields a repeated run of which is compared as a multiset: the spec does not fix their order.
    static let repeatedAsSet: Set<TTLVTag> = [
        .uniqueIdentifier, .attribute, .attributeName, .attributeReference, .name, .link, .objectGroup,
        .applicationSpecificInformation, .alternativeName, .digest,
    ]

    /// What a Query response says about the reference server rather than the protocol.
    static let queryDescriptions: Set<TTLVTag> = [
        .operation, .objectType, .serverInformation, .extensionInformation, .applicationNamespace,
        .profileInformation, .capabilityInformation, .validationInformation, .rngParameters, .attestationType,
        .clientRegistrationMethod, .defaultsInformation, .protectionStorageMasks,
    ]

    /// Byte strings that a server generates.
    static let materialTags: Set<TTLVTag> = [.keyMaterial, .key, .digestValue]

    func compare(_ actual: TTLVItem) -> Difference? {
        let expected = self.expected.item
        guard actual.tag == .responseMessage else {
            return Difference(path: "", detail: "the response is a \(Self.name(actual.tag)), not a Response Message")
        }
        // Header: Protocol Version and Batch Count.
        guard let header = actual.child(.responseHeader), let expectedHeader = expected.child(.responseHeader) else {
            return Difference(path: "ResponseHeader", detail: "missing")
        }
        for tag in [TTLVTag.protocolVersion, .batchCount] {
            guard let want = expectedHeader.child(tag) else { continue }
            guard let have = header.child(tag) else { return Difference(path: "ResponseHeader/\(Self.name(tag))", detail: "missing") }
            if have != want {
                return Difference(path: "ResponseHeader/\(Self.name(tag))", detail: "expected \(Self.show(want)), got \(Self.show(have))")
            }
        }
        let wantItems = expected.children.filter { $0.tag == .batchItem }
        let haveItems = actual.children.filter { $0.tag == .batchItem }
        guard wantItems.count == haveItems.count else {
            return Difference(path: "BatchItem", detail: "expected \(wantItems.count) batch items, got \(haveItems.count)")
        }
        var occurrence = 0
        for (want, have) in zip(wantItems, haveItems) {
            if let difference = self.compareBatchItem(want, have, occurrence: occurrence) { return difference }
            occurrence += 1
        }
        return nil
    }

    func compareBatchItem(_ want: TTLVItem, _ have: TTLVItem, occurrence: Int) -> Difference? {
        let path = "BatchItem" + (occurrence > 0 ? "[\(occurrence)]" : "")
        var actualReason: ResultReason?
        if case .enumeration(let raw)? = have.child(.resultReason)?.value { actualReason = ResultReason(rawValue: raw) }
        let ourMessage = have.child(.resultMessage).map { " (\(Self.show($0)))" } ?? ""
        for tag in [TTLVTag.operation, .uniqueBatchItemID, .resultStatus, .resultReason] {
            let wanted = want.child(tag)
            let had = have.child(tag)
            if wanted != had {
                let detail: String
                switch (wanted, had) {
                case (let w?, let h?): detail = "expected \(Self.show(w)), got \(Self.show(h))\(ourMessage)"
                case (let w?, nil): detail = "expected \(Self.show(w)), got none\(ourMessage)"
                case (nil, let h?): detail = "expected none, got \(Self.show(h))\(ourMessage)"
                case (nil, nil): continue
                }
                return Difference(path: path + "/" + Self.name(tag), detail: detail, actualReason: actualReason)
            }
        }
        guard case .enumeration(let status)? = want.child(.resultStatus)?.value, ResultStatus(rawValue: status) == .success else {
            return nil
        }
        let wantPayload = want.child(.responsePayload) ?? TTLVItem(.responsePayload, .structure([]))
        let havePayload = have.child(.responsePayload) ?? TTLVItem(.responsePayload, .structure([]))
        var operation: KMIPModel.Operation?
        if case .enumeration(let raw)? = want.child(.operation)?.value { operation = KMIPModel.Operation(rawValue: raw) }
        if operation == .discoverVersions,
            let sent = self.request.children.filter({ $0.tag == .batchItem }).dropFirst(occurrence).first,
            sent.child(.requestPayload)?.child(.protocolVersion) == nil
        {
            // Asked for every version: the expected list is the reference server's; ours must hold
            // it in the same order (and may offer more).
            let wanted = wantPayload.children.filter { $0.tag == .protocolVersion }
            var offered = havePayload.children.filter { $0.tag == .protocolVersion }[...]
            for version in wanted {
                guard let found = offered.firstIndex(of: version) else {
                    return Difference(path: path + "/ResponsePayload/ProtocolVersion", detail: "\(Self.show(version)) missing or out of order in \(Self.show(havePayload))")
                }
                offered = offered[(found + 1)...]
            }
            return nil
        }
        var strictMaterial = false
        if case .textString(let uid)? = havePayload.child(.uniqueIdentifier)?.value { strictMaterial = self.state.registered.contains(uid) }
        let payloadPath = [
            KMIPXMLPathComponent(tag: .batchItem, occurrence: occurrence), KMIPXMLPathComponent(tag: .responsePayload, occurrence: 0),
        ]
        let expectation = self.expectation(
            for: wantPayload,
            path: payloadPath,
            operation: operation,
            strictMaterial: strictMaterial
        )
        if var difference = self.match(expectation, tag: .responsePayload, have: havePayload, path: path + "/ResponsePayload") {
            difference.actualReason = actualReason
            return difference
        }
        return nil
    }

    /// Builds the comparison rule for an expected item.
    func expectation(
        for item: TTLVItem,
        path: [KMIPXMLPathComponent],
        operation: KMIPModel.Operation?,
        strictMaterial: Bool
    ) -> Expectation {
        if let placeholder = self.expected.placeholders.first(where: { $0.path == path }) {
            if placeholder.isTime, case .dateTime(let time) = item.value { return .time(time) }
            if !placeholder.wasSubstituted { return .anyValue(item.type) }
            return .exact(item.value)
        }
        if item.tag == .randomNumberGenerator || (item.tag == .attributeValue && Self.isReferenceDescription(path, in: self.expected.item)) {
            // Which generator made a key describes the reference server.
            return .anyValue(item.type)
        }
        switch item.value {
        case .structure(let children):
            var ignored: Set<TTLVTag> = [.resultMessage]
            if item.tag == .responsePayload && operation == .query { ignored.formUnion(Self.queryDescriptions) }
            var occurrences: [TTLVTag: Int] = [:]
            var expected: [ExpectedItem] = []
            for child in children {
                // Occurrences count every child, as the placeholder paths do.
                let n = occurrences[child.tag, default: 0]
                occurrences[child.tag] = n + 1
                if ignored.contains(child.tag) || Self.isServerPolicy(child) { continue }
                let childPath = path + [KMIPXMLPathComponent(tag: child.tag, occurrence: n)]
                expected.append(
                    ExpectedItem(
                        tag: child.tag,
                        expectation: self.expectation(for: child, path: childPath, operation: operation, strictMaterial: strictMaterial)
                    )
                )
            }
            return .structure(expected, ignored: ignored, unordered: item.tag == .attributes)
        case .dateTime(let date):
            return self.state.requestDates.contains(date) ? .exact(item.value) : .anyValue(.dateTime)
        case .textString:
            if item.tag == .uniqueIdentifier || item.tag == .vendorIdentification { return .anyValue(.textString) }
            return .exact(item.value)
        case .byteString(let bytes):
            if Self.materialTags.contains(item.tag) && !strictMaterial { return .length(bytes.count) }
            return .exact(item.value)
        default:
            return .exact(item.value)
        }
    }

    func match(_ expectation: Expectation, tag: TTLVTag, have: TTLVItem, path: String) -> Difference? {
        switch expectation {
        case .exact(let value):
            if value != have.value { return Difference(path: path, detail: "expected \(Self.show(TTLVItem(tag, value))), got \(Self.show(have))") }
        case .anyValue(let type):
            if have.type != type { return Difference(path: path, detail: "expected a \(type.xmlName), got \(Self.show(have))") }
        case .length(let count):
            guard case .byteString(let bytes) = have.value, bytes.count == count else {
                return Difference(path: path, detail: "expected \(count) bytes, got \(Self.show(have))")
            }
        case .time(let time):
            guard case .dateTime(let got) = have.value, abs(got - time) <= self.tolerance else {
                return Difference(path: path, detail: "expected \(Self.date(time)) ± \(self.tolerance) s, got \(Self.show(have))")
            }
        case .structure(let wanted, let ignored, let unordered):
            guard case .structure(let children) = have.value else {
                return Difference(path: path, detail: "expected a Structure, got \(Self.show(have))")
            }
            let had = children.filter { !ignored.contains($0.tag) && !Self.isServerPolicy($0) }
            if unordered { return self.matchSet(wanted, had, path: path) }
            return self.matchOrdered(wanted, had, path: path)
        }
        return nil
    }

    /// Children in order; runs of a repeated multi-valued field as multisets.
    func matchOrdered(_ wanted: [ExpectedItem], _ had: [TTLVItem], path: String) -> Difference? {
        let wantRuns = Self.runs(wanted.map(\.tag))
        let haveRuns = Self.runs(had.map(\.tag))
        var w = 0
        var h = 0
        for (i, run) in wantRuns.enumerated() {
            guard i < haveRuns.count else {
                return Difference(path: path + "/" + Self.name(run.tag), detail: "missing (the response ends before it)")
            }
            let other = haveRuns[i]
            if other.tag != run.tag {
                return Difference(path: path + "/" + Self.name(run.tag), detail: "expected \(Self.name(run.tag)), got \(Self.show(had[h]))")
            }
            let wantSlice = Array(wanted[w..<(w + run.count)])
            let haveSlice = Array(had[h..<(h + other.count)])
            if run.count > 1 || other.count > 1, Self.repeatedAsSet.contains(run.tag) {
                if let difference = self.matchSet(wantSlice, haveSlice, path: path) { return difference }
            } else {
                if run.count != other.count {
                    return Difference(path: path + "/" + Self.name(run.tag), detail: "expected \(run.count) instances, got \(other.count)")
                }
                for (k, (want, have)) in zip(wantSlice, haveSlice).enumerated() {
                    let itemPath = path + "/" + Self.name(run.tag) + (run.count > 1 ? "[\(k)]" : "")
                    if let difference = self.match(want.expectation, tag: want.tag, have: have, path: itemPath) { return difference }
                }
            }
            w += run.count
            h += other.count
        }
        if haveRuns.count > wantRuns.count {
            return Difference(path: path + "/" + Self.name(haveRuns[wantRuns.count].tag), detail: "unexpected \(Self.show(had[h]))")
        }
        return nil
    }

    /// Children as a multiset.
    func matchSet(_ wanted: [ExpectedItem], _ had: [TTLVItem], path: String) -> Difference? {
        var unused = Array(had.indices)
        for want in wanted {
            let candidates = unused.filter { had[$0].tag == want.tag }
            if let found = candidates.first(where: { self.match(want.expectation, tag: want.tag, have: had[$0], path: path) == nil }) {
                unused.removeAll { $0 == found }
                continue
            }
            let label = path + "/" + Self.name(want.tag) + Self.attributeLabel(want)
            if candidates.count == 1, let difference = self.match(want.expectation, tag: want.tag, have: had[candidates[0]], path: label) {
                return difference
            }
            let seen = candidates.map { Self.show(had[$0]) }.joined(separator: "; ")
            return Difference(
                path: label,
                detail: "missing: no \(Self.name(want.tag)) in the response matches \(Self.describe(want)); unmatched: [\(seen)]"
            )
        }
        if let extra = unused.first {
            return Difference(path: path + "/" + Self.name(had[extra].tag), detail: "unexpected \(Self.show(had[extra]))")
        }
        return nil
    }

    /// Attributes whose presence is the reference server's policy, not the protocol's: Lease Time
    /// ("initially set by server", optional). Left out on both sides.
    static func isServerPolicy(_ item: TTLVItem) -> Bool {
        switch item.tag {
        case .leaseTime: return true
        case .attribute: return item.child(.attributeName)?.value == .textString("Lease Time")
        case .attributeName: return item.value == .textString("Lease Time")
        case .attributeReference: return item.value == .enumeration(TTLVTag.leaseTime.rawValue)
        default: return false
        }
    }

    /// Whether the Attribute Value at `path` belongs to an attribute that describes the reference
    /// server (1.x 'Random Number Generator').
    static func isReferenceDescription(_ path: [KMIPXMLPathComponent], in message: TTLVItem) -> Bool {
        guard let parent = message.item(at: Array(path.dropLast())),
            case .textString(let name)? = parent.child(.attributeName)?.value
        else { return false }
        return name == "Random Number Generator"
    }

    // MARK: Rendering

    static func runs(_ tags: [TTLVTag]) -> [(tag: TTLVTag, count: Int)] {
        var runs: [(tag: TTLVTag, count: Int)] = []
        for tag in tags {
            if let last = runs.last, last.tag == tag {
                runs[runs.count - 1].count += 1
            } else {
                runs.append((tag, 1))
            }
        }
        return runs
    }

    static func name(_ tag: TTLVTag) -> String {
        KMIPTags.xmlName(of: tag) ?? tag.description
    }

    static func attributeLabel(_ item: ExpectedItem) -> String {
        guard item.tag == .attribute, case .structure(let fields, _, _) = item.expectation,
            let name = fields.first(where: { $0.tag == .attributeName }), case .exact(.textString(let text)) = name.expectation
        else { return "" }
        return "('\(text)')"
    }

    static func describe(_ item: ExpectedItem) -> String {
        switch item.expectation {
        case .exact(let value): return show(TTLVItem(item.tag, value))
        case .anyValue(let type): return "any \(type.xmlName)"
        case .length(let count): return "\(count) bytes"
        case .time(let time): return date(time)
        case .structure(let fields, _, _):
            return "{" + fields.map { name($0.tag) + "=" + describe($0) }.joined(separator: ", ") + "}"
        }
    }

    static func show(_ item: TTLVItem) -> String {
        let value: String
        switch item.value {
        case .structure(let children): value = "{" + children.map(show).joined(separator: ", ") + "}"
        case .integer(let v): value = String(v)
        case .longInteger(let v): value = String(v)
        case .bigInteger(let v): value = "0x" + hex(v)
        case .enumeration(let v): value = KMIPEnumerations.name(of: v, forTag: item.tag) ?? "0x" + String(v, radix: 16)
        case .boolean(let v): value = String(v)
        case .textString(let v): value = "'\(v)'"
        case .byteString(let v): value = v.count > 40 ? "\(v.count) bytes" : "0x" + hex(v)
        case .dateTime(let v): value = date(v)
        case .interval(let v): value = "\(v) s"
        case .dateTimeExtended(let v): value = "\(v) µs"
        }
        return name(item.tag) + "=" + value
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func date(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
