import CArchive

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The one file that calls libarchive: C handles and types never leave it.

/// Caps that keep a hostile archive from exhausting memory, disk or time.
public struct ArchiveLimits: Sendable, Hashable {
    /// More entries than this is refused (`archive.members`); bounds work per batch.
    public var maxMembers = 10_000
    /// A member expanding past this is refused (`archive.member_size`).
    public var maxMemberBytes: Int64 = 256 << 20
    /// All members together expanding past this is refused (`archive.total_size`).
    public var maxTotalBytes: Int64 = 1 << 30
    /// Expanded bytes over archive bytes above this is refused (`archive.bomb.ratio`), checked while streaming.
    public var maxRatio: Int64 = 100
    /// The ratio applies only once this much has been expanded: tiny archives of repetitive EDIFACT
    /// compress far beyond 100:1 yet are harmless.
    public var ratioGraceBytes: Int64 = 1 << 20
    /// Members up to this size are kept in memory; larger ones spill to a temporary file.
    public var inMemoryMemberBytes: Int64 = 4 << 20
    /// A member name longer than this (in UTF-8 bytes) is refused (`archive.name`): 1 024 is far beyond any real
    /// path (a component is at most 255), and the name is part of the batch's key in the store.
    public static let maxNameBytes = 1_024

    /// The gateway's defaults: 10 000 members, 256 MiB each, 1 GiB in all, 100:1.
    public init() {}
}

/// A refusal of a whole archive, with a stable code, the member at fault and the operator's explanation.
public struct ArchiveRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable refusal code, e.g. `archive.traversal`; receipts and the quarantine key on it.
    public var code: Code
    /// The member name as stored in the archive, when one member is at fault.
    public var member: String?
    /// Why, in words an operator can act on.
    public var reason: String

    /// A growable set of stable codes (a struct, not an enum, so adding one never breaks a switch).
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        /// Wraps a code string.
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A member name starting at the root (`/etc/passwd`, `\x`, `C:`).
        public static let absolute = Code(rawValue: "archive.absolute")
        /// A member name with a `..` component (`../evil`).
        public static let traversal = Code(rawValue: "archive.traversal")
        /// A symbolic or hard link member.
        public static let link = Code(rawValue: "archive.link")
        /// A device, FIFO or socket member.
        public static let special = Code(rawValue: "archive.special")
        /// A member with an empty name, or one longer than `ArchiveLimits.maxNameBytes`.
        public static let name = Code(rawValue: "archive.name")
        /// An encrypted member: the gateway has no key, and cannot check its size honestly.
        public static let encrypted = Code(rawValue: "archive.encrypted")
        /// More members than `ArchiveLimits.maxMembers`.
        public static let members = Code(rawValue: "archive.members")
        /// One member larger than `ArchiveLimits.maxMemberBytes`.
        public static let memberSize = Code(rawValue: "archive.member_size")
        /// All members larger than `ArchiveLimits.maxTotalBytes`.
        public static let totalSize = Code(rawValue: "archive.total_size")
        /// Expansion ratio above `ArchiveLimits.maxRatio`: a compression bomb.
        public static let ratio = Code(rawValue: "archive.bomb.ratio")
        /// Recognized as an archive but unreadable (corrupt, truncated, gzip without tar inside).
        public static let malformed = Code(rawValue: "archive.malformed")
    }

    /// Creates a refusal.
    public init(code: Code, member: String?, reason: String) {
        self.code = code
        self.member = member
        self.reason = reason
    }

    /// "[code] member: reason".
    public var description: String { "[\(code)] \(member.map { "\($0): " } ?? "")\(reason)" }
}

/// The container formats the gateway unpacks, detected from content.
public enum ArchiveKind: String, Sendable, Hashable {
    case zip, tar, tarGzip = "tar.gz"
}

/// One regular file taken out of an archive.
public struct ArchiveMember: Sendable, Hashable {
    /// Where the bytes are: small members in memory, large ones in a temporary file the caller removes.
    public enum Content: Sendable, Hashable {
        case bytes([UInt8])
        case file(path: String)
    }

