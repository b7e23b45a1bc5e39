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

import AdminHTTP
import KMIPServer
import KeyStore
import KeystormControl
import RootKeys

/// The admin API of the running server: the control plane (``ServerControl``) over the server's
/// own store, root-key service, key cache and KMIP executor, wired to the server's trust state.
enum ServeAdminOperations {
    /// - Parameters:
    ///   - clientRulesChanged: Reloads the client rules into the TLS policy; runs before an
    ///     admin call that added a rule returns, so the rule is in force when the CLI returns.
    ///   - clientRuleRemoved: Takes a removed rule out of force and closes its connections.
    ///   - rootKeyDeleted: Closes the connections of a tenant whose root key was deleted.
    static func make(
        store: any KeyStore,
        rootKeys: any RootKeyService,
        directory: DataDirectory,
        keyAccess: KeyAccess,
        executor: BatchExecutor,
        audit: AuditLogFile? = nil,
        reserve: StorageReserve? = nil,
        clientRulesChanged: @escaping @Sendable () async throws -> Void,
        clientRuleRemoved: @escaping @Sendable (String) -> Void = { _ in },
        rootKeyDeleted: @escaping @Sendable (String) -> Void = { _ in }
    ) -> ControlAdminOperations {
        let control = ControlPlane(store: store, rootKeys: rootKeys, directory: directory.layout, executor: executor)
        let server = ServerControl(
            control: control,
            keyAccess: keyAccess,
            audit: audit,
            reserve: reserve,
            hooks: ServerControl.Hooks(
                clientRulesChanged: clientRulesChanged,
                clientRuleRemoved: clientRuleRemoved,
                rootKeyDeleted: rootKeyDeleted,
                log: { Log.info($0) }
            )
        )
        return ControlAdminOperations(server: server)
    }
}
