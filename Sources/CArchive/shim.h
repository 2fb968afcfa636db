/*
 * CArchive: the one place the gateway imports libarchive (zip / tar.gz bundles dropped by partners).
 *
 * Why this target exists: libarchive ships no Clang module, so this system-library target gives
 * Swift one `import CArchive` with the pkg-config `libarchive` link flags. Only the Swift file that
 * wraps archive reading imports it; C types never leave that file.
 *
 * Why each include is here:
 *  - <archive.h>: reader/writer handles, format and filter support, archive_version_string().
 *  - <archive_entry.h>: per-entry pathname, size and type, read while streaming an archive.
 *
 * No static inline shims yet: the API used is plain functions and integer #defines
 * (ARCHIVE_OK, ARCHIVE_EOF, ...), which Swift imports directly.
 */
#ifndef SWG_CARCHIVE_SHIM_H
#define SWG_CARCHIVE_SHIM_H

#include <archive.h>
#include <archive_entry.h>

#endif /* SWG_CARCHIVE_SHIM_H */