    /// The member's name as stored (already checked: relative, no `..`).
    public var name: String
    /// Expanded size in bytes, as actually read (not as declared).
    public var size: Int64
    /// The bytes or the temporary file holding them.
    public var content: Content
}

/// What unpacking a batch gave.
public enum ArchiveUnpackResult: Sendable, Hashable {
    /// The file is not zip, tar or tar.gz: process it as one interchange.
    case notAnArchive
    /// Every member passed the checks, in archive order.
    case unpacked(ArchiveKind, [ArchiveMember])
    /// The archive is refused as a whole; nothing from it may be processed. Temporary files are removed.
    case refused(ArchiveRefusal)
}

/// Unpacks zip, tar and tar.gz batches (libarchive) into checked members, refusing hostile archives.
///
/// Nothing is ever extracted to a path taken from the archive: members go to memory or to temporary
/// files with gateway-chosen names, so names are only checked to refuse archives that try to escape.
public enum ArchiveUnpacker {
    /// Detects the kind from the file's first bytes (never its name) and unpacks it under `limits`.
    /// Large members spill to temporary files in `temporaryDirectory` (dot-named, so scans ignore them).
    public static func unpack(
        path: String, limits: ArchiveLimits = .init(), temporaryDirectory: String = "/tmp"
    ) throws(IntakeError) -> ArchiveUnpackResult {
        let (kind, archiveSize) = try detect(path)
        guard let kind else { return .notAnArchive }
        var unpack = Unpacking(limits: limits, archiveSize: max(archiveSize, 1), temporaryDirectory: temporaryDirectory)
        do {
            let reader = try Reader(path: path, kind: kind)
            try unpack.run(reader)
            return .unpacked(kind, unpack.members)
        } catch let refusal as ArchiveRefusal {
            unpack.removeTemporaryFiles()
            return .refused(refusal)
        } catch let error as IntakeError {
            unpack.removeTemporaryFiles()
            throw error
        } catch {
            unpack.removeTemporaryFiles()
            throw IntakeError(code: "archive.io", path: path, message: "\(error)")
        }
    }

