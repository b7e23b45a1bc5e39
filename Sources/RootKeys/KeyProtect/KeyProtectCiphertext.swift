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

/// What Keystorm reads from, and sends alongside, Key Protect's opaque ciphertexts.
///
/// A Key Protect ciphertext is base64 text of a JSON envelope
/// `{"ciphertext": b64, "iv": b64, "version": "4.0.0", "handle": "<key-version uuid>"}`. Keystorm
/// stores the text's UTF-8 bytes as ``WrappedKey/ciphertext`` unchanged and reads only `handle`,
/// the version that wrapped it.
enum KeyProtectCiphertext {
    /// The longest AAD element Key Protect accepts.
    static let maxAADElementLength = 255
    /// Elements are cut at a multiple of 4 so that each is whole base64 on its own.
    static let aadChunkLength = 252

    private struct Envelope: Decodable {
        var handle: String?
    }

    /// The most AAD elements Key Protect accepts.
    static let maxAADElements = 255

    /// Keystorm's AAD bytes as Key Protect's list of ≤255-character strings: the bytes in standard
    /// base64, cut into 252-character pieces. No AAD gives `nil` (the field is left out).
    ///
    /// - Throws: ``RootKeyError/invalidArgument`` beyond 255 pieces (about 48 KB of AAD).
    static func aad(_ bytes: [UInt8]) throws -> [String]? {
        guard !bytes.isEmpty else { return nil }
        guard (bytes.count + 2) / 3 * 4 <= Self.maxAADElements * Self.aadChunkLength else {
            throw RootKeyError(
                .invalidArgument,
                reason: "Key Protect takes at most 48,195 bytes of AAD, not \(bytes.count)"
            )
        }
        let text = Array(Data(bytes).base64EncodedString().utf8)
        return stride(from: 0, to: text.count, by: Self.aadChunkLength).map { start in
            String(decoding: text[start..<min(start + Self.aadChunkLength, text.count)], as: UTF8.self)
        }
    }

    /// The ciphertext text of a wrapped key, or ``RootKeyError/invalidCiphertext`` when the bytes
    /// cannot be one (Key Protect ciphertexts are base64 text).
    static func text(of wrapped: WrappedKey) throws -> String {
        guard !wrapped.ciphertext.isEmpty,
            wrapped.ciphertext.allSatisfy({ Self.isBase64Symbol($0) })
        else {
            throw RootKeyError(
                .invalidCiphertext,
                reason: "a Key Protect ciphertext is base64 text; this one (\(wrapped.ciphertext.count) bytes) is not"
            )
        }
        return String(decoding: wrapped.ciphertext, as: UTF8.self)
    }

    /// The key-version uuid in a ciphertext's envelope, or `nil` when it does not parse.
    static func handle(of ciphertext: String) -> String? {
        guard let json = ByteEncoding.decodeBase64(Array(ciphertext.utf8)) else { return nil }
        return (try? JSONDecoder().decode(Envelope.self, from: Data(json)))?.handle
    }

    private static func isBase64Symbol(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }
}

/// Numbers a root key's Key Protect versions (uuids) 1, 2, 3... oldest first, as
/// ``WrappedKey/rootKeyVersion`` and ``RootKeyHandle/version`` need.
///
/// Built from `GET /api/v2/keys/<id>/versions`, which lists newest first. A pure value; the
/// service keeps one per root key and rebuilds it when a ciphertext names a version it does not
/// know, and after a rotation.
struct KeyProtectVersionTable: Hashable, Sendable {
    private var numbers: [String: Int]
    /// The number of the newest version (the one new wraps use); 0 for no versions.
    private(set) var current: Int
    /// The newest version's uuid.
    private(set) var currentID: String?

    /// - Parameter newestFirst: Version uuids as Key Protect lists them, newest first.
    init(newestFirst: [String]) {
        var numbers: [String: Int] = [:]
        for id in newestFirst.reversed() where numbers[id] == nil {
            numbers[id] = numbers.count + 1
        }
        self.numbers = numbers
        self.current = numbers.count
        self.currentID = newestFirst.first
    }

    /// The number of version `id`, or `nil` when this table does not know it.
    func number(of id: String) -> Int? {
        self.numbers[id]
    }

    /// How many versions the table knows.
    var count: Int { self.numbers.count }
}
