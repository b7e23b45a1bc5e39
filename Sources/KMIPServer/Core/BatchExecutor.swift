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

#if canImport(Glibc)
import Glibc
#endif
import KMIPCodec
public import KMIPModel
public import Metrics

/// Turns one request message into one response message.
///
/// It checks the header (version, batch options, batch count), runs the batch items in order with
/// the ID Placeholder carried from item to item, applies the Batch Error Continuation Option
/// (Stop by default, Continue; Undo is refused with Feature Not Supported) and the Maximum
/// Response Size, and answers in the request's protocol version. A message that cannot be read
/// still gets an answer: a batch item without Operation, Operation Failed, Invalid Message
/// (KMIP 1.4 §11.1).
///
/// KMIP 1.4 §6.12-6.13, §7, §11
public struct BatchExecutor: Sendable {
    public let core: KMIPServerCore
    let metrics: KMIPMetrics

    /// An executor that reports to the process-wide metrics factory.
    public init(core: KMIPServerCore) {
        self.core = core
        self.metrics = .shared
    }

    /// An executor that reports `keystorm_kmip_*` and `keystorm_store_*` to `metrics` (tests).
    public init(core: KMIPServerCore, metrics: any MetricsFactory) {
        let metrics = KMIPMetrics(factory: metrics)
        var core = core
        core.metrics = metrics
        self.core = core
        self.metrics = metrics
    }

    /// Processes one framed request message for an authenticated client.
    ///
    /// The bytes are parsed leniently and each batch item is decoded on its own, so that an item
    /// that cannot be read fails alone. The answer is encoded in the negotiated version.
    public func process(_ bytes: [UInt8], client: ClientIdentity) async -> [UInt8] {
        let now = self.core.clock()
        let request: AdmittedRequest
        switch self.admit(bytes, now: now) {
        case .accepted(let admitted): request = admitted
        case .refused(let response): return response.encoded()
        }
        let response = await self.run(request, client: client, now: now)
        let encoded = response.encoded()
        guard let limit = request.header.maximumResponseSize, encoded.count > Int(limit) else { return encoded }
        return self.tooLarge(response, limit: limit).encoded()
    }

    /// Runs a request message that is already typed (in-process KMIP use, such as the admin API)
    /// and returns the response message, with no encoding to bytes and back.
    ///
    /// The answer is the one ``process(_:client:)`` gives for the encoded request: the same checks
    /// of the header, the same batch rules, audit and metrics. The message is encoded only when
    /// its header sets a Maximum Response Size, to measure it.
    ///
    /// - Parameters:
    ///   - request: The request message.
    ///   - client: The authenticated client the request comes from.
    /// - Returns: The response message, in the negotiated protocol version.
    public func execute(_ request: RequestMessage, client: ClientIdentity) async -> ResponseMessage {
        let now = self.core.clock()
        let admitted: AdmittedRequest
        switch self.admit(request, now: now) {
        case .accepted(let accepted): admitted = accepted
        case .refused(let response): return response
        }
        let response = await self.run(admitted, client: client, now: now)
        guard let limit = request.header.maximumResponseSize, response.encoded().count > Int(limit) else {
            return response
        }
        return self.tooLarge(response, limit: limit)
    }