    /// zip: local header or empty-archive record; gzip: 1F 8B (must hold a tar); tar: "ustar" at 257.
    static func detect(_ path: String) throws(IntakeError) -> (ArchiveKind?, Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { throw IntakeError.system("archive.io", path: path, operation: "open") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw IntakeError.system("archive.io", path: path, operation: "stat") }
        var head = [UInt8](repeating: 0, count: 512)
        let n = head.withUnsafeMutableBytes { raw in retryingEINTR { pread(fd, raw.baseAddress!, 512, 0) } }
        if n < 0 { throw IntakeError.system("archive.io", path: path, operation: "read") }
        let h = head.prefix(n)
        let size = Int64(st.st_size)
        if h.starts(with: [0x50, 0x4B, 0x03, 0x04]) || h.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return (.zip, size) }
        if h.starts(with: [0x1F, 0x8B]) { return (.tarGzip, size) }
        if n >= 262, head[257..<262].elementsEqual("ustar".utf8) { return (.tar, size) }
        return (nil, size)
    }

    /// Owns one libarchive read handle; `deinit` frees it on every path, refusals included.
    final class Reader {
        let handle: OpaquePointer
        let path: String

        /// Opens the file for the detected kind. The file was just opened and read by `detect`, so an open
        /// failure here is libarchive rejecting the content (e.g. gzip without a tar inside): malformed.
        init(path: String, kind: ArchiveKind) throws {
            guard let a = archive_read_new() else {
                throw IntakeError(code: "archive.io", path: path, message: "libarchive could not allocate a reader")
            }
            handle = a
            self.path = path
            // Only the detected format is enabled, so libarchive cannot wander into formats we never vetted.
            switch kind {
            case .zip: archive_read_support_format_zip(a)
            case .tar: archive_read_support_format_tar(a)
            case .tarGzip:
                archive_read_support_filter_gzip(a)
                archive_read_support_format_tar(a)
            }
            if archive_read_open_filename(a, path, 65_536) != ARCHIVE_OK {
                throw ArchiveRefusal(code: .malformed, member: nil, reason: "not a readable \(kind.rawValue) archive: \(errorText)")
            }
        }

        deinit { archive_read_free(handle) }

        var errorText: String {
            guard let s = archive_error_string(handle) else { return "unknown libarchive error" }
            return String(cString: s)
        }

        /// The next entry's header, or nil at the end; a corrupt header is an `archive.malformed` refusal.
        func nextEntry() throws(ArchiveRefusal) -> Entry? {
            var entry: OpaquePointer?
            let r = archive_read_next_header(handle, &entry)
            if r == ARCHIVE_EOF { return nil }
            guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let entry else {
                throw ArchiveRefusal(code: .malformed, member: nil, reason: "unreadable archive header: \(errorText)")
            }
            let cName = archive_entry_pathname_utf8(entry) ?? archive_entry_pathname(entry)
            return Entry(
                name: cName.map { String(cString: $0) } ?? "",
                fileType: UInt32(archive_entry_filetype(entry)),
                isHardLink: archive_entry_hardlink(entry) != nil,
                declaredSize: archive_entry_size_is_set(entry) != 0 ? Int64(archive_entry_size(entry)) : nil,
                isEncrypted: archive_entry_is_encrypted(entry) != 0)
        }

        /// Reads the current entry's next chunk into `buffer`; 0 at its end.
        func read(into buffer: UnsafeMutableRawBufferPointer, member: String) throws(ArchiveRefusal) -> Int {
            let n = archive_read_data(handle, buffer.baseAddress, buffer.count)
            if n < 0 {
                throw ArchiveRefusal(code: .malformed, member: member, reason: "unreadable member data: \(errorText)")
            }
            return Int(n)
        }
    }

    // libarchive's AE_IF* values are the POSIX st_mode type bits; spelled out because both Glibc and
    // libarchive's headers export S_IF* and Swift finds the name ambiguous.
    static let fileTypeRegular: UInt32 = 0o100000
    static let fileTypeDirectory: UInt32 = 0o040000
    static let fileTypeSymlink: UInt32 = 0o120000

    struct Entry {
        var name: String
        var fileType: UInt32
        var isHardLink: Bool
        var declaredSize: Int64?
        var isEncrypted: Bool
    }

    /// The running tallies of one unpack, checked on every chunk so a bomb stops early.
    struct Unpacking {
        let limits: ArchiveLimits
        let archiveSize: Int64
        let temporaryDirectory: String
        var members: [ArchiveMember] = []
        var temporaryFiles: [String] = []
        var total: Int64 = 0

        init(limits: ArchiveLimits, archiveSize: Int64, temporaryDirectory: String) {
            self.limits = limits
            self.archiveSize = archiveSize
            self.temporaryDirectory = temporaryDirectory
        }

        mutating func run(_ reader: Reader) throws {
            var entries = 0
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
            defer { buffer.deallocate() }
            while let entry = try reader.nextEntry() {
                entries += 1
                if entries > limits.maxMembers {
                    throw ArchiveRefusal(code: .members, member: entry.name,
                                         reason: "more than \(limits.maxMembers) members")
                }
                try check(entry)
                if entry.fileType == ArchiveUnpacker.fileTypeDirectory { continue }
                try readMember(entry, reader, buffer)
            }
        }

        func check(_ entry: Entry) throws(ArchiveRefusal) {
            let name = entry.name
            if name.isEmpty { throw ArchiveRefusal(code: .name, member: name, reason: "a member has an empty name") }
            let bytes = Array(name.utf8)
            if bytes.count > ArchiveLimits.maxNameBytes {
                throw ArchiveRefusal(code: .name, member: String(name.prefix(64)) + "...",
                                     reason: "a member name is \(bytes.count) bytes long; at most \(ArchiveLimits.maxNameBytes) accepted")
            }
            if bytes.first == UInt8(ascii: "/") || bytes.first == UInt8(ascii: "\\")
                || (bytes.count >= 2 && bytes[1] == UInt8(ascii: ":") && isLetter(bytes[0])) {
                throw ArchiveRefusal(code: .absolute, member: name, reason: "absolute member name")
            }
            if name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).contains("..") {
                throw ArchiveRefusal(code: .traversal, member: name, reason: "member name climbs out of the archive with '..'")
            }
            if entry.isHardLink || entry.fileType == ArchiveUnpacker.fileTypeSymlink {
                throw ArchiveRefusal(code: .link, member: name, reason: "links are not accepted in a batch")
            }
            if entry.fileType != ArchiveUnpacker.fileTypeRegular && entry.fileType != ArchiveUnpacker.fileTypeDirectory {
                throw ArchiveRefusal(code: .special, member: name, reason: "devices, FIFOs and sockets are not accepted in a batch")
            }
            if entry.isEncrypted {
                throw ArchiveRefusal(code: .encrypted, member: name, reason: "encrypted members cannot be read")
            }
            if let declared = entry.declaredSize, declared > limits.maxMemberBytes {
                throw ArchiveRefusal(code: .memberSize, member: name,
                                     reason: "declares \(declared) bytes, over the \(limits.maxMemberBytes)-byte member cap")
            }
        }

        mutating func readMember(_ entry: Entry, _ reader: Reader, _ buffer: UnsafeMutableRawBufferPointer) throws {
            var size: Int64 = 0
            var inMemory: [UInt8] = []
            var spill: (fd: Int32, path: String)?
            defer { if let spill { close(spill.fd) } }
            while true {
                let n = try reader.read(into: buffer, member: entry.name)
                if n == 0 { break }
                size += Int64(n)
                total += Int64(n)
                if size > limits.maxMemberBytes {
                    throw ArchiveRefusal(code: .memberSize, member: entry.name,
                                         reason: "expands past the \(limits.maxMemberBytes)-byte member cap")
                }
                if total > limits.maxTotalBytes {
                    throw ArchiveRefusal(code: .totalSize, member: entry.name,
                                         reason: "members expand past the \(limits.maxTotalBytes)-byte total cap")
                }
                if total > limits.ratioGraceBytes && total > limits.maxRatio * archiveSize {
                    throw ArchiveRefusal(code: .ratio, member: entry.name,
                                         reason: "expands more than \(limits.maxRatio):1 (\(total) bytes from an archive of \(archiveSize)): a compression bomb")
                }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                if spill == nil && size > limits.inMemoryMemberBytes {
                    spill = try createTemporaryFile()
                    try writeAll(spill!.fd, path: spill!.path, inMemory.withUnsafeBytes { $0 })
                    inMemory = []
                }
                if let spill {
                    try writeAll(spill.fd, path: spill.path, chunk)
                } else {
                    inMemory.append(contentsOf: chunk)
                }
            }
            let content: ArchiveMember.Content = spill.map { .file(path: $0.path) } ?? .bytes(inMemory)
            members.append(ArchiveMember(name: entry.name, size: size, content: content))
        }

        mutating func createTemporaryFile() throws(IntakeError) -> (fd: Int32, path: String) {
            var template = Array(DropDirectory.join(temporaryDirectory, ".swg-member-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd < 0 { throw IntakeError.system("archive.io", path: temporaryDirectory, operation: "create a temporary member file") }
            let path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            temporaryFiles.append(path)
            return (fd, path)
        }

        func writeAll(_ fd: Int32, path: String, _ bytes: UnsafeRawBufferPointer) throws(IntakeError) {
            var done = 0
            while done < bytes.count {
                let n = retryingEINTR { write(fd, bytes.baseAddress! + done, bytes.count - done) }
                if n < 0 { throw IntakeError.system("archive.io", path: path, operation: "write a temporary member file") }
                done += n
            }
        }

        func removeTemporaryFiles() {
            for path in temporaryFiles { unlink(path) }
        }

        func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    }
}
