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

/// Activate request.
///
/// > "This operation requests the server to activate a Managed Cryptographic Object." Only an
/// > object in the Pre-Active state can be activated.
///
/// KMIP 1.4 §4.19, KMIP 2.1 §6.1.1
public typealias ActivateRequest = UniqueIdentifierRequest<ActivateOperation>

/// Activate response: the identifier of the object.
///
/// KMIP 1.4 §4.19, KMIP 2.1 §6.1.1
public typealias ActivateResponse = UniqueIdentifierResponse<ActivateOperation>
