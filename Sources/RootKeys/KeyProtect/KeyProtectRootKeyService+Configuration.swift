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

public import Logging
public import NIOSSL

extension KeyProtectRootKeyService {
    /// Where Key Protect is and how to talk to it.
    ///
    /// The API key is a credential: ``description`` never shows it, and neither do errors or logs.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// The Key Protect API's base URL, e.g. `https://us-south.kms.cloud.ibm.com` or
        /// `https://private.us-south.kms.cloud.ibm.com`; `http://` only for the emulator.
        public var endpoint: String
        /// IAM's token URL; default `https://iam.cloud.ibm.com/identity/token`.
        public var iamEndpoint: String
        /// The Key Protect instance GUID (`bluemix-instance`).
        public var instanceID: String
        /// The IAM API key of the service ID Keystorm acts as.
        public var apiKey: String
        /// The key ring (`x-kms-key-ring`), if the keys live in one.
        public var keyRing: String?
        /// TLS for `https://` endpoints: by default the system trust store, or the CA bundle
        /// given to ``init(endpoint:iamEndpoint:instanceID:apiKey:keyRing:caBundlePath:)``.
        public var tlsConfiguration: TLSConfiguration
        /// Keep-alive connections per host; default 64 (the unwrap batcher's default in-flight bound).
        public var maxConnectionsPerHost: Int
        /// How long one HTTP request (connect, send, answer) may take; default 10 s.
        public var requestTimeout: Duration
        /// How long opening a connection may take; default 5 s.
        public var connectTimeout: Duration
        /// Retries on 429, 5xx and connection failures.
        public var retry: KeyProtectRetryPolicy
        /// Requests in a row that get no answer (a 5xx, or none) before calls fail at once for a
        /// cool-down; default 10. See ``outageCooldown``.
        public var outageThreshold: Int
        /// How long calls fail at once after ``outageThreshold`` unanswered requests, before one probe
        /// goes; doubled after each failed probe up to ``outageMaxCooldown``. Default 1 s.
        public var outageCooldown: Duration
        /// The longest cool-down; default 10 s (also the longest Keystorm takes to notice that Key
        /// Protect is back).
        public var outageMaxCooldown: Duration
        /// Where failures (with their correlation-id) and retries are logged.
        public var logger: Logger

        public static let defaultIAMEndpoint = "https://iam.cloud.ibm.com/identity/token"

        /// - Parameters:
        ///   - caBundlePath: A PEM file of CA certificates to trust instead of the system's.
        public init(
            endpoint: String,
            iamEndpoint: String = Self.defaultIAMEndpoint,
            instanceID: String,
            apiKey: String,
            keyRing: String? = nil,
            caBundlePath: String? = nil
        ) {
            self.endpoint = endpoint
            self.iamEndpoint = iamEndpoint
            self.instanceID = instanceID
            self.apiKey = apiKey
            self.keyRing = keyRing
            var tls = TLSConfiguration.makeClientConfiguration()
            if let caBundlePath { tls.trustRoots = .file(caBundlePath) }
            self.tlsConfiguration = tls
            self.maxConnectionsPerHost = 64
            self.requestTimeout = .seconds(10)
            self.connectTimeout = .seconds(5)
            self.retry = KeyProtectRetryPolicy()
            self.outageThreshold = 10
            self.outageCooldown = .seconds(1)
            self.outageMaxCooldown = .seconds(10)
            self.logger = Logger(label: "keystorm.rootkeys.keyprotect")
        }

        public var description: String {
            "KeyProtect(endpoint: \(self.endpoint), iam: \(self.iamEndpoint), instance: \(self.instanceID), "
                + "keyRing: \(self.keyRing ?? "default"), apiKey: <redacted>)"
        }
    }
}
