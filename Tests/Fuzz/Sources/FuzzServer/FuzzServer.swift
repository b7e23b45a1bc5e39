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

import Dispatch
import Foundation
import KMIPCodec
import KMIPModel
import KMIPServer
import KeystormTestSupport

/// The in-process server every input goes to: a real SQLite store, Local root keys and audit log
/// in a temporary directory (TestServer), made once.
final class Harness: @unchecked Sendable {
    let server: TestServer
    /// Tenant A's key: no answer to tenant B may ever contain its material.
    let secret: [UInt8]

    init(server: TestServer, secret: [UInt8]) {
        self.server = server
        self.secret = secret
    }

    static let shared: Harness = blocking {
        let server = try! await TestServer.make()
        let create = CreateRequest(
            objectType: .symmetricKey,
            attributes: [
                Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue)),
                Attribute(.cryptographicUsageMask, .integer(12)),
                Attribute(.cryptographicLength, .integer(256)),
            ]
        )
        let created = try! await server.call(create, as: TestServer.tenantA)
        guard case .create(let payload)? = created.payload else { fatalError("the seed Create failed") }
        let got = try! await server.call(GetRequest(uniqueIdentifier: payload.uniqueIdentifier), as: TestServer.tenantA)
        guard case .get(let key)? = got.payload, let material = key.object.keyBlock?.keyMaterialBytes else {
            fatalError("the seed Get failed")
        }
        return Harness(server: server, secret: material)
    }
}

/// Runs `body` on the cooperative pool and waits for it on this (libFuzzer's) thread.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: T?
    Task {
        result = await body()
        done.signal()
    }
    done.wait()
    return result!
}

/// libFuzzer calls this once before the first input. With KEYSTORM_FUZZ_WRITE_CORPUS=DIR set, the
/// binary writes the seed corpus to DIR and exits instead of fuzzing (run.sh does this first).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzServerInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    if let directory = ProcessInfo.processInfo.environment["KEYSTORM_FUZZ_WRITE_CORPUS"] {
        do {
            try SeedCorpus.write(to: directory)
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("writing the corpus to \(directory) failed: \(error)\n".utf8))
            exit(1)
        }
    }
    _ = Harness.shared
    return 0
}

/// libFuzzer's entry point: the input as a request from tenant B, then from tenant A. Every
/// answer must be a well-formed response message, and no answer to tenant B may contain tenant
/// A's key material.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServer(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let harness = Harness.shared
    let (asB, asA) = blocking {
        let b = await harness.server.send(bytes, as: TestServer.tenantB)
        let a = await harness.server.send(bytes, as: TestServer.tenantA)
        return (b, a)
    }
    for answer in [asB, asA] {
        guard (try? ResponseMessage(decoding: answer, mode: .lenient)) != nil else {
            fatalError("the server answered \(answer.count) bytes that are not a response message")
        }
    }
    if asB.count >= harness.secret.count,
        asB.indices.dropLast(harness.secret.count - 1).contains(where: {
            asB[$0..<($0 + harness.secret.count)].elementsEqual(harness.secret)
        })
    {
        fatalError("tenant B was answered tenant A's key material")
    }
    return 0
}

// MARK: - Seed corpus

/// Writes the seed corpus into the directory named by the first argument: every request and
/// response of the OASIS test cases in Tests/Fixtures/oasis as TTLV, and every hex vector of
/// ../shared/kmip-vectors/derived when that checkout is beside the package (read there, never
/// copied into the project).
enum SeedCorpus {
    static func write(to output: String) throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var written = 0
        func save(_ bytes: [UInt8], _ name: String) throws {
            let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(120))
            try Data(bytes).write(to: URL(fileURLWithPath: output + "/" + safe))
            written += 1
        }

        let oasis = Fixtures.oasisDirectory
        for file in Fixtures.files(under: oasis, withSuffix: ".xml") {
            guard let messages = try? KMIPXML.parseTestCase(contentsOf: oasis + "/" + file) else { continue }
            for (index, message) in messages.enumerated() {
                try save(message.item.encoded(), "oasis-\(file)-\(index)")
            }
        }
        if let shared = Fixtures.sharedVectorsDirectory {
            let derived = shared + "/derived"
            for file in Fixtures.files(under: derived, withSuffix: ".tsv") {
                let text = (try? String(contentsOfFile: derived + "/" + file, encoding: .utf8)) ?? ""
                for (row, line) in text.split(separator: "\n").enumerated() where !line.hasPrefix("#") {
                    for field in line.split(separator: "\t") where field.count >= 16 && field.count % 2 == 0 {
                        guard let bytes = Self.hex(field) else { continue }
                        try save(bytes, "vector-\(file)-\(row)")
                    }
                }
            }
        }
        print("wrote \(written) corpus files to \(output)")
    }

    static func hex(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