    /// Parses the request bytes, negotiates the version and reads the header and the items.
    func admit(_ bytes: [UInt8], now: Int64) -> Admission {
        let configuration = self.core.configuration
        let document: TTLVDocument
        do {
            document = try TTLV.parse(bytes, mode: .lenient, limits: configuration.limits)
        } catch {
            let message = "the request is not valid TTLV: \(error.code) at byte \(error.offset)"
            return .refused(self.failure(version: .v1_4, now: now, reason: .invalidMessage, message))
        }
        guard document.nodes[0].tag == .requestMessage,
            let requested = KMIPMessageDecoding.protocolVersion(of: document, header: .requestHeader)
        else {
            let message = "the message is not a KMIP request"
            return .refused(self.failure(version: .v1_4, now: now, reason: .invalidMessage, message))
        }
        let version: ProtocolVersion
        switch self.negotiate(requested, now: now) {
        case .success(let negotiated): version = negotiated
        case .failure(let refusal): return .refused(refusal.response)
        }
        // The header must be readable; a batch item that is not fails alone (KMIP 1.4 §11.1).
        do {
            var reader = try KMIPStructureReader(
                document: document,
                index: document.root,
                context: KMIPCodingContext(version: requested, mode: .lenient)
            )
            let header: RequestHeader = try reader.decodeRequired(.requestHeader)
            let items = reader.takeAll(.batchItem).map { DecodedItem(index: $0, reader: reader) }
            return self.admit(AdmittedRequest(header: header, items: items, version: version), now: now)
        } catch {
            let message = "the request header could not be read: \(error.reason)"
            return .refused(self.failure(version: version, now: now, reason: .invalidMessage, message))
        }
    }

    /// Negotiates the version of a typed request and checks its header and items.
    func admit(_ request: RequestMessage, now: Int64) -> Admission {
        switch self.negotiate(request.protocolVersion, now: now) {
        case .success(let version):
            let items = request.batchItems.map { DecodedItem($0) }
            return self.admit(AdmittedRequest(header: request.header, items: items, version: version), now: now)
        case .failure(let refusal):
            return .refused(refusal.response)
        }
    }

    /// The version to answer `requested` in, or the response that refuses it.
    func negotiate(_ requested: ProtocolVersion, now: Int64) -> Result<ProtocolVersion, Refusal> {
        let configuration = self.core.configuration
        if let version = configuration.responseVersion(for: requested) { return .success(version) }
        let reason: ResultReason = requested.major >= 2 ? .unsupportedProtocolVersion : .invalidMessage
        let answerIn = configuration.supportedVersions.filter { $0.major == 1 }.max() ?? .v1_4
        let message = "protocol version \(requested) is not supported"
        return .failure(Refusal(response: self.failure(version: answerIn, now: now, reason: reason, message)))
    }

    /// Checks the batch rules of a request whose header and items have been read.
    func admit(_ request: AdmittedRequest, now: Int64) -> Admission {
        let (header, items, version) = (request.header, request.items, request.version)
        let maxItems = self.core.configuration.maxBatchItems
        if Int(header.batchCount) != items.count || items.isEmpty {
            let message = "Batch Count does not match the batch items"
            return .refused(self.failure(version: version, now: now, reason: .invalidMessage, message))
        }
        if items.count > maxItems {
            let message = "more than \(maxItems) batch items"
            return .refused(self.failure(version: version, now: now, reason: .invalidMessage, message))
        }
        if header.batchErrorContinuationOption == .undo {
            let message = "Batch Error Continuation Option Undo is not supported"
            let refusal = self.failure(version: version, now: now, reason: .featureNotSupported, message, items: items)
            return .refused(refusal)
        }
        return .accepted(request)
    }

    /// Runs the items of an admitted request in order, audits them, and builds the response.
    func run(_ request: AdmittedRequest, client: ClientIdentity, now: Int64) async -> ResponseMessage {
        let continueOnError = request.header.batchErrorContinuationOption == .continue
        let context = RequestContext(
            tenantID: client.tenantID,
            clientFingerprint: client.fingerprint,
            version: request.version,
            now: now
        )
        var batch = BatchState()
        var results: [ResponseBatchItem] = []
        var audit: [AuditEvent] = []
        for decoded in request.items {
            let result = await self.execute(decoded, context: context, batch: &batch)
            results.append(result)
            audit.append(
                AuditEvent(
                    time: now,
                    tenantID: client.tenantID,
                    clientFingerprint: client.fingerprint,
                    operation: decoded.operation?.name ?? "unknown",
                    uniqueIdentifier: batch.lastIdentifier,
                    result: result.resultStatus == .success ? "success" : (result.resultReason?.name ?? "failed")
                )
            )
            if result.resultStatus != .success && !continueOnError { break }
        }
        if let refusal = await self.record(audit, version: request.version, now: now, items: request.items) {
            return refusal
        }
        return ResponseMessage(
            header: self.header(version: request.version, now: now, count: results.count, request: request.header),
            batchItems: results
        )
    }

