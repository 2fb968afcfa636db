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

#endif /* SWG_CXMLSEC_SHIM_H */
