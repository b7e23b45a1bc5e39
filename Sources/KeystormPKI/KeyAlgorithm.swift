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

/// The kind of key pair Keystorm generates for a certificate it issues.
///
/// ECDSA P-256 is the default: vCenter, ESXi and OpenSSL accept it, and it is fast to generate and use.
/// RSA-2048 is there for peers that only negotiate `TLS_RSA_WITH_AES_*_CBC_SHA256` (the KMIP
/// "TLS 1.2 Authentication Suite"; vCenter 7.0.3 picked `AES128-SHA256` in a capture), which needs an RSA
/// server key (KMIP-VMWARE §1.9).
public struct KeyAlgorithm: Hashable, Sendable, CustomStringConvertible {
    fileprivate enum Base: Hashable, Sendable {
        case ecdsaP256
        case rsa2048
    }

    fileprivate var base: Base

    /// ECDSA over NIST P-256, signed with SHA-256.
    public static let ecdsaP256 = KeyAlgorithm(base: .ecdsaP256)
    /// RSA with a 2048-bit modulus, signed with SHA-256 (PKCS#1 v1.5).
    public static let rsa2048 = KeyAlgorithm(base: .rsa2048)

    public var description: String {
        switch self.base {
        case .ecdsaP256: "ECDSA P-256"
        case .rsa2048: "RSA-2048"
        }
    }

    var isRSA: Bool { self.base == .rsa2048 }
}
