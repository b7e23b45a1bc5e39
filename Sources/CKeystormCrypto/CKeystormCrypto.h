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

#ifndef C_KEYSTORM_CRYPTO_H
#define C_KEYSTORM_CRYPTO_H

// OpenSSL 3.0's libcrypto, as RootKeys uses it: EVP ciphers (AES-256-GCM, AES-KWP), HMAC through
// EVP_Q_mac, the CSPRNG and the error queue. Every function used is an ordinary exported C function,
// so Swift calls it directly and no shim functions are needed. Building against the 1.1 API would
// miss EVP_Q_mac; refuse it here rather than with a confusing link error.
#include <openssl/opensslv.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#if OPENSSL_VERSION_MAJOR < 3
#error "Keystorm needs OpenSSL 3.0 or later (libssl-dev 3.x)"
#endif

#endif
