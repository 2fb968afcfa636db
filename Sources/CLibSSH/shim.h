/*
 * CLibSSH: the one place the gateway imports libssh (SFTP pickup and delivery to partners).
 *
 * Why this target exists: libssh ships no Clang module, so this system-library target gives Swift
 * one `import CLibSSH` with the pkg-config `libssh` link flags. Only the Swift file that wraps an
 * SSH/SFTP concept imports it; C types never leave that file.
 *
 * Why each include is here:
 *  - <fcntl.h>: sftp_open() takes POSIX O_RDONLY / O_WRONLY / O_CREAT / O_TRUNC flags; re-exported
 *    so the SFTP wrapper needs no separate Glibc import for them.
 *  - <libssh/libssh.h>: sessions, options, known-hosts checks, public-key auth, ssh_version().
 *  - <libssh/sftp.h>: the SFTP subsystem (open/read/write/rename/readdir).
 *
 * No static inline shims yet: libssh's non-variadic API imports directly (the variadic _ssh_log is
 * unavailable in Swift; use the logging callback instead).
 */
#ifndef SWG_CLIBSSH_SHIM_H
#define SWG_CLIBSSH_SHIM_H

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#endif /* SWG_CLIBSSH_SHIM_H */
