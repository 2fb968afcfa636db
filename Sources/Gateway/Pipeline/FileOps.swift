import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The pipeline's small file operations, each with its durability spelled out.
enum FileOps {
    /// mkdir -p, one component at a time (an existing directory is fine).
    static func makeDirectories(_ path: String) throws(IntakeError) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw IntakeError.system("run.mkdir", path: current, operation: "create the directory")
            }
        }
    }

    /// Removes finished work files of `directory`, then fsyncs it once; nothing to do for an empty list.
    static func remove(_ paths: [String], directory: String) throws(IntakeError) {
        guard !paths.isEmpty else { return }
        for path in paths where unlink(path) != 0 && errno != ENOENT {
            throw IntakeError.system("run.remove", path: path, operation: "remove the work file")
        }
        try Claim.syncDirectory(directory)
    }

    /// "; DIR: No space left on device (N KiB free)" when the file system holding `path` is (nearly) full, so
    /// an error that does not say it (SQLite's "disk I/O error") points the operator at the real cause.
    static func spaceNote(_ path: String) -> String {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return "" }
        let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        return free < 1 << 20 ? "; \(path): No space left on device (\(free / 1024) KiB free)" : ""
    }

    /// The first `count` bytes of a file (fewer when it is shorter).
    static func readHead(path: String, count: Int) throws(IntakeError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw IntakeError.system("run.read", path: path, operation: "open") }
        defer { close(fd) }
        return try ContentCompleteness.readAt(fd, path: path, offset: 0, count: count)
    }

    /// Writes `bytes` to `directory/name` through a dot-named temporary and a rename, without fsync: the
    /// caller makes a chunk of these durable with one `Durability.syncFileSystems`. An existing `name` is
    /// never replaced (`false` is returned, and the temporary removed). A missing `directory` is created.
    ///
    /// Nothing is asked of the file system first (does the directory exist, is the name taken): the rename that
    /// never replaces answers the second, a failed create the first, and a delivery is then three calls instead of
    /// five (a routed run of 1 000 manifests delivers 5 363 files).
    static func publish(_ bytes: [UInt8], directory: String, name: String) throws(IntakeError) -> Bool {
        let final = directory + "/" + name
        let temp = directory + "/." + name + ".tmp"
        var fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            try makeDirectories(directory)
            fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        if fd < 0 { throw IntakeError.system("deliver.io", path: temp, operation: "create") }
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                done += n
            }
        }
        if failure != 0 || close(fd) != 0 {
            let e = failure != 0 ? failure : errno
            unlink(temp)
            throw IntakeError.system("deliver.io", path: temp, operation: "write", errorNumber: e)
        }
        // A rename that never replaces: a file that appeared under the final name since the check above (the
        // partner's own, or another node's) is never overwritten.
        if Claim.renameNoReplace(temp, final) != 0 {
            let e = errno
            unlink(temp)
            if e == EEXIST { return false }
            throw IntakeError.system("deliver.io", path: final, operation: "rename into place", errorNumber: e)
        }
        return true
    }
}

/// The `stable` convention's memory between polls, kept in a small JSON file per partner beside the database,
/// so `gateway run --once` from cron counts sightings across runs. Losing it only delays readiness by a poll,
/// so it is written without fsync.
enum StabilityStore {
    static func path(partner: String, stateDirectory: String) -> String {
        stateDirectory + "/stability-" + partner + ".json"
    }

    static func load(partner: String, stateDirectory: String) -> StabilityMemory {
        guard let data = FileManager.default.contents(atPath: path(partner: partner, stateDirectory: stateDirectory)),
              let memory = try? JSONDecoder().decode(StabilityMemory.self, from: data) else { return StabilityMemory() }
        return memory
    }

    static func save(_ memory: StabilityMemory, partner: String, stateDirectory: String) {
        let target = path(partner: partner, stateDirectory: stateDirectory)
        guard let data = try? JSONEncoder().encode(memory) else { return }
        let temp = target + ".tmp"
        if FileManager.default.createFile(atPath: temp, contents: data) { rename(temp, target) }
    }
}

/// When each partner's drop was last polled by `gateway run --once --due-only` (a JSON file beside the
/// database), so a cron-driven gateway honours each partner's schedule. Written without fsync: losing it
/// only makes the next run poll once more.
final class PollLog {
    private let path: String
    private var times: [String: Double]

    init(stateDirectory: String) {
        path = stateDirectory + "/last-poll.json"
        times = FileManager.default.contents(atPath: path)
            .flatMap { try? JSONDecoder().decode([String: Double].self, from: $0) } ?? [:]
    }

    func lastPoll(_ partner: String) -> Date? { times[partner].map { Date(timeIntervalSince1970: $0) } }

    func record(_ partner: String, at date: Date) {
        times[partner] = date.timeIntervalSince1970
        guard let data = try? JSONEncoder().encode(times) else { return }
        let temp = path + ".\(getpid()).tmp"  // nodes sharing the state directory write their own
        if FileManager.default.createFile(atPath: temp, contents: data) { rename(temp, path) }
    }
}
