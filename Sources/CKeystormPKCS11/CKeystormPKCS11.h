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

#ifndef C_KEYSTORM_PKCS11_H
#define C_KEYSTORM_PKCS11_H

// The PKCS#11 (Cryptoki) declarations as p11-kit ships them (Debian: libp11-kit-dev), for the
// PKCS#11 root-key provider in RootKeys. Declarations only: Keystorm links no PKCS#11 library. It
// loads the configured module (an HSM vendor's, or SoftHSM2's) with dlopen and calls it through the
// CK_FUNCTION_LIST that C_GetFunctionList returns, so every call is an ordinary C function pointer
// that Swift calls directly and no shim functions are needed.
//
// The header is included through /usr/include, the compiler's default search path, so the target
// needs neither pkg-config nor an unsafe -I flag. It uses the standard (compatibility) names:
// CK_ATTRIBUTE with pValue and ulValueLen, CKR_OK, CKM_AES_GCM and so on.
#include <p11-kit-1/p11-kit/pkcs11.h>

#endif
