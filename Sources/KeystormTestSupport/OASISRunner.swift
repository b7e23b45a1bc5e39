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
public import KMIPModel

/// Runs an OASIS / OVH KMIP XML test case against a server and compares every response with the
/// expected one.
///
/// The server is reached only through ``send``, so the same runner drives the in-process
/// ``TestServer`` and a live server over TLS. Requests are converted with ``KMIPXML`` and their
/// placeholders (`$UNIQUE_IDENTIFIER_n`, ...) are filled with the values captured from the
/// server's earlier responses; `$NOW` is the server's clock (the Time Stamp of its last response).
///
/// What is compared, per response: the header's Protocol Version and Batch Count; per batch item
/// the Operation, Unique Batch Item ID, Result Status and Result Reason; for a successful item the
/// payload's structure (tags in order, repeated attribute-like fields as multisets, the fields of
/// a 2.x Attributes structure as a set) and values. Values that cannot match a reference run are
/// compared by type (and length) only: placeholders captured from this response, Unique
/// Identifiers the case spells literally, time stamps and dates (within ``timeTolerance`` of the
/// expected `$NOW`-relative value, or any value for a literal date the requests do not contain),
/// generated key material and digests (length only), Result Messages, the Vendor Identification
/// and what Query reports about the reference server (operations, objects, server information,
/// extensions, profiles, capabilities).
public struct OASISRunner: Sendable {
    /// Sends one encoded request message and returns the encoded response message.
    public typealias Send = @Sendable ([UInt8]) async throws -> [UInt8]

    public var send: Send
    /// The server's clock before its first response (POSIX seconds).
    public var now: @Sendable () -> Int64
    /// How far a `$NOW`-relative date may be from the expected value, in seconds.
    public var timeTolerance: Int64
    /// Whether to run the case to its end after a difference (to see every refusal of an
    /// out-of-scope case), rather than stop at the first.
    public var continueAfterDifference = false
    /// Seconds the server's clock must move before an exchange (numbered from 1), for cases
    /// that wait for a date to pass (TC-9.2 waits for a Deactivation Date $NOW+120).
    public var pauses: [Int: Int64] = [:]
    /// Moves the server's clock; without it a pause sleeps for real.
    public var advanceClock: (@Sendable (Int64) async -> Void)?

    public init(
        timeTolerance: Int64 = 120,
        now: (@Sendable () -> Int64)? = nil,
        send: @escaping Send
    ) {
        self.send = send
        self.now = now ?? { Int64(Date().timeIntervalSince1970) }
        self.timeTolerance = timeTolerance
    }

    /// Runs the test case in the file at `path`.
    public func run(file path: String) async -> OASISResult {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            return OASISResult(name: name, exchanges: 0, difference: OASISDifference(exchange: 0, line: 0, path: "", detail: "cannot read \(path)"))
        }
        return await self.run(bytes: [UInt8](data), name: name)
    }

    /// Runs a test case given as XML bytes.
    public func run(bytes: [UInt8], name: String) async -> OASISResult {
        var result = OASISResult(name: name, exchanges: 0, difference: nil)
        var substitutions = KMIPXMLSubstitutions(values: [:], now: self.now())
        var state = RunState()
        let count: Int
        do {
            count = try KMIPXML.parseTestCase(bytes, substitutions: substitutions).count
        } catch {
            result.difference = OASISDifference(exchange: 0, line: error.line, path: "", detail: "the test case does not convert: \(error)")
            return result
        }
        var pending: (request: TTLVItem, response: TTLVItem)?
        for index in 0..<count {
            let message: KMIPXMLMessage
            do {
                message = try KMIPXML.parseTestCase(bytes, substitutions: substitutions)[index]
            } catch {
                result.difference = OASISDifference(exchange: result.exchanges, line: error.line, path: "", detail: "the test case does not convert: \(error)")
                return result
            }
            switch message.kind {
            case .request:
                state.noteRequest(message.item)
                result.exchanges += 1
                if let pause = self.pauses[result.exchanges] {
                    if let advanceClock = self.advanceClock {
                        await advanceClock(pause)
                    } else {
                        try? await Task.sleep(for: .seconds(pause))
                    }
                }
                let responseBytes: [UInt8]
                do {
                    responseBytes = try await self.send(message.item.encoded())
                } catch {
                    result.difference = OASISDifference(exchange: result.exchanges, line: message.line, path: "", detail: "sending the request failed: \(error)")
                    return result
                }
                let response: TTLVItem
                do {
                    response = try TTLVItem(parsing: responseBytes, mode: .lenient)
                } catch {
                    result.difference = OASISDifference(exchange: result.exchanges, line: message.line, path: "", detail: "the response is not TTLV: \(error)")
                    return result
                }
                if case .dateTime(let time)? = response.child(.responseHeader)?.child(.timeStamp)?.value {
                    substitutions.now = time
                }
                result.recordUnsupported(response, exchange: result.exchanges)
                pending = (message.item, response)
            case .response:
                guard let (request, actual) = pending else {
                    result.difference = OASISDifference(exchange: result.exchanges, line: message.line, path: "", detail: "a response with no request before it")
                    return result
                }
                pending = nil
                substitutions.merge(message.capturedValues(from: actual))
                let expected: KMIPXMLMessage
                do {
                    expected = try KMIPXML.parseTestCase(bytes, substitutions: substitutions)[index]
                } catch {
                    result.difference = OASISDifference(exchange: result.exchanges, line: error.line, path: "", detail: "the test case does not convert: \(error)")
                    return result
                }
                let comparer = ResponseComparer(expected: expected, request: request, state: state, tolerance: self.timeTolerance)
                if let difference = comparer.compare(actual) {
                    let found = OASISDifference(
                        exchange: result.exchanges,
                        line: expected.line,
                        path: difference.path,
                        detail: difference.detail,
                        actualReason: difference.actualReason
                    )
                    result.differences.append(found)
                    if result.difference == nil { result.difference = found }
                    if !self.continueAfterDifference { return result }
                }
                state.noteResponse(request: request, response: actual)
            }
        }
        return result
    }
}

