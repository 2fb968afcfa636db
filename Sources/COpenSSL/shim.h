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
/* pem.h before cms.h: cms.h declares PEM_read_bio_CMS only `#ifdef OPENSSL_PEM_H`. */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

/*
 * Typed stack helpers. OpenSSL 3 spells sk_X509_*, sk_X509_REVOKED_* and sk_CMS_SignerInfo_* as
 * function-like macros over OPENSSL_sk_*, which Swift does not import; these wrappers give the
 * signature code (Gateway/Signatures) typed calls instead of casting void pointers in Swift.
 */
static inline int swg_sk_X509_num(const STACK_OF(X509) *sk) { return sk_X509_num(sk); }
static inline X509 *swg_sk_X509_value(const STACK_OF(X509) *sk, int i) { return sk_X509_value(sk, i); }
static inline STACK_OF(X509) *swg_sk_X509_new_null(void) { return sk_X509_new_null(); }
/* Pushes without taking a reference: the caller keeps ownership (use swg_sk_X509_free). */
static inline int swg_sk_X509_push(STACK_OF(X509) *sk, X509 *x) { return sk_X509_push(sk, x); }
/* Frees the stack only (for stacks of borrowed certificates, e.g. CMS_get0_signers). */
static inline void swg_sk_X509_free(STACK_OF(X509) *sk) { sk_X509_free(sk); }
/* Frees the stack and drops one reference on every certificate (for get1_ stacks). */
static inline void swg_sk_X509_pop_free(STACK_OF(X509) *sk) { sk_X509_pop_free(sk, X509_free); }
static inline int swg_sk_X509_REVOKED_num(const STACK_OF(X509_REVOKED) *sk) { return sk_X509_REVOKED_num(sk); }
static inline int swg_sk_CMS_SignerInfo_num(STACK_OF(CMS_SignerInfo) *sk) { return sk_CMS_SignerInfo_num(sk); }
static inline CMS_SignerInfo *swg_sk_CMS_SignerInfo_value(STACK_OF(CMS_SignerInfo) *sk, int i) {
    return sk_CMS_SignerInfo_value(sk, i);
}

/* BIO_get_mem_data is a macro over BIO_ctrl: the bytes a memory BIO holds (CMS output, PEM text). */
static inline long swg_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

/* OPENSSL_free is a macro (it passes __FILE__/__LINE__): frees strings OpenSSL allocated for us. */
static inline void swg_OPENSSL_free(void *p) { OPENSSL_free(p); }

/*
 * XN_FLAG_RFC2253 is a macro over other macros (Swift does not import it). Without ESC_MSB, so a
 * subject such as O=重庆港 prints as UTF-8, as operators write it in partner settings, rather
 * than as \XX escapes.
 */
static inline unsigned long swg_XN_FLAG_RFC2253_UTF8(void) { return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB; }

#endif /* SWG_COPENSSL_SHIM_H */
