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
import KMIPModel
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
    public func process(_ bytes: [UInt8], client: ClientIdentity) async -> [UInt8] {
        let now = self.core.clock()
        let configuration = self.core.configuration
        let document: TTLVDocument
        do {
            document = try TTLV.parse(bytes, mode: .lenient, limits: configuration.limits)
        } catch {
            return self.failure(version: .v1_4, now: now, reason: .invalidMessage, "the request is not valid TTLV: \(error.code) at byte \(error.offset)")
        }
        guard document.nodes[0].tag == .requestMessage,
            let requested = KMIPMessageDecoding.protocolVersion(of: document, header: .requestHeader)
        else {
            return self.failure(version: .v1_4, now: now, reason: .invalidMessage, "the message is not a KMIP request")
        }
        guard let version = configuration.responseVersion(for: requested) else {
            let reason: ResultReason = requested.major >= 2 ? .unsupportedProtocolVersion : .invalidMessage
            let answerIn = configuration.supportedVersions.filter { $0.major == 1 }.max() ?? .v1_4
            return self.failure(version: answerIn, now: now, reason: reason, "protocol version \(requested) is not supported")
        }
        // The header must be readable; a batch item that is not fails alone (KMIP 1.4 §11.1).
        let header: RequestHeader
        let items: [DecodedItem]
        do {
            var reader = try KMIPStructureReader(
                document: document,
                index: document.root,
                context: KMIPCodingContext(version: requested, mode: .lenient)
            )
            header = try reader.decodeRequired(.requestHeader)
            items = reader.takeAll(.batchItem).map { DecodedItem(index: $0, reader: reader) }
        } catch {
            return self.failure(version: version, now: now, reason: .invalidMessage, "the request header could not be read: \(error.reason)")
        }
        if Int(header.batchCount) != items.count || items.isEmpty {
            return self.failure(version: version, now: now, reason: .invalidMessage, "Batch Count does not match the batch items")
        }
        if items.count > configuration.maxBatchItems {
            return self.failure(version: version, now: now, reason: .invalidMessage, "more than \(configuration.maxBatchItems) batch items")
        }
        if header.batchErrorContinuationOption == .undo {
            return self.failure(
                version: version,
                now: now,
                reason: .featureNotSupported,
                "Batch Error Continuation Option Undo is not supported",
                items: items
            )
        }
        let continueOnError = header.batchErrorContinuationOption == .continue
        let context = RequestContext(tenantID: client.tenantID, clientFingerprint: client.fingerprint, version: version, now: now)
        var batch = BatchState()
        var results: [ResponseBatchItem] = []
        var audit: [AuditEvent] = []
        for decoded in items {
            let result: ResponseBatchItem
            switch decoded.item {
            case .success(let item):
                result = await self.execute(item, context: context, batch: &batch)
            case .failure(let failure):
                batch.lastIdentifier = nil
                self.metrics.operation(decoded.operation, status: .operationFailed, reason: failure.reason, elapsed: .zero)
                result = ResponseBatchItem(
                    operation: decoded.operation,
                    uniqueBatchItemID: decoded.uniqueBatchItemID,
                    resultStatus: .operationFailed,
                    resultReason: failure.reason,
                    resultMessage: failure.message
                )
            }
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
        if let sink = self.core.audit {
            do {
                try await sink.record(audit)
            } catch {
                // Fail closed: nothing is answered that is not audited. The cause, not the path.
                let cause = (error as? AuditLogError).map { $0.errno == ENOSPC || $0.errno == EDQUOT ? ": the disk is full" : "" } ?? ""
                return self.failure(
                    version: version,
                    now: now,
                    reason: .generalFailure,
                    "the audit log could not be written\(cause); the server refuses operations it cannot audit",
                    items: items
                )
            }
        }
        var response = ResponseMessage(
            header: self.header(version: version, now: now, count: results.count, request: header),
            batchItems: results
        )
        var encoded = response.encoded()
        if let limit = header.maximumResponseSize, encoded.count > Int(limit) {
            response.batchItems = results.map {
                ResponseBatchItem(
                    operation: $0.operation,
                    uniqueBatchItemID: $0.uniqueBatchItemID,
                    resultStatus: .operationFailed,
                    resultReason: .responseTooLarge,
                    resultMessage: "the response is larger than the Maximum Response Size of \(limit) bytes"
                )
            }
            encoded = response.encoded()
        }
        return encoded
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
    ) -> [UInt8] {
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
        let response = ResponseMessage(header: self.header(version: version, now: now, count: failed.count, request: nil), batchItems: failed)
        return response.encoded()
    }
}

/// One batch item of a request: decoded, or the reason it could not be, with the Operation and
/// Unique Batch Item ID read leniently so that the failed item can still echo them.
struct DecodedItem: Sendable {
    var item: Result<RequestBatchItem, KMIPError>
    var operation: Operation?
    var uniqueBatchItemID: [UInt8]?

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

/// What one batch item leaves for the next.
public struct BatchState: Sendable {
    /// KMIP 1.4 §2.1.8 (ID Placeholder): the Unique Identifier returned by the last operation that
    /// returned one; used by later items that name no object.
    public var idPlaceholder: String?
    /// The object the current item acted on, for the audit log.
    public var lastIdentifier: String?

    public init() {}
}
