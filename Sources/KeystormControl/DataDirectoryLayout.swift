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
public import KeystormPKI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where things live in a data directory, and its certificate authorities.
///
/// ```
/// keystorm.sqlite            tenants, client rules, managed objects (key material wrapped)
/// master.key, rootkeys.sealed  the Local root-key provider
/// prewarm/<tenant>           a `keystorm keys prewarm` request (admin API off, or no server running)
/// audit.log                  one JSON line per KMIP operation
/// first-start.incomplete     present until a first start bound every listener (the next start finishes it)
/// tls/server-ca.pem, .key    the CA that signs the server certificate (give vCenter server-ca.pem)
/// tls/server.pem, .key       the server certificate (EKU serverAuth + clientAuth)
/// tls/client-ca.pem, .key    the CA that issues client certificates and signs CSRs
/// clients/<tenant>/<name>.pem, .key  client certificates Keystorm issued
/// ```
public struct DataDirectoryLayout: Hashable, Sendable {
    /// The directory, standardized.
    public let path: String

    public init(path: String) {
        self.path = (path as NSString).standardizingPath
    }

    public var storePath: String { self.path + "/keystorm.sqlite" }
    public var auditPath: String { self.path + "/audit.log" }
    public var tlsDirectory: String { self.path + "/tls" }
    public var serverCACertificate: String { self.tlsDirectory + "/server-ca.pem" }
    public var serverCAKey: String { self.tlsDirectory + "/server-ca.key" }
    public var serverCertificate: String { self.tlsDirectory + "/server.pem" }
    public var serverKey: String { self.tlsDirectory + "/server.key" }
    public var clientCACertificate: String { self.tlsDirectory + "/client-ca.pem" }
    public var clientCAKey: String { self.tlsDirectory + "/client-ca.key" }
    /// Where `keystorm keys prewarm` leaves requests for the running server.
    public var prewarmDirectory: String { self.path + "/prewarm" }

    /// Where the client certificates Keystorm issued for `tenant` live.
    public func clientDirectory(tenant: String) -> String { self.path + "/clients/" + tenant }

    /// Whether a store exists here already.
    public var exists: Bool { FileManager.default.fileExists(atPath: self.storePath) }

    /// Creates the directory tree with owner-only permissions.
    ///
    /// - Throws: ``ControlError`` naming the directory that could not be made and why.
    public func create() throws(ControlError) {
        for directory in [self.path, self.tlsDirectory, self.path + "/clients"] {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700]
                )
            } catch {
                throw ControlError.classifying(error, operation: "creating \(directory)", dataDirectory: self.path)
            }
        }
    }

    /// Checks that a data directory with a store exists here and can be read.
    ///
    /// - Throws: ``ControlError/permissionDenied`` when the directory or its store cannot be
    ///   read (not "missing": the files may well be there), ``ControlError/notFound`` when there
    ///   is no store yet.
    /// - Parameter includingStore: Whether the SQLite store must be there too (not when the
    ///   store is a shared PostgreSQL database).
    public func requireExisting(includingStore: Bool = true) throws(ControlError) {
        let required = [(self.path, R_OK | X_OK)] + (includingStore ? [(self.storePath, R_OK | W_OK)] : [])
        for (path, mode) in required {
            if access(path, F_OK) != 0 {
                let code = errno
                if code == ENOENT {
                    throw ControlError(
                        .notFound,
                        "no Keystorm data directory at \(self.path): run 'keystorm serve --data-dir \(self.path)' once, or pass --data-dir"
                    )
                }
                let (kind, cause) = ControlError.classify(errno: code, path: path)
                throw ControlError(kind, "cannot open the data directory: \(cause)")
            }
            if access(path, mode) != 0 {
                let (kind, cause) = ControlError.classify(errno: errno, path: path)
                throw ControlError(kind, "cannot open the data directory: \(cause)")
            }
        }
    }

    /// The server CA, server certificate and client CA: loaded, or created on first start.
    ///
    /// - Parameter hostnames: The names and addresses the server certificate is for.
    /// - Returns: Whether anything was created.
    @discardableResult
    public func ensurePKI(hostnames: [String]) throws -> Bool {
        var created = false
        let fileManager = FileManager.default
        let serverCA: CertificateAuthority
        if fileManager.fileExists(atPath: self.serverCACertificate) {
            serverCA = try CertificateAuthority(
                certificatePath: self.serverCACertificate,
                privateKeyPath: self.serverCAKey
            )
        } else {
            serverCA = try CertificateAuthority.create(commonName: "Keystorm server CA")
            try serverCA.save(certificatePath: self.serverCACertificate, privateKeyPath: self.serverCAKey)
            created = true
        }
        if !fileManager.fileExists(atPath: self.serverCertificate) {
            let isAddress: (String) -> Bool = { $0.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } }
            let issued = try serverCA.issueServerCertificate(
                commonName: hostnames.first ?? "localhost",
                dnsNames: Array(Set(["localhost"] + hostnames.filter { !isAddress($0) })).sorted(),
                ipAddresses: Array(Set(["127.0.0.1", "::1"] + hostnames.filter(isAddress))).sorted()
            )
            // The chain vCenter retrieves: server certificate, then its CA.
            try issued.save(
                certificatePath: self.serverCertificate,
                privateKeyPath: self.serverKey,
                chain: serverCA.certificate.pem
            )
            created = true
        }
        if !fileManager.fileExists(atPath: self.clientCACertificate) {
            let clientCA = try CertificateAuthority.create(commonName: "Keystorm client CA")
            try clientCA.save(certificatePath: self.clientCACertificate, privateKeyPath: self.clientCAKey)
            created = true
        }
        return created
    }

    /// The CA that issues client certificates and signs CSRs.
    public func clientCA() throws -> CertificateAuthority {
        try CertificateAuthority(certificatePath: self.clientCACertificate, privateKeyPath: self.clientCAKey)
    }
}
