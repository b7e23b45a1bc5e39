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

import Benchmark
import KMIPCodec
import KMIPModel

let benchmarks: @Sendable () -> Void = {
    // Names: `parse` is TTLV.parse, `decode` the typed RequestMessage/ResponseMessage(decoding:),
    // `encode` the typed encoded(). They have no spaces: benchmark 1.38.1 writes threshold files
    // with spaces turned into underscores but looks them up with the spaces.
    //
    // One iteration of a `.kilo` benchmark handles 1,000 messages. The text output divides by that
    // (the rows marked `*`, and throughput), so it reads per message; the JSON files under
    // Thresholds/ hold per-iteration values, 1,000 messages each.
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .cpuTotal],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 1_000
    )

    // MARK: Get request (KMIP 1.1, one batch item, Get { Unique Identifier })

    Benchmark("GetRequest.parse") { (benchmark: Benchmark, bytes: [UInt8]) in
        for _ in benchmark.scaledIterations {
            blackHole(try TTLV.parse(bytes))
        }
    } setup: {
        try VCenterMessages.encodedRequest(VCenterMessages.getRequest())
    }

    Benchmark("GetRequest.decode") { (benchmark: Benchmark, bytes: [UInt8]) in
        for _ in benchmark.scaledIterations {
            blackHole(try RequestMessage(decoding: bytes))
        }
    } setup: {
        try VCenterMessages.encodedRequest(VCenterMessages.getRequest())
    }

    Benchmark("GetRequest.encode") { (benchmark: Benchmark, message: RequestMessage) in
        for _ in benchmark.scaledIterations {
            blackHole(message.encoded())
        }
    } setup: {
        let message = VCenterMessages.getRequest()
        _ = try VCenterMessages.encodedRequest(message)
        return message
    }

    // The same request as an owned TTLVItem tree, written by TTLV.Serializer without the model.
    Benchmark("GetRequest.encodeTTLVItem") { (benchmark: Benchmark, item: TTLVItem) in
        for _ in benchmark.scaledIterations {
            blackHole(item.encoded())
        }
    } setup: {
        try TTLVItem(parsing: VCenterMessages.encodedRequest(VCenterMessages.getRequest()))
    }

    // MARK: Get response (Symmetric Key, Raw Key Block, 32 bytes of key material, AES, 256)

    Benchmark("GetResponse.parse") { (benchmark: Benchmark, bytes: [UInt8]) in
        for _ in benchmark.scaledIterations {
            blackHole(try TTLV.parse(bytes))
        }
    } setup: {
        try VCenterMessages.encodedResponse(VCenterMessages.getResponse())
    }

    Benchmark("GetResponse.decode") { (benchmark: Benchmark, bytes: [UInt8]) in
        for _ in benchmark.scaledIterations {
            blackHole(try ResponseMessage(decoding: bytes))
        }
    } setup: {
        try VCenterMessages.encodedResponse(VCenterMessages.getResponse())
    }

    Benchmark("GetResponse.encode") { (benchmark: Benchmark, message: ResponseMessage) in
        for _ in benchmark.scaledIterations {
            blackHole(message.encoded())
        }
    } setup: {
        let message = VCenterMessages.getResponse()
        _ = try VCenterMessages.encodedResponse(message)
        return message
    }

    // MARK: Add Attribute batch (3 items: x-Product_Version, x-Vendor, x-Product)

    Benchmark("AddAttributeBatch3.parse") { (benchmark: Benchmark, bytes: [UInt8]) in
        for _ in benchmark.scaledIterations {
            blackHole(try TTLV.parse(bytes))
        }
    } setup: {
        try VCenterMessages.encodedRequest(VCenterMessages.addAttributeBatch())
    }

    Benchmark("AddAttributeBatch3.decode") { (benchmark: Benchmark, bytes: [UInt8]) in
        for _ in benchmark.scaledIterations {
            blackHole(try RequestMessage(decoding: bytes))
        }
    } setup: {
        try VCenterMessages.encodedRequest(VCenterMessages.addAttributeBatch())
    }

    Benchmark("AddAttributeBatch3.encode") { (benchmark: Benchmark, message: RequestMessage) in
        for _ in benchmark.scaledIterations {
            blackHole(message.encoded())
        }
    } setup: {
        let message = VCenterMessages.addAttributeBatch()
        _ = try VCenterMessages.encodedRequest(message)
        return message
    }

    // MARK: Framer

    // One iteration is one connection's worth: a new Framer fed as many whole Get requests as fit
    // in 16 KiB (97 of 168 bytes each), in 1,500-byte pieces, one Ethernet MTU each, draining
    // every message as soon as it is complete.
    Benchmark(
        "Framer.16KiBOfGetRequestsIn1500BytePieces",
        configuration: .init(scalingFactor: .one, maxIterations: 10_000)
    ) { (benchmark: Benchmark, stream: VCenterMessages.Stream) in
        for _ in benchmark.scaledIterations {
            var framer = TTLV.Framer()
            var messages = 0
            var start = 0
            while start < stream.bytes.count {
                let end = min(start + 1_500, stream.bytes.count)
                framer.append(stream.bytes[start..<end])
                while let message = try framer.nextMessage() {
                    blackHole(message)
                    messages += 1
                }
                start = end
            }
            precondition(messages == stream.messageCount && framer.bufferedByteCount == 0)
        }
    } setup: {
        try VCenterMessages.getRequestStream(byteCount: 16 * 1024)
    }
}
