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

#if PostgreSQL
import PostgresNIO

/// Where a ``PostgresKeyStore`` finds its database, parsed from a libpq-style URL:
///
/// `postgres://USER[:PASSWORD]@HOST[:PORT][,HOST[:PORT]...]/DATABASE[?sslmode=...&sslrootcert=FILE&connect_timeout=S&max_connections=N]`
///
/// `sslmode` follows libpq: `disable`, `prefer` (the default: TLS when the server offers it, the
/// certificate not checked), `require` (TLS, the certificate not checked), `verify-ca` (TLS and a
/// certificate chain to `sslrootcert` or the system roots) and `verify-full` (also the host name).
/// Percent-escapes in the user, password and database are decoded. The password may instead come
/// from ``password`` (for example read from a file), so that it is not on a command line.
public struct PostgresStoreConfiguration: Sendable {
    /// How the connection uses TLS.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// The first server (with ``otherHosts``: the servers of a primary and its standbys).
    public var host: String
    public var port: Int
    /// The other servers of the URL (`postgres://u@a:5432,b:5432/db`), tried for the primary after
    /// ``host``.
    public var otherHosts: [Host] = []
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    /// A PEM file of CA certificates that sign the server's certificate (`verify-ca`, `verify-full`).
    public var tlsRootCertificates: String?
    /// How long opening one connection may take.
    public var connectTimeout: Duration
    /// The most connections this node opens.
    public var maximumConnections: Int
    /// The longest one store call may take, waiting for a connection included, before it fails.
    public var operationTimeout: Duration

