// Linux system calls that Swift's Glibc module does not import: they are declared only under _GNU_SOURCE,
// which the module is built without. Each wrapper is defined in the .c file, where _GNU_SOURCE is set.
#ifndef CGATEWAYSYS_H
#define CGATEWAYSYS_H

/// syncfs(2): flush the whole file system that holds `fd` (group commit for a chunk of files).
int swg_syncfs(int fd);

/// renameat2(2) with RENAME_NOREPLACE: a rename that fails with EEXIST instead of replacing the target,
/// so a claim or a delivery can never overwrite a file, in one system call.
int swg_rename_noreplace(const char *from, const char *to);

/// sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0): SQLite stops counting its allocations, a count it keeps under a
/// process-wide mutex on every malloc and free of every connection (Swift cannot call the variadic sqlite3_config).
/// Only before SQLite initializes (the first connection opened); returns SQLITE_MISUSE (21) afterwards.
int swg_sqlite_disable_memstatus(void);

#endif
