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

/// A client certificate Keystorm has never seen: a throwaway CA made with `openssl req -x509` and
/// a leaf it signed with the clientAuth extended key usage, the shape of a real vCenter's
/// certificate from a CA nobody added with `keystorm clients add`.
enum ThrowawayPKI {
    /// Creates the CA and the client certificate in `directory`.
    static func makeClient(in directory: String, name: String = "stranger") async throws -> KMIPTLSClient.Identity {
        guard let openssl = Subprocess.onPath("openssl") else { throw LiveTestFailure("openssl is not on PATH") }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ca = directory + "/\(name)-ca"
        let leaf = directory + "/\(name)"
        let extensions = directory + "/\(name).ext"
        try "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=Throwaway CA \(name)", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", ca + ".key", "-out", ca + ".pem",
            ],
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-subj", "/CN=\(name)", "-keyout", leaf + ".key", "-out", leaf + ".csr",
            ],
            [
                "x509", "-req", "-in", leaf + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-days", "2", "-extfile", extensions, "-out", leaf + ".pem",
            ],
        ]
        for arguments in steps {
            let outcome = try await Subprocess.run(openssl, arguments, timeout: .seconds(60))
            guard outcome.succeeded else {
                throw LiveTestFailure("openssl \(arguments.joined(separator: " ")):\n\(outcome.output)")
            }
        }
        return .init(certificate: leaf + ".pem", key: leaf + ".key")
    }
}