    /// Writes the audit events; on failure, the response that fails every item instead.
    func record(
        _ audit: [AuditEvent],
        version: ProtocolVersion,
        now: Int64,
        items: [DecodedItem]
    ) async -> ResponseMessage? {
        guard let sink = self.core.audit else { return nil }
        do {
            try await sink.record(audit)
            return nil
        } catch {
            // Fail closed: nothing is answered that is not audited. The cause, not the path.
            let full = (error as? AuditLogError).map { $0.errno == ENOSPC || $0.errno == EDQUOT } ?? false
            let message =
                "the audit log could not be written\(full ? ": the disk is full" : ""); "
                + "the server refuses operations it cannot audit"
            return self.failure(version: version, now: now, reason: .generalFailure, message, items: items)
        }
    }

    /// Runs one decoded batch item, or fails the one that could not be read.
    func execute(_ decoded: DecodedItem, context: RequestContext, batch: inout BatchState) async -> ResponseBatchItem {
        switch decoded.item {
        case .success(let item):
            return await self.execute(item, context: context, batch: &batch)
        case .failure(let failure):
            batch.lastIdentifier = nil
            self.metrics.operation(decoded.operation, status: .operationFailed, reason: failure.reason, elapsed: .zero)
            return ResponseBatchItem(
                operation: decoded.operation,
                uniqueBatchItemID: decoded.uniqueBatchItemID,
                resultStatus: .operationFailed,
                resultReason: failure.reason,
                resultMessage: failure.message
            )
        }
    }

    /// The response with every item failed as Response Too Large (KMIP 1.4 §6.3).
    func tooLarge(_ response: ResponseMessage, limit: Int32) -> ResponseMessage {
        var response = response
        response.batchItems = response.batchItems.map {
            ResponseBatchItem(
                operation: $0.operation,
                uniqueBatchItemID: $0.uniqueBatchItemID,
                resultStatus: .operationFailed,
                resultReason: .responseTooLarge,
                resultMessage: "the response is larger than the Maximum Response Size of \(limit) bytes"
            )
        }
        return response
    }

    /// Runs one batch item; every failure becomes a failed item, never an escaping error.
    func execute(_ item: RequestBatchItem, context: RequestContext, batch: inout BatchState) async -> ResponseBatchItem {
        batch.lastIdentifier = nil
        if let critical = item.messageExtensions.first(where: { $0.criticalityIndicator }) {
            return ResponseBatchItem(
                operation: item.operation,
                uniqueBatchItemID: item.uniqueBatchItemID,
                resultStatus: .operationFailed,
                resultReason: .featureNotSupported,
                resultMessage: "critical message extension from \(critical.vendorIdentification) is not supported"
            )
        }
        if let reserve = self.core.storageReserve, let refusal = reserve.refusal(for: item.operation) {
            self.metrics.operation(item.operation, status: .operationFailed, reason: .generalFailure, elapsed: .zero)
            return ResponseBatchItem(
                operation: item.operation,
                uniqueBatchItemID: item.uniqueBatchItemID,
                resultStatus: .operationFailed,
                resultReason: .generalFailure,
                resultMessage: refusal
            )
        }
        let start = ContinuousClock.now
        do {
            let payload = try await self.core.perform(item.payload, operation: item.operation, context: context, batch: &batch)
            self.metrics.operation(item.operation, status: .success, reason: nil, elapsed: ContinuousClock.now - start)
            return ResponseBatchItem(
                operation: item.operation,
                uniqueBatchItemID: item.uniqueBatchItemID,
                resultStatus: .success,
                payload: payload
            )
        } catch {
            self.metrics.operation(item.operation, status: .operationFailed, reason: error.reason, elapsed: ContinuousClock.now - start)
            return ResponseBatchItem(
                operation: item.operation,
                uniqueBatchItemID: item.uniqueBatchItemID,
                resultStatus: .operationFailed,
                resultReason: error.reason,
                resultMessage: error.message
            )
        }
    }