/// The outcome of one test case.
public struct OASISResult: Sendable, CustomStringConvertible {
    public var name: String
    /// Request/response exchanges performed.
    public var exchanges: Int
    /// The first difference, or `nil` when every response matched.
    public var difference: OASISDifference?
    /// Every difference found (only the first unless the runner continues after differences).
    public var differences: [OASISDifference] = []
    /// Every failed batch item of ours whose Result Reason is Operation Not Supported or Feature
    /// Not Supported, as "exchange n item i: Reason".
    public var unsupported: [String] = []

    public init(name: String, exchanges: Int, difference: OASISDifference?) {
        self.name = name
        self.exchanges = exchanges
        self.difference = difference
    }

    public var passed: Bool { self.difference == nil }

    /// The first exchange in which the server refused an item as Operation / Feature Not Supported.
    public var firstUnsupportedExchange: Int?

    /// Whether the case failed and the server refused one of its items as Operation / Feature Not
    /// Supported (run with ``OASISRunner/continueAfterDifference`` to see refusals after the
    /// first difference, e.g. the Poll of an asynchronous Locate answered synchronously).
    public var failedAsUnsupported: Bool {
        self.difference != nil && self.firstUnsupportedExchange != nil
    }

    public var description: String {
        guard let difference else { return "\(self.name): pass (\(self.exchanges) exchanges)" }
        return "\(self.name): FAIL \(difference)"
    }

    mutating func recordUnsupported(_ response: TTLVItem, exchange: Int) {
        for (i, item) in response.children.filter({ $0.tag == .batchItem }).enumerated() {
            guard case .enumeration(let raw)? = item.child(.resultReason)?.value else { continue }
            let reason = ResultReason(rawValue: raw)
            if reason == .operationNotSupported || reason == .featureNotSupported {
                self.unsupported.append("exchange \(exchange) item \(i + 1): \(reason.name)")
                if self.firstUnsupportedExchange == nil { self.firstUnsupportedExchange = exchange }
            }
        }
    }
}

/// Where and how a response differs from the expected one.
public struct OASISDifference: Sendable, CustomStringConvertible {
    /// The exchange (request number, from 1).
    public var exchange: Int
    /// The line of the expected response in the XML file.
    public var line: Int
    /// The path of the differing item, e.g. `BatchItem[1]/ResponsePayload/Attribute[2]`.
    public var path: String
    public var detail: String
    /// Our Result Reason when the differing batch item failed on our side.
    public var actualReason: ResultReason?

    public init(exchange: Int, line: Int, path: String, detail: String, actualReason: ResultReason? = nil) {
        self.exchange = exchange
        self.line = line
        self.path = path
        self.detail = detail
        self.actualReason = actualReason
    }

    public var description: String {
        "exchange \(self.exchange) (expected response at line \(self.line)) \(self.path): \(self.detail)"
    }
}

// MARK: - State carried between exchanges

/// What earlier exchanges tell the comparison.
struct RunState {
    /// Dates the requests spelled literally: a response may echo them exactly.
    var requestDates: Set<Int64> = []
    /// Objects whose key material the client supplied (Register): their material and digests
    /// are known and compared exactly.
    var registered: Set<String> = []

    mutating func noteRequest(_ request: TTLVItem) {
        Self.visit(request) { item in
            if case .dateTime(let date) = item.value { self.requestDates.insert(date) }
        }
    }

    mutating func noteResponse(request: TTLVItem, response: TTLVItem) {
        let requests = request.children.filter { $0.tag == .batchItem }
        let responses = response.children.filter { $0.tag == .batchItem }
        for (sent, received) in zip(requests, responses) {
            guard case .enumeration(let op)? = sent.child(.operation)?.value, KMIPModel.Operation(rawValue: op) == .register,
                case .textString(let uid)? = received.child(.responsePayload)?.child(.uniqueIdentifier)?.value
            else { continue }
            self.registered.insert(uid)
        }
    }

    static func visit(_ item: TTLVItem, _ body: (TTLVItem) -> Void) {
        body(item)
        for child in item.children { Self.visit(child, body) }
    }
}

// MARK: - Comparison
