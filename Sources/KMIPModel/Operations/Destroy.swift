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

/// Destroy request.
///
/// > "This operation is used to indicate to the server that the key material for the specified
/// > Managed Object SHALL be destroyed." An Active object cannot be destroyed.
///
/// KMIP 1.4 §4.21, KMIP 2.1 §6.1.15
public typealias DestroyRequest = UniqueIdentifierRequest<DestroyOperation>

/// Destroy response: the identifier of the object.
///
/// KMIP 1.4 §4.21, KMIP 2.1 §6.1.15
public typealias DestroyResponse = UniqueIdentifierResponse<DestroyOperation>