    func header(version: ProtocolVersion, now: Int64, count: Int, request: RequestHeader?) -> ResponseHeader {
        var header = ResponseHeader(protocolVersion: version, timeStamp: now, batchCount: Int32(count))
        if version >= .v1_4, let request {
            header.clientCorrelationValue = request.clientCorrelationValue
            header.serverCorrelationValue = request.serverCorrelationValue
        }
        return header
    }

    /// A response that fails the whole request: one item without Operation, or one per request item.
    func failure(
        version: ProtocolVersion,
        now: Int64,
        reason: ResultReason,
        _ message: String,
        items: [DecodedItem] = []
    ) -> ResponseMessage {
        self.metrics.messageFailure(reason)
        let failed: [ResponseBatchItem]
        if items.isEmpty {
            failed = [ResponseBatchItem(operation: nil, resultStatus: .operationFailed, resultReason: reason, resultMessage: message)]
        } else {
            failed = items.map {
                ResponseBatchItem(
                    operation: $0.operation,
                    uniqueBatchItemID: $0.uniqueBatchItemID,
                    resultStatus: .operationFailed,
                    resultReason: reason,
                    resultMessage: message
                )
            }
        }
        return ResponseMessage(
            header: self.header(version: version, now: now, count: failed.count, request: nil),
            batchItems: failed
        )
    }
}

/// One batch item of a request: decoded, or the reason it could not be, with the Operation and
/// Unique Batch Item ID read leniently so that the failed item can still echo them.
struct DecodedItem: Sendable {
    var item: Result<RequestBatchItem, KMIPError>
    var operation: Operation?
    var uniqueBatchItemID: [UInt8]?

    /// An item that is already typed.
    init(_ item: RequestBatchItem) {
        self.item = .success(item)
        self.operation = item.operation
        self.uniqueBatchItemID = item.uniqueBatchItemID
    }

    init(index: Int, reader: KMIPStructureReader) {
        do {
            let item = try reader.decode(RequestBatchItem.self, at: index)
            self.item = .success(item)
            self.operation = item.operation
            self.uniqueBatchItemID = item.uniqueBatchItemID
        } catch {
            var fields = try? reader.reader(at: index)
            self.operation = try? fields?.enumeration(.operation, as: Operation.self)
            self.uniqueBatchItemID = try? fields?.byteString(.uniqueBatchItemID)
            let reason: ResultReason
            switch error.code {
            case .unexpectedType, .invalidValue: reason = .invalidField
            default: reason = .invalidMessage
            }
            self.item = .failure(KMIPError(reason, "the batch item could not be read: \(error.reason)"))
        }
    }
}

/// A request whose version is negotiated and whose header and items are read and within the rules.
struct AdmittedRequest: Sendable {
    var header: RequestHeader
    var items: [DecodedItem]
    /// The version the response is written in.
    var version: ProtocolVersion
}

/// A request let in, or the response that refuses it whole.
enum Admission: Sendable {
    case accepted(AdmittedRequest)
    case refused(ResponseMessage)
}

/// A response that refuses a request whole, as an error for `Result`.
struct Refusal: Error {
    var response: ResponseMessage
}

/// What one batch item leaves for the next.
public struct BatchState: Sendable {
    /// KMIP 1.4 §2.1.8 (ID Placeholder): the Unique Identifier returned by the last operation that
    /// returned one; used by later items that name no object.
    public var idPlaceholder: String?
    /// The object the current item acted on, for the audit log.
    public var lastIdentifier: String?

    public init() {}
}
