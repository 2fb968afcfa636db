import CGatewaySys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A drop file now owned by the gateway: moved into the work area under a unique name.
public struct ClaimedFile: Sendable, Hashable {
    /// The partner whose drop it came from (also the first part of the work name).
    public var partner: String
    /// The name the partner gave it; the ledger and receipts use this, never the work name.
    public var originalName: String
    /// Where it was in the drop directory.
    public var originalPath: String
    /// Its path in the work area.
    public var workPath: String
    /// Size in bytes of the claimed file (fstat after the rename, so it is what will be read).
    public var size: Int64
    /// Modification time of the claimed file, kept from the partner's upload (rename does not change it).
    public var modified: FileTime
    /// Done-markers that were removed with it (full drop paths).
    public var removedMarkers: [String]
    /// Companions claimed with it (work-area paths `<work name><suffix>`, e.g. the detached signature).
    public var companions: [String] = []
    /// SHA-256 of the work file when it is already known (hashed as it was downloaded into the work area).
    public var digest: SHA256Digest? = nil
}

/// The result of trying to claim a ready file: losing a race to another poller is normal, not an error.
public enum ClaimOutcome: Sendable, Hashable {
    /// This poller owns the file now.
    case claimed(ClaimedFile)
    /// The file was gone when we tried: another poller (or the partner) moved it first.
    case alreadyTaken
}

/// Atomic claim of ready files by rename(2) into the gateway's work area.
///
/// rename within one file system is atomic: of two pollers renaming the same name, exactly one succeeds
/// and the other gets ENOENT, so a file is never taken twice. Across file systems rename fails with
/// EXDEV, and a copy would not be atomic, so that configuration is refused rather than worked around.
public enum Claim {
    /// Moves `file` into `workDirectory` under `<partner>.<epoch-nanos>.<random>.<original>`, then removes
    /// its done-markers. With `syncDirectories`, both directories are fsynced so the move survives a crash.
    public static func take(
        file: ReadyFile, partner: String, workDirectory: String, syncDirectories: Bool = true
    ) throws(IntakeError) -> ClaimOutcome {
        let workName = uniqueWorkName(partner: partner, original: file.name)
        let workPath = DropDirectory.join(workDirectory, workName)
        // Companions first: a crash after them and before the file leaves companions in the work area without
        // their file, which the next pickup puts back into the drop (`Claim.returnOrphanCompanions`); the other
        // order would leave the file to be judged without its signature.
        var moved: [(from: String, to: String)] = []
        for companion in file.companions {
            let name = String(companion.split(separator: "/").last ?? "")
            guard name.hasPrefix(file.name), name.count > file.name.count else { continue }
            let target = workPath + name.dropFirst(file.name.count)
            if Self.renameNoReplace(companion, target) == 0 {
                moved.append((companion, target))
            } else if errno != ENOENT {
                throw IntakeError.system("claim.rename", path: companion, operation: "rename into \(target)")
            }
        }
        if Self.renameNoReplace(file.path, workPath) != 0 {
            let e = errno
            switch e {
            case ENOENT:
                // The companions were taken for a file another poller took first: give them back.
                for (companion, target) in moved { _ = Self.renameNoReplace(target, companion) }
                // Either the source is gone (lost the race) or the work area is missing: tell them apart.
                var st = stat()
                if stat(workDirectory, &st) != 0 {
                    throw IntakeError.system("claim.work_directory", path: workDirectory,
                                             operation: "use the work directory", errorNumber: ENOENT)
                }
                return .alreadyTaken
            case EXDEV:
                throw IntakeError(
                    code: "claim.cross_device", path: file.path,
                    message: "cannot claim into \(workDirectory): it is on another file system than the drop directory; "
                        + "the work area must be on the drop's file system so the claim is an atomic rename",
                    errorNumber: e)
            default:
                throw IntakeError.system("claim.rename", path: file.path, operation: "rename into \(workPath)", errorNumber: e)
            }
        }
        var st = stat()
        guard lstat(workPath, &st) == 0 else {
            throw IntakeError.system("claim.stat", path: workPath, operation: "stat the claimed file")
        }
        var removed: [String] = []
        for marker in file.markers {
            if unlink(marker) == 0 {
                removed.append(marker)
            } else if errno != ENOENT {
                throw IntakeError.system("claim.marker", path: marker, operation: "remove the done-marker")
            }
        }
        if syncDirectories {
            try syncDirectory(workDirectory)
            try syncDirectory(parentDirectory(of: file.path))
        }
        return .claimed(ClaimedFile(
            partner: partner, originalName: file.name, originalPath: file.path, workPath: workPath,
            size: Int64(st.st_size), modified: FileTime(st.st_mtim), removedMarkers: removed, companions: moved.map(\.to)))
    }

    /// `<partner>.<epoch-nanos>.<random>.<original>`: unique across pollers and restarts, and still
    /// readable by an operator listing the work area.
    static func uniqueWorkName(partner: String, original: String) -> String {
        let safePartner = partner.isEmpty ? "partner" : partner.replacingSlashes()
        return "\(safePartner).\(newStamp()).\(original)"
    }

    /// A claim's unique stamp, `<epoch-nanos>.<random base 36>`: the middle of a work name.
    static func newStamp() -> String {
        "\(FileTime.now().epochNanoseconds).\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
    }

    /// renameat2(RENAME_NOREPLACE): fails with EEXIST rather than replace `to`. On a file system without
    /// it (EINVAL), plain rename(2): the work name's uniqueness is then what prevents an overwrite.
    static func renameNoReplace(_ from: String, _ to: String) -> Int32 {
        let result = swg_rename_noreplace(from, to)
        if result != 0 && errno == EINVAL { return rename(from, to) }
        return result
    }

    static func syncDirectory(_ path: String) throws(IntakeError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw IntakeError.system("claim.sync", path: path, operation: "open the directory to sync it") }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL {
            throw IntakeError.system("claim.sync", path: path, operation: "fsync the directory")
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

extension String {
    fileprivate func replacingSlashes() -> String {
        String(map { $0 == "/" ? "_" : $0 })
    }
}
