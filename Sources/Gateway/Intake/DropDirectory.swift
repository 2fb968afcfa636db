import CGatewaySys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The convention itself is `ReadinessConvention` (Config/GatewayConfiguration.swift), the one type the
// configuration loads and the scan obeys; names are matched with the configuration's `FilePattern`.

/// A file in a drop directory that its partner's convention says is complete and may be claimed.
public struct ReadyFile: Sendable, Hashable {
    /// The file name inside the drop directory.
    public var name: String
    /// The full path (directory + "/" + name).
    public var path: String
    /// Size in bytes, as seen by the scan (lstat).
    public var size: Int64
    /// Modification time, as seen by the scan.
    public var modified: FileTime
    /// Full paths of the done-markers that announced this file; removed once the file is claimed.
    public var markers: [String]
    /// Full paths of files claimed with it, named `NAME<suffix>` (a detached signature, `NAME.p7s`).
    public var companions: [String]

    /// Creates a ready file; scans build these, tests and SFTP adapters may too.
    public init(name: String, path: String, size: Int64, modified: FileTime, markers: [String] = [],
                companions: [String] = []) {
        self.name = name
        self.path = path
        self.size = size
        self.modified = modified
        self.markers = markers
        self.companions = companions
    }
}

/// What the `.stable` convention remembers between polls; the caller keeps it and passes it back,
/// so scanning itself stays a pure function of the directory, the clock and this value.
public struct StabilityMemory: Sendable, Hashable, Codable {
    struct Observation: Sendable, Hashable, Codable {
        var size: Int64
        var modified: FileTime
        var inode: UInt64
        var sightings: Int
    }

    var observations: [String: Observation] = [:]

    /// An empty memory: every file starts its count from the next scan.
    public init() {}

    /// How many consecutive scans have seen `name` unchanged (0 if never seen).
    public func sightings(of name: String) -> Int { observations[name]?.sightings ?? 0 }
}

/// Lists a partner's drop directory and decides which files are ready under its convention.
public enum DropDirectory {
    /// Returns the ready files of `directory` whose names match one of `patterns` (globs; empty matches
    /// everything), oldest first then by name, so a busy partner cannot starve older files and
    /// reruns are deterministic.
    ///
    /// Symbolic links are never followed and anything but a regular file is skipped: a link could point
    /// the gateway at a file outside the drop. Dotfiles (editors' and uploaders' temporaries) are skipped,
    /// except under `.rename(ignoreDotfiles: false)`. `memory` is updated only for the `.stable` convention.
    public static func scan(
        directory: String, patterns: [FilePattern] = [], convention: ReadinessConvention,
        memory: inout StabilityMemory, now: FileTime = .now()
    ) throws(IntakeError) -> [ReadyFile] {
        ready(entries: try listRegularFiles(directory, renamingUnreadableNames: true), directory: directory, patterns: patterns,
              convention: convention, memory: &memory, now: now)
    }

