import CGatewaySys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Group commit for files: one `syncfs(2)` per file system makes a whole chunk of writes and renames durable.
///
/// Why not fsync each file and directory: a file costs ~6 fsyncs that way (object, its shard directory, the
/// receipt, the pickup directory...), which caps intake at ~400 files/s on these disks. The pipeline instead
/// writes a chunk of files without syncing, calls this once, and only then commits the ledger transaction
/// that relies on them; a crash before the call loses nothing the ledger knows about. On Linux ≥ 5.8
/// `syncfs` reports write-back errors of that file system, so a failed flush is an error, not silence.
public enum Durability {
    /// Flushes every file system that holds one of `paths` (each once, found by device number).
    public static func syncFileSystems(_ paths: [String]) throws(IntakeError) {
        var seen: Set<UInt64> = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw IntakeError.system("store.sync", path: path, operation: "stat before syncfs")
            }
            guard seen.insert(UInt64(info.st_dev)).inserted else { continue }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw IntakeError.system("store.sync", path: path, operation: "open for syncfs") }
            defer { close(fd) }
            if swg_syncfs(fd) != 0 { throw IntakeError.system("store.sync", path: path, operation: "syncfs") }
        }
    }
}
