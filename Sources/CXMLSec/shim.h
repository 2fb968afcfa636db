/*
 * CXMLSec: the one place the gateway imports xmlsec1 with its OpenSSL backend (XML-DSig
 * verification of signed XML documents from partners).
 *
 * Why this target exists: xmlsec1 ships no Clang module, so this system-library target gives Swift
 * one `import CXMLSec`; pkg-config `xmlsec1-openssl` supplies the include paths and link flags.
 *
 * Why the defines: SwiftPM drops pkg-config's -D flags ("prohibited flag(s)", pitfall P1), so they
 * are repeated here. They must match Debian's build of xmlsec1: XMLSEC_NO_SIZE_T makes xmlSecSize
 * `unsigned int`, an ABI difference that silently changes struct layouts if it is missing.
 */
#ifndef SWG_CXMLSEC_SHIM_H
#define SWG_CXMLSEC_SHIM_H

#define XMLSEC_CRYPTO_OPENSSL 1
#define XMLSEC_NO_SIZE_T 1
#define XMLSEC_NO_CRYPTO_DYNAMIC_LOADING 1
#define XMLSEC_OPENSSL3_ENGINES 1
#define XMLSEC_NO_GOST 1
#define XMLSEC_NO_GOST2012 1
#define __XMLSEC_FUNCTION__ __func__

/* Sibling shims FIRST: clang then imports CLibXML2 / COpenSSL as modules instead of re-owning their
   declarations here, which otherwise breaks release builds of files importing only CLibXML2 (P3). */
#include "../CLibXML2/shim.h"
#include "../COpenSSL/shim.h"

#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/templates.h>
#include <xmlsec/errors.h>
#include <xmlsec/crypto.h>

/* Node and namespace names are incomplete-array globals (`const xmlChar x[]`), which Swift cannot
   reference (pitfall P5); these getters hand them over as pointers. */
static inline const xmlChar *swg_xmlSecNodeSignature(void) { return xmlSecNodeSignature; }
static inline const xmlChar *swg_xmlSecDSigNs(void) { return xmlSecDSigNs; }

/* Transform and key-data ids are macros expanding to `...GetKlass()` calls, which Swift does not
   import (pitfall P4); these getters expand them in C. They feed the allow-lists of pitfall X1. */
static inline xmlSecTransformId swg_xmlSecTransformRsaSha256Id(void) { return xmlSecTransformRsaSha256Id; }
static inline xmlSecTransformId swg_xmlSecTransformSha256Id(void) { return xmlSecTransformSha256Id; }
static inline xmlSecTransformId swg_xmlSecTransformExclC14NId(void) { return xmlSecTransformExclC14NId; }
static inline xmlSecTransformId swg_xmlSecTransformEnvelopedId(void) { return xmlSecTransformEnvelopedId; }
static inline xmlSecKeyDataId swg_xmlSecKeyDataX509Id(void) { return xmlSecKeyDataX509Id; }

/* XML-DSig allow-lists (XMLDSigXMLSec.swift): the rest of the transform and key-data ids the verifier
   enables one by one, for the same reason as above (`...GetKlass()` macros, pitfall P4). Anything not
   listed here (SHA-1, MD5, HMAC, DSA, XPath, XSLT, base64, c14n 1.1) is never enabled. */
static inline xmlSecTransformId swg_xmlSecTransformRsaSha384Id(void) { return xmlSecTransformRsaSha384Id; }
static inline xmlSecTransformId swg_xmlSecTransformRsaSha512Id(void) { return xmlSecTransformRsaSha512Id; }
static inline xmlSecTransformId swg_xmlSecTransformEcdsaSha256Id(void) { return xmlSecTransformEcdsaSha256Id; }
static inline xmlSecTransformId swg_xmlSecTransformEcdsaSha384Id(void) { return xmlSecTransformEcdsaSha384Id; }
static inline xmlSecTransformId swg_xmlSecTransformEcdsaSha512Id(void) { return xmlSecTransformEcdsaSha512Id; }
static inline xmlSecTransformId swg_xmlSecTransformSha384Id(void) { return xmlSecTransformSha384Id; }
static inline xmlSecTransformId swg_xmlSecTransformSha512Id(void) { return xmlSecTransformSha512Id; }
static inline xmlSecTransformId swg_xmlSecTransformInclC14NId(void) { return xmlSecTransformInclC14NId; }
static inline xmlSecTransformId swg_xmlSecTransformInclC14NWithCommentsId(void) { return xmlSecTransformInclC14NWithCommentsId; }
static inline xmlSecTransformId swg_xmlSecTransformExclC14NWithCommentsId(void) { return xmlSecTransformExclC14NWithCommentsId; }

/* The X.509 key-data store inside a keys manager (where trusted CA certificates and CRLs live) is
   named by the macro `xmlSecOpenSSLX509StoreId` = `xmlSecOpenSSLX509StoreGetKlass()` (pitfall P4). */
static inline xmlSecKeyDataStoreId swg_xmlSecOpenSSLX509StoreId(void) { return xmlSecOpenSSLX509StoreId; }

/* `keyInfoReadCtx.enabledKeyData` is an xmlSecPtrList embedded by value in xmlSecDSigCtx, and xmlsec
   has no "enable key data" call (unlike EnableReferenceTransform / EnableSignatureTransform). Swift
   cannot take the stable address of a field reached through `ctx.pointee` (inout access may go
   through a temporary copy), so the address is taken here. A non-empty list means "only these":
   this is the fix for the KeyValue hole (pitfall X1). */
static inline int swg_xmlSecDSigCtxEnableKeyData(xmlSecDSigCtxPtr ctx, xmlSecKeyDataId dataId) {
    return xmlSecPtrListAdd(&(ctx->keyInfoReadCtx.enabledKeyData), (xmlSecPtr)dataId);
}

#endif /* SWG_CXMLSEC_SHIM_H */