    /// Creates a configuration from its parts.
    public init(
        host: String,
        port: Int = 5432,
        username: String,
        password: String? = nil,
        database: String,
        tlsMode: TLSMode = .prefer,
        tlsRootCertificates: String? = nil,
        connectTimeout: Duration = .seconds(5),
        maximumConnections: Int = 16,
        operationTimeout: Duration = .seconds(15)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.tlsRootCertificates = tlsRootCertificates
        self.connectTimeout = connectTimeout
        self.maximumConnections = maximumConnections
        self.operationTimeout = operationTimeout
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    ///
    /// - Throws: ``KeyStoreError/storage`` naming what is wrong (the message never repeats the
    ///   password).
    public init(url: String) throws {
        var rest = Substring(url)
        guard let scheme = ["postgres://", "postgresql://"].first(where: { rest.hasPrefix($0) }) else {
            throw Self.invalid("it must start with postgres:// or postgresql://")
        }
        rest = rest.dropFirst(scheme.count)
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw Self.invalid("it names no database (/DATABASE)") }
        let authority = rest[..<slash]
        let database = try Self.decode(rest[rest.index(after: slash)...], "database")
        guard !database.isEmpty else { throw Self.invalid("it names no database (/DATABASE)") }
        var hostPart = authority
        var username = ""
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPart = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = try Self.decode(userInfo[..<colon], "user")
                password = try Self.decode(userInfo[userInfo.index(after: colon)...], "password")
            } else {
                username = try Self.decode(userInfo, "user")
            }
        }
        guard !username.isEmpty else { throw Self.invalid("it names no user (USER@HOST)") }
        // libpq's list of hosts: the primary and its standbys, in any order.
        let hosts = try hostPart.split(separator: ",", omittingEmptySubsequences: false).map(Self.hostAndPort)
        guard let (host, port) = hosts.first, hosts.count <= 16 else { throw Self.invalid("at most 16 hosts") }
        self.init(host: host, port: port, username: username, password: password, database: database)
        self.otherHosts = hosts.dropFirst().map { Host(host: $0.0, port: $0.1) }
        try self.apply(query: query)
    }

    /// One server of the list.
    public struct Host: Hashable, Sendable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { (self.host.contains(":") ? "[\(self.host)]" : self.host) + ":\(self.port)" }
    }

    /// Every server, ``host`` first: Keystorm writes to the one that is not in recovery (the
    /// primary) and looks again when it stops answering (a promotion).
    public var hosts: [Host] { [Host(host: self.host, port: self.port)] + self.otherHosts }

    /// The URL without its password, for logs and status output.
    public var redactedURL: String {
        "postgres://\(self.username)@\(self.hosts.map(\.description).joined(separator: ","))/\(self.database)"
    }

    private mutating func apply(query: Substring) throws {
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1], name) : ""
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    let known = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw Self.invalid("sslmode=\(value) is not one of \(known)")
                }
                self.tlsMode = mode
            case "sslrootcert":
                self.tlsRootCertificates = value
            case "connect_timeout":
                guard let seconds = Int(value), (1...300).contains(seconds) else {
                    throw Self.invalid("connect_timeout must be 1-300 seconds")
                }
                self.connectTimeout = .seconds(seconds)
            case "max_connections":
                guard let count = Int(value), (1...1000).contains(count) else {
                    throw Self.invalid("max_connections must be 1-1000")
                }
                self.maximumConnections = count
            case "operation_timeout":
                guard let seconds = Int(value), (1...3600).contains(seconds) else {
                    throw Self.invalid("operation_timeout must be 1-3600 seconds")
                }
                self.operationTimeout = .seconds(seconds)
            case "application_name":
                break
            default:
                throw Self.invalid("unknown parameter \(name)")
            }
        }
    }

    private static func hostAndPort(_ text: Substring) throws -> (String, Int) {
        var host = text
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw Self.invalid("an IPv6 host lacks its ]") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw Self.invalid("unexpected text after the IPv6 host")
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw Self.invalid("it names no host") }
        var port = 5432
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw Self.invalid("the port must be 1-65535")
            }
            port = value
        }
        return (String(host), port)
    }

    /// Decodes percent-escapes (`%40` is `@`).
    private static func decode(_ text: Substring, _ what: String) throws -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else { throw Self.invalid("the \(what) has a bad percent-escape") }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw Self.invalid("the \(what) is not UTF-8 once decoded")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func invalid(_ problem: String) -> KeyStoreError {
        KeyStoreError(.storage, reason: "invalid PostgreSQL URL: \(problem)")
    }

    /// The TLS settings of ``tlsMode``: none for `disable`, and whether TLS is required.
    private var tlsSettings: (configuration: TLSConfiguration, required: Bool)? {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let roots = self.tlsRootCertificates { tls.trustRoots = .file(roots) }
        switch self.tlsMode {
        case .disable:
            return nil
        case .prefer, .require:
            tls.certificateVerification = .none
            return (tls, self.tlsMode == .require)
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
            return (tls, true)
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            return (tls, true)
        }
    }

    /// The same server, TLS and credentials for one connection outside the pool (migrations).
    ///
    /// - Throws: ``KeyStoreError/storage`` when the TLS settings do not load (an unreadable
    ///   `sslrootcert`, say).
    func connectionConfiguration(_ server: Host) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        if let settings = self.tlsSettings {
            let context: NIOSSLContext
            do {
                context = try NIOSSLContext(configuration: settings.configuration)
            } catch {
                throw KeyStoreError(.storage, reason: "PostgreSQL TLS settings do not load: \(error)")
            }
            tls = settings.required ? .require(context) : .prefer(context)
        } else {
            tls = .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: server.host,
            port: server.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: tls
        )
        configuration.options.connectTimeout = TimeAmount(self.connectTimeout)
        configuration.options.additionalStartupParameters = [("application_name", "keystorm")]
        return configuration
    }

    func clientConfiguration(_ server: Host) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        if let settings = self.tlsSettings {
            tls = settings.required ? .require(settings.configuration) : .prefer(settings.configuration)
        } else {
            tls = .disable
        }
        var configuration = PostgresClient.Configuration(
            host: server.host,
            port: server.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: tls
        )
        configuration.options.connectTimeout = self.connectTimeout
        configuration.options.maximumConnections = self.maximumConnections
        configuration.options.minimumConnections = 1
        configuration.options.additionalStartupParameters = [("application_name", "keystorm")]
        return configuration
    }
}
#endif
