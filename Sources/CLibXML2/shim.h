/*
 * CLibXML2: the one place the gateway imports libxml2 (XML payload parsing and XSD validation).
 *
 * Why this target exists: libxml2 ships no Clang module, so this system-library target gives Swift
 * one `import CLibXML2`; pkg-config `libxml-2.0` supplies -I/usr/include/libxml2 and -lxml2.
 * CXMLSec includes this header first so clang owns these declarations here (pitfall P3).
 *
 * Why each include is here:
 *  - <libxml/parser.h>: xmlReadFile/xmlReadMemory and the XML_PARSE_* options (NONET, no NOENT).
 *  - <libxml/tree.h>: the document/node types the validator and xmlsec walk.
 *  - <libxml/xmlschemas.h>: XSD parsing and validation.
 *  - <libxml/xmlschemastypes.h>: xmlSchemaInitTypes, called once before any schema is parsed (libxml2 2.9
 *    builds the built-in types lazily and without a lock, see XMLSchemaValidator.swift).
 *  - <libxml/xmlerror.h>: structured error callbacks (the variadic generic ones cannot be written
 *    in Swift, pitfall P6).
 *  - <libxml/xmlversion.h>: LIBXML_DOTTED_VERSION, the compiled-against version.
 */
#ifndef SWG_CLIBXML2_SHIM_H
#define SWG_CLIBXML2_SHIM_H

/* Debian's libxml2 is built with ICU, so <libxml/encoding.h> pulls in the system's <unicode/ucnv.h>.
   Foundation on Linux carries its own ICU module (_FoundationICU) whose UErrorCode differs, and a
   Swift module that imports both fails to build ("'UErrorCode' has different definitions in
   different modules"), depending on which module clang loads first. The gateway never uses
   libxml2's ICU converters: hiding them only drops the two trailing `uconv_t *` fields from
   xmlCharEncodingHandler, a struct we only ever hold by pointer. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlschemastypes.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

/* Runtime libxml2 version as digits ("20914"). `xmlParserVersion` is a macro over a per-thread
   accessor when threads are enabled, so Swift cannot see it; this getter expands it in C. */
static inline const char *swg_xmlParserVersion(void) { return xmlParserVersion; }

/* `xmlFree` is a global function-pointer variable, which Swift 6 refuses to read without
   `@preconcurrency` ("not concurrency-safe", pitfall P8); this wrapper frees libxml2-owned strings
   (xmlGetNoNsProp, xmlNodeGetContent, xmlDocDumpMemory) without weakening the import. */
static inline void swg_xmlFree(void *p) { xmlFree(p); }

#endif /* SWG_CLIBXML2_SHIM_H */
