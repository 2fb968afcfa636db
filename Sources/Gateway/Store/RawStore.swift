#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the raw store, with a stable code for scripts and the path and errno for the operator.
public struct RawStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, growable error code: new codes are added, existing ones never change meaning.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The stored and printed form, e.g. "raw.io".
        public let rawValue: String
        /// Wraps a code string; prefer the named constants.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code as printed.
        public var description: String { rawValue }

        /// A system call on the store or the source file failed (see `errorNumber`).
        public static let io = Code(rawValue: "raw.io")
        /// No object with that hash is stored.
        public static let notFound = Code(rawValue: "raw.not-found")
        /// OpenSSL could not compute the digest.
        public static let digest = Code(rawValue: "raw.digest")
    }

    /// What went wrong, stably.
    public var code: Code
    /// The file or directory involved.
    public var path: String
    /// The operation that failed, in words: "open", "write", "fsync", "rename".
    public var operation: String
    /// errno at the failing call; 0 when the failure is not a system call's.
    public var errorNumber: Int32
    /// Extra detail (OpenSSL's messages), empty when errno says it all.
    public var detail: String

    /// Creates an error; `errorNumber` should be captured right at the failing call.
    public init(code: Code, path: String, operation: String, errorNumber: Int32 = 0, detail: String = "") {
        self.code = code
        self.path = path
        self.operation = operation
        self.errorNumber = errorNumber
        self.detail = detail
    }

    /// The operating system's words for `errorNumber` ("No space left on device"), empty for 0.
    public var errnoText: String { errorNumber == 0 ? "" : String(cString: strerror(errorNumber)) }

    /// "raw.io: /store/tmp/x.part: cannot fsync: No space left on device".
    public var description: String {
        var text = "\(code): \(path): cannot \(operation)"
        if errorNumber != 0 { text += ": \(errnoText)" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}

/// What `RawStore.put` stored: the content address, the size, and whether this call created it.
public struct RawObject: Sendable, Hashable {
    /// SHA-256 of the exact bytes.
    public var digest: SHA256Digest
    /// Size in bytes.
    public var size: Int64
    /// Absolute path of the stored object.
    public var path: String
    /// False when the object already existed (idempotent re-put), so callers can tell a replay.
    public var created: Bool
}

/// Content-addressed, crash-safe storage of raw bytes exactly as received ("the complete trade document library").
///
/// Objects live at `root/sha256/ab/<hex>` (one fan-out level: 256 directories, `ab` being the first two hex
/// digits). Opening the store creates all 256 fan-out directories once (and fsyncs `sha256/` once when it
/// created any), so a put never creates a directory: it streams into `root/tmp/` (same file system), fsyncs
/// the file, renames it into its fan-out directory and fsyncs that one directory. After a crash an object is
/// either absent or complete, never partial; a left-over temporary is invisible to `open`.
///
/// Stores written by the earlier two-level layout (`sha256/ab/cd/<hex>`) are not read by this one.
public struct RawStore: Sendable {
    /// The store's root directory.
    public let root: String
    /// Streaming chunk size: 64 KiB keeps memory flat and system calls few.
    public static let chunkSize = 65_536

    /// Opens (creating if needed) a store rooted at `root`; the path should be absolute.
    ///
    /// Creates `root`, `root/tmp`, `root/sha256` and its 256 fan-out directories `00` … `ff` where missing;
    /// when any was created, its parent is fsynced once (not per directory), so the names survive a crash
    /// before the first put relies on them. Opening an existing store costs 256 `stat`s and no fsync.
    public init(root: String) throws(RawStoreError) {
        self.root = root
        let objects = root + "/sha256"
        var createdTop = false
        createdTop = try Self.makeDirectory(root) || createdTop
        createdTop = try Self.makeDirectory(root + "/tmp") || createdTop
        createdTop = try Self.makeDirectory(objects) || createdTop
        if createdTop {
            try Self.syncDirectory(root)
            try Self.syncDirectory(Self.parent(of: root))
        }
        var createdFanOut = false
        var info = stat()
        for shard in Self.fanOutNames where stat(objects + "/" + shard, &info) != 0 {
            createdFanOut = try Self.makeDirectory(objects + "/" + shard) || createdFanOut
        }
        if createdFanOut { try Self.syncDirectory(objects) }
    }

    /// The 256 fan-out directory names, "00" … "ff".
    static let fanOutNames: [String] = (0..<256).map { i in
        let digits = Array("0123456789abcdef")
        return String([digits[i >> 4], digits[i & 15]])
    }

    /// Where the object with `digest` lives (whether or not it is stored yet).
    public func path(for digest: SHA256Digest) -> String {
        let hex = digest.hex
        let utf8 = Array(hex.utf8)
        let ab = String(decoding: utf8[0..<2], as: UTF8.self)
        return "\(root)/sha256/\(ab)/\(hex)"
    }

    /// Whether a complete object with `digest` is stored.
    public func contains(_ digest: SHA256Digest) -> Bool {
        var info = stat()
        return stat(path(for: digest), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Opens a stored object for streaming reads; `.notFound` if absent.
    public func open(_ digest: SHA256Digest) throws(RawStoreError) -> RawObjectFile {
        let objectPath = path(for: digest)
        let fd = retryingEINTR { systemOpen(objectPath, O_RDONLY | O_CLOEXEC) }
        if fd < 0 {
            let err = errno
            throw RawStoreError(
                code: err == ENOENT ? .notFound : .io, path: objectPath, operation: "open", errorNumber: err)
        }
        return RawObjectFile(fd: fd, path: objectPath)
    }

    /// Stores the file at `path`, streaming it in 64 KiB chunks; idempotent for content already stored.
    ///
    /// With `durable: false` nothing is fsynced: the caller makes a whole chunk of puts durable at once with
    /// `Durability.syncFileSystems` before anything relies on them (the pipeline does, before its ledger commit).
    public func put(fileAt sourcePath: String, durable: Bool = true) throws(RawStoreError) -> RawObject {
        let source = retryingEINTR { systemOpen(sourcePath, O_RDONLY | O_CLOEXEC) }
        if source < 0 { throw RawStoreError(code: .io, path: sourcePath, operation: "open", errorNumber: errno) }
        defer { _ = close(source) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        return try store(durable: durable) { (sink: (UnsafeRawBufferPointer) throws(RawStoreError) -> Void) throws(RawStoreError) in
            while true {
                let n = retryingEINTR { read(source, buffer.baseAddress, Self.chunkSize) }
                if n < 0 { throw RawStoreError(code: .io, path: sourcePath, operation: "read", errorNumber: errno) }
                if n == 0 { return }
                try sink(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
        }
    }

    /// Stores a file the gateway owns (a claimed file in its work area) by hard-linking it into place
    /// instead of copying it: one read to hash it, no second copy of the data, no new inode. `firstChunk`
    /// sees the file's first 64 KiB (the pipeline reads the UNB header from it, saving another read).
    ///
    /// The caller must never modify the file afterwards (it only removes its own name for it). The object is
    /// made read-only. Where a link is impossible (another file system, EXDEV), the bytes are copied as by
    /// `put(fileAt:)`. Not fsynced, like `put(..., durable: false)`: the caller syncs the file system.
    public func adopt(fileAt sourcePath: String, knownDigest: SHA256Digest? = nil,
                      firstChunk: (UnsafeRawBufferPointer) -> Void) throws(RawStoreError) -> RawObject
    {
        if let knownDigest { return try adopt(fileAt: sourcePath, digest: knownDigest, firstChunk: firstChunk) }
        let source = retryingEINTR { systemOpen(sourcePath, O_RDONLY | O_CLOEXEC) }
        if source < 0 { throw RawStoreError(code: .io, path: sourcePath, operation: "open", errorNumber: errno) }
        defer { _ = close(source) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        let hasher: SHA256Hasher
        do { hasher = try SHA256Hasher() } catch {
            throw RawStoreError(code: .digest, path: sourcePath, operation: "hash", detail: error.description)
        }
        var size: Int64 = 0
        while true {
            let n = retryingEINTR { read(source, buffer.baseAddress, Self.chunkSize) }
            if n < 0 { throw RawStoreError(code: .io, path: sourcePath, operation: "read", errorNumber: errno) }
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if size == 0 { firstChunk(chunk) }
            do throws(DigestError) { try hasher.update(chunk) } catch {
                throw RawStoreError(code: .digest, path: sourcePath, operation: "hash", detail: error.description)
            }
            size += Int64(n)
        }
        if size == 0 { firstChunk(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let digest: SHA256Digest
        do { digest = try hasher.finalize() } catch {
            throw RawStoreError(code: .digest, path: sourcePath, operation: "hash", detail: error.description)
        }
        return try linkAdopted(sourcePath, open: source, digest: digest, size: size)
    }

    /// Hard-links an adopted file into place under its digest (a copy where a link cannot be made); the file
    /// becomes read-only, since the store's objects never change.
    private func linkAdopted(_ sourcePath: String, open source: Int32, digest: SHA256Digest, size: Int64) throws(RawStoreError) -> RawObject {
        let finalPath = path(for: digest)
        if contains(digest) { return RawObject(digest: digest, size: size, path: finalPath, created: false) }
        try ensureShard(Self.parent(of: finalPath))
        if link(sourcePath, finalPath) != 0 {
            let e = errno
            if e == EEXIST { return RawObject(digest: digest, size: size, path: finalPath, created: false) }
            if e == EXDEV || e == EPERM || e == EMLINK { return try put(fileAt: sourcePath, durable: false) }
            throw RawStoreError(code: .io, path: finalPath, operation: "link", errorNumber: e)
        }
        _ = fchmod(source, 0o444)
        return RawObject(digest: digest, size: size, path: finalPath, created: true)
    }

    /// `adopt` of a file whose SHA-256 was computed as it was written (an SFTP download hashes the stream it
    /// writes into the private work area): only the first chunk is read, for the caller's header, instead of
    /// reading and hashing the whole file a second time.
    private func adopt(fileAt sourcePath: String, digest: SHA256Digest,
                       firstChunk: (UnsafeRawBufferPointer) -> Void) throws(RawStoreError) -> RawObject {
        let source = retryingEINTR { systemOpen(sourcePath, O_RDONLY | O_CLOEXEC) }
        if source < 0 { throw RawStoreError(code: .io, path: sourcePath, operation: "open", errorNumber: errno) }
        defer { _ = close(source) }
        var status = stat()
        if fstat(source, &status) != 0 { throw RawStoreError(code: .io, path: sourcePath, operation: "stat", errorNumber: errno) }
        let size = Int64(status.st_size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        let n = retryingEINTR { read(source, buffer.baseAddress, Self.chunkSize) }
        if n < 0 { throw RawStoreError(code: .io, path: sourcePath, operation: "read", errorNumber: errno) }
        firstChunk(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        return try linkAdopted(sourcePath, open: source, digest: digest, size: size)
    }

    /// Stores bytes already in memory (receipts, archive members); idempotent like `put(fileAt:)`.
    public func put(bytes: [UInt8], durable: Bool = true) throws(RawStoreError) -> RawObject {
        // The digest first: an object already stored then costs no temporary file at all (creating and
        // unlinking one costs an inode, and on ext4 without a journal recently freed inodes slow later creates).
        let digest: SHA256Digest
        do { digest = try SHA256Digest.hash(bytes) } catch {
            throw RawStoreError(code: .digest, path: root, operation: "hash", detail: error.description)
        }
        if contains(digest) { return RawObject(digest: digest, size: Int64(bytes.count), path: path(for: digest), created: false) }
        let result = bytes.withUnsafeBytes { all in
            Result { () throws(RawStoreError) -> RawObject in
            try store(durable: durable, knownDigest: digest) { (sink: (UnsafeRawBufferPointer) throws(RawStoreError) -> Void) throws(RawStoreError) in
                var offset = 0
                while offset < all.count {
                    let end = min(offset + Self.chunkSize, all.count)
                    try sink(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
                    offset = end
                }
            }
            }
        }
        return try result.get()
    }

    /// Removes temporaries left by a crash between write and rename; `olderThanSeconds` spares
    /// puts still in flight in another process. A temporary whose writer (the pid its name begins with)
    /// is no longer running on this host is removed whatever its age. Returns how many were removed.
    @discardableResult
    public func removeStaleTemporaries(olderThanSeconds: Double, now: Double) throws(RawStoreError) -> Int {
        let directory = root + "/tmp"
        guard let dir = opendir(directory) else {
            throw RawStoreError(code: .io, path: directory, operation: "opendir", errorNumber: errno)
        }
        defer { closedir(dir) }
        var removed = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasSuffix(".part") else { continue }
            let full = directory + "/" + name
            var info = stat()
            guard stat(full, &info) == 0 else { continue }
            let mtime = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
            let writer = name.split(separator: "-").first.flatMap { pid_t($0) }
            let writerGone = writer.map { $0 != getpid() && kill($0, 0) != 0 && errno == ESRCH } ?? false
            if writerGone || now - mtime >= olderThanSeconds, unlink(full) == 0 { removed += 1 }
        }
        return removed
    }

    // MARK: - The durable write path

    /// Streams `produce`'s chunks into a temporary, hashing as they pass, then publishes atomically.
    private func store(
        durable: Bool,
        knownDigest: SHA256Digest? = nil,
        _ produce: ((UnsafeRawBufferPointer) throws(RawStoreError) -> Void) throws(RawStoreError) -> Void
    ) throws(RawStoreError) -> RawObject {
        let temporary = Self.temporaryName(in: root + "/tmp")
        let fd = retryingEINTR { systemOpen(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444) }
        if fd < 0 { throw RawStoreError(code: .io, path: temporary, operation: "create", errorNumber: errno) }
        var published = false
        var fdOpen = true
        defer {
            if fdOpen { _ = close(fd) }
            if !published { _ = unlink(temporary) }
        }
        // Hashed while written, unless the caller hashed the bytes already.
        let hasher: SHA256Hasher?
        do { hasher = knownDigest == nil ? try SHA256Hasher() : nil } catch {
            throw RawStoreError(code: .digest, path: temporary, operation: "hash", detail: error.description)
        }
        var size: Int64 = 0
        try produce { (chunk: UnsafeRawBufferPointer) throws(RawStoreError) in
            do throws(DigestError) { try hasher?.update(chunk) } catch {
                throw RawStoreError(code: .digest, path: temporary, operation: "hash", detail: error.description)
            }
            try Self.writeAll(fd, chunk, path: temporary)
            size += Int64(chunk.count)
        }
        let digest: SHA256Digest
        if let knownDigest {
            digest = knownDigest
        } else {
            do { digest = try hasher!.finalize() } catch {
                throw RawStoreError(code: .digest, path: temporary, operation: "hash", detail: error.description)
            }
        }
        let finalPath = path(for: digest)
        if durable && retryingEINTR({ fsync(fd) }) != 0 {
            throw RawStoreError(code: .io, path: temporary, operation: "fsync", errorNumber: errno)
        }
        fdOpen = false
        if close(fd) != 0 { throw RawStoreError(code: .io, path: temporary, operation: "close", errorNumber: errno) }
        // A rename that never replaces says in one call whether the object was stored meanwhile (by another put);
        // only when the fan-out directory is missing is it made and the rename tried again.
        let shard = Self.parent(of: finalPath)
        var renamed = Claim.renameNoReplace(temporary, finalPath)
        if renamed != 0 && errno == ENOENT {
            try ensureShard(shard)
            renamed = Claim.renameNoReplace(temporary, finalPath)
        }
        if renamed != 0 {
            // Already stored: the temporary goes away (the deferred unlink). Durable already, or made so by the syncfs
            // that follows a non-durable put: syncfs flushes the whole file system, whoever wrote the object.
            if errno == EEXIST { return RawObject(digest: digest, size: size, path: finalPath, created: false) }
            throw RawStoreError(code: .io, path: finalPath, operation: "rename", errorNumber: errno)
        }
        published = true
        if durable { try Self.syncDirectory(shard) }
        return RawObject(digest: digest, size: size, path: finalPath, created: true)
    }

    /// The fan-out directory exists since `init`; should an operator have removed it since, it is recreated and
    /// `sha256/` fsynced, so the rename that follows never lands in a directory whose name could be lost.
    private func ensureShard(_ shard: String) throws(RawStoreError) {
        var info = stat()
        if stat(shard, &info) == 0 { return }
        try Self.makeDirectory(shard)
        try Self.syncDirectory(root + "/sha256")
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func writeAll(_ fd: Int32, _ chunk: UnsafeRawBufferPointer, path: String) throws(RawStoreError) {
        var offset = 0
        while offset < chunk.count {
            let n = retryingEINTR { write(fd, chunk.baseAddress! + offset, chunk.count - offset) }
            if n < 0 { throw RawStoreError(code: .io, path: path, operation: "write", errorNumber: errno) }
            offset += n
        }
    }

    /// fsync on a directory: makes a rename or a new entry in it durable.
    static func syncDirectory(_ path: String) throws(RawStoreError) {
        let fd = retryingEINTR { systemOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        if fd < 0 { throw RawStoreError(code: .io, path: path, operation: "open directory", errorNumber: errno) }
        defer { _ = close(fd) }
        if retryingEINTR({ fsync(fd) }) != 0 {
            throw RawStoreError(code: .io, path: path, operation: "fsync directory", errorNumber: errno)
        }
    }

    /// mkdir that accepts an existing directory (another process may have won the race); true when it created it.
    @discardableResult
    static func makeDirectory(_ path: String) throws(RawStoreError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        if errno == EEXIST { return false }
        throw RawStoreError(code: .io, path: path, operation: "mkdir", errorNumber: errno)
    }

    /// A name no other put (in this or another process) uses: pid, a per-process counter and random bits drawn once
    /// per process (the counter tells this process's puts apart; pid and bits, the processes of several hosts
    /// sharing a spool). Asking the kernel for both on every put was two of a put's nine system calls.
    private static func temporaryName(in directory: String) -> String {
        "\(directory)/\(temporaryPrefix)-\(temporarySerial.next())-\(temporaryBits).part"
    }

    private static let temporaryPrefix = getpid()
    private static let temporaryBits = String(UInt64.random(in: 0...UInt64.max), radix: 16)

    private static let temporarySerial = Serial()
}

/// open(2) under a name that `RawStore.open` does not shadow.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 { open(path, flags, mode) }

/// A thread-safe counter for temporary names.
private final class Serial: @unchecked Sendable {
    private var value: UInt64 = 0
    private var lock = pthread_mutex_t()
    init() { pthread_mutex_init(&lock, nil) }
    func next() -> UInt64 {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        value &+= 1
        return value
    }
}

/// A stored object opened for reading; owns its descriptor and closes it in `deinit`.
public final class RawObjectFile {
    private let fd: Int32
    /// Where the object lives, for error messages.
    public let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { _ = close(fd) }

    /// Calls `body` with each chunk in order, so a large object is read with flat memory; returns the byte count.
    @discardableResult
    public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: RawStore.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        while true {
            let n = retryingEINTR { read(fd, buffer.baseAddress, RawStore.chunkSize) }
            if n < 0 { throw RawStoreError(code: .io, path: path, operation: "read", errorNumber: errno) }
            if n == 0 { return total }
            total += n
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    /// Reads the whole object into memory; for small objects and tests.
    public func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        try forEachChunk { out.append(contentsOf: $0) }
        return out
    }
}
