/*
 * COpenSSL: the one place the gateway imports OpenSSL 3 libcrypto (CMS signature verification
 * against partner trust anchors).
 *
 * Why this target exists: the system OpenSSL ships no Clang module, so this system-library target
 * gives Swift one `import COpenSSL` with pkg-config `libcrypto`. CXMLSec includes this header
 * first so clang owns these declarations here (pitfall P3).
 *
 * Why each include is here:
 *  - <openssl/bio.h>: BIO file/memory sources for certificates, signatures and payloads.
 *  - <openssl/cms.h>: detached CMS (PKCS#7) verification and the signer list.
 *  - <openssl/err.h>: the error queue, drained into a Swift error at the failing call.
 *  - <openssl/pem.h>: PEM reading of CA and partner certificates.
 *  - <openssl/x509.h>, <openssl/x509_vfy.h>: certificates, X509_STORE, verification flags and time.
 *  - <openssl/x509v3.h>: X509_STORE_set_purpose / X509_PURPOSE_* (pitfall P9).
 *  - <openssl/evp.h>: digests and keys (content hashes, key checks).
 *  - <openssl/crypto.h>: CRYPTO_free (OPENSSL_free is a macro) and OpenSSL_version().
 *  - <openssl/opensslv.h>: OPENSSL_VERSION_* compile-time constants.
 */
#ifndef SWG_COPENSSL_SHIM_H
#define SWG_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#endif /* SWG_COPENSSL_SHIM_H */
