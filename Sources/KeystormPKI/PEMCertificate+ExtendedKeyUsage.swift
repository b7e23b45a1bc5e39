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

internal import SwiftASN1
internal import X509

extension PEMCertificate {
    /// A purpose in the extended key usage extension (RFC 5280 §4.2.1.12), named by its object identifier.
    ///
    /// KMIP-VMWARE §1.9: PyKMIP rejects client certificates without `clientAuth`, and ESXi 6.7 only worked
    /// once certificates carried both `serverAuth` and `clientAuth`.
    public struct ExtendedKeyUsage: Hashable, Sendable, CustomStringConvertible {
        /// The dotted object identifier, such as `1.3.6.1.5.5.7.3.2`.
        public let oid: String

        /// A purpose by its dotted object identifier.
        ///
        /// - Parameter oid: The dotted object identifier.
        public init(oid: String) {
            self.oid = oid
        }

        /// TLS WWW server authentication, `1.3.6.1.5.5.7.3.1`.
        public static let serverAuth = ExtendedKeyUsage(oid: "1.3.6.1.5.5.7.3.1")
        /// TLS WWW client authentication, `1.3.6.1.5.5.7.3.2`.
        public static let clientAuth = ExtendedKeyUsage(oid: "1.3.6.1.5.5.7.3.2")
        /// Any extended key usage, `2.5.29.37.0`.
        public static let any = ExtendedKeyUsage(oid: "2.5.29.37.0")

        public var description: String {
            switch self {
            case .serverAuth: "serverAuth"
            case .clientAuth: "clientAuth"
            case .any: "anyExtendedKeyUsage"
            default: self.oid
            }
        }

        init(_ usage: X509.ExtendedKeyUsage.Usage) {
            self.oid = ASN1ObjectIdentifier(usage).description
        }
    }

    /// The purposes in the extended key usage extension, empty when the extension is absent or unreadable.
    public var extendedKeyUsages: [ExtendedKeyUsage] {
        guard let usages = try? self.certificate.extensions.extendedKeyUsage else { return [] }
        return usages.map(ExtendedKeyUsage.init)
    }

    /// Whether the extended key usage extension lists `usage`.
    ///
    /// A certificate without the extension answers `false`: Keystorm requires the extension on client and
    /// server certificates, as PyKMIP does.
    ///
    /// - Parameter usage: The purpose to look for.
    /// - Returns: `true` when the extension is present and lists `usage`.
    public func hasExtendedKeyUsage(_ usage: ExtendedKeyUsage) -> Bool {
        self.extendedKeyUsages.contains(usage)
    }

    /// Whether the certificate may be used for `usage` as far as its extended key usage goes.
    ///
    /// RFC 5280 §4.2.1.12: without the extension the certificate is not restricted; with it, it is
    /// good for the purposes it lists (or any purpose, `anyExtendedKeyUsage`). An extension that
    /// is present but does not decode permits nothing.
    ///
    /// - Parameter usage: The purpose to check.
    /// - Returns: `false` only when the extension is present and leaves `usage` out.
    public func permitsExtendedKeyUsage(_ usage: ExtendedKeyUsage) -> Bool {
        let present = self.certificate.extensions.contains { $0.oid == .X509ExtensionID.extendedKeyUsage }
        guard present else { return true }
        let usages = self.extendedKeyUsages
        return usages.contains(usage) || usages.contains(.any)
    }
}