    /// The readiness decision over a listing already made (a local directory's, or an SFTP server's, where
    /// `directory` is the remote path and inodes are 0): the same conventions wherever the files are.
    static func ready(
        entries: [String: Entry], directory: String, patterns: [FilePattern], convention: ReadinessConvention,
        memory: inout StabilityMemory, now: FileTime = .now()
    ) -> [ReadyFile] {
        let matches: (String) -> Bool = { name in
            patterns.isEmpty || patterns.contains { $0.matches(name) }
        }
        var ready: [ReadyFile] = []
        switch convention {
        case .rename(let ignoring, let ignoreDotfiles):
            for (name, e) in entries where !(ignoreDotfiles && name.hasPrefix(".")) && matches(name)
                && !ignoring.contains(where: { $0.matches(name) }) {
                ready.append(ReadyFile(name: name, path: join(directory, name), size: e.size, modified: e.modified))
            }
        case .doneMarker(let suffixes):
            let suffixes = suffixes.filter { !$0.isEmpty }
            for (name, e) in entries where !name.hasPrefix(".") && matches(name) {
                // A marker is never data, even when the patterns would match it.
                if suffixes.contains(where: { name.hasSuffix($0) && entries[String(name.dropLast($0.count))] != nil }) { continue }
                let markers = suffixes.map { name + $0 }.filter { entries[$0] != nil }
                if markers.isEmpty { continue }
                ready.append(ReadyFile(name: name, path: join(directory, name), size: e.size, modified: e.modified,
                                       markers: markers.map { join(directory, $0) }))
            }
        case .stable(let minAge, let polls):
            let minAge = Double(minAge)
            var next: [String: StabilityMemory.Observation] = [:]
            for (name, e) in entries where !name.hasPrefix(".") && matches(name) {
                var seen = StabilityMemory.Observation(size: e.size, modified: e.modified, inode: e.inode, sightings: 1)
                if let before = memory.observations[name], before.size == e.size,
                   before.modified == e.modified, before.inode == e.inode {
                    seen.sightings = before.sightings + 1
                }
                next[name] = seen
                if seen.sightings >= max(1, polls) && now.seconds(since: e.modified) >= minAge {
                    ready.append(ReadyFile(name: name, path: join(directory, name), size: e.size, modified: e.modified))
                }
            }
            // Forget files that left the directory, so memory stays as small as the directory.
            memory.observations = next
        }
        return ready.sorted { ($0.modified, $0.name) < ($1.modified, $1.name) }
    }

    struct Entry {
        var size: Int64
        var modified: FileTime
        var inode: UInt64
    }

    /// lstat of every entry relative to the open directory (fstatat, no follow), regular files only.
    ///
    /// A name that is not UTF-8 (a Windows client's GBK or Latin-1 bytes) cannot be a String, so it was never
    /// seen at all: the file sat in the drop unanswered. With `renamingUnreadableNames` (a drop directory) such a
    /// file is renamed in place to its `unreadableNameEscaped` form, which never replaces a file, and is then
    /// taken like any other; dotfiles (uploads in progress by convention) are left alone. Elsewhere such
    /// names are skipped.
    static func listRegularFiles(_ directory: String, renamingUnreadableNames: Bool = false) throws(IntakeError) -> [String: Entry] {
        guard let dir = opendir(directory) else {
            throw IntakeError.system("intake.scan", path: directory, operation: "open the drop directory")
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        var result: [String: Entry] = [:]
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw IntakeError.system("intake.scan", path: directory, operation: "read the drop directory") }
                break
            }
            let bytes = withUnsafeBytes(of: ent.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            var name: String
            if let readable = String(validating: bytes, as: UTF8.self) {
                name = readable
            } else {
                guard renamingUnreadableNames, bytes.first != UInt8(ascii: ".") else { continue }
                name = unreadableNameEscaped(bytes)
                let from = Array(join(directory, "").utf8) + bytes + [0]
                let renamed = from.withUnsafeBufferPointer { raw in
                    raw.withMemoryRebound(to: CChar.self) { swg_rename_noreplace($0.baseAddress!, join(directory, name)) }
                }
                if renamed != 0 { continue }  // taken meanwhile, or the escaped name exists: the next poll tries again
            }
            if name == "." || name == ".." { continue }
            var st = stat()
            if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                if errno == ENOENT { continue }  // removed between readdir and stat: another poller or the partner
                throw IntakeError.system("intake.scan", path: join(directory, name), operation: "stat")
            }
            guard (st.st_mode & S_IFMT) == S_IFREG else { continue }
            result[name] = Entry(size: Int64(st.st_size), modified: FileTime(st.st_mtim), inode: UInt64(st.st_ino))
        }
        return result
    }

    /// A name that is not UTF-8, made readable: printable ASCII kept, every other byte as `%XX` (upper-case hex).
    /// Every byte, not only the invalid ones: a GBK name (舱单 is B2 D5 B5 A5) holds pairs that happen to be valid
    /// UTF-8, and a name half decoded would be neither; this one an operator can decode in the partner's charset.
    static func unreadableNameEscaped(_ bytes: [UInt8]) -> String {
        var out = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += (hex.count == 1 ? "%0" : "%") + hex
            }
        }
        return out
    }

    /// The last component of a path.
    static func baseName(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
