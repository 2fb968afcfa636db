import CLibSSH
import Dispatch
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The one file that touches libssh. Every libssh handle lives and dies inside `SFTPSession`; callers see
// Swift values (SFTPEntry, SFTPError, SHA256Digest) only.
//
// What libssh 0.10.6 (Debian 12) does that shaped this file:
//  - sftp_write is stop-and-wait (one SSH_FXP_WRITE, then block for its status) and 0.10 has no
//    asynchronous write, so upload throughput comes from large writes: OpenSSH's sftp-server drops the
//    connection for a message over 256 KiB, so writes are `maxWrite` = 255 KiB (its advertised limit).
//  - Reads can be pipelined with sftp_async_read_begin/sftp_async_read. sftp_async_read_begin sends a
//    request at the file's current offset and advances it; sftp_async_read waits for that id's reply,
//    sets `eof` on an EOF status (after which it returns 0 without reading anything) and, on a short reply,
//    moves the offset back by the shortfall, which is wrong once several requests are in flight. So the
//    download loop tracks offsets itself, re-seeks after a short read in the middle and clears `eof` to
//    collect the replies still in flight (Debian's CVE-2026-59848 fix rejects replies to unknown ids, so
//    every request sent is also received).
//  - sftp_rename is SFTP v3 SSH_FXP_RENAME: OpenSSH's server implements it with link()+unlink() and
//    fails with SSH_FX_FAILURE ("Failure") when the target exists. v3 has no "file exists" status, so a
//    failure is classified by a stat of the target. posix-rename@openssh.com is not exposed by 0.10.
//  - OpenSSH maps every errno without a v3 equivalent (ENOSPC, EEXIST from O_EXCL, EDQUOT) to
//    SSH_FX_FAILURE with the fixed text "Failure", so the server's words never say "disk full". After a
//    refused write the free space is asked with statvfs@openssh.com (sftp_statvfs) instead.
//  - In blocking mode libssh waits on the socket with the session timeout, but a reply that never comes
//    can still keep the SFTP layer looping. A watchdog (one timer per session) therefore shuts the socket
//    down when an operation has made no progress for `transferTimeoutSeconds`: every blocked libssh call
//    then fails at once, and the failure is reported as `.timeout`.

/// One SSH connection with its SFTP channel, reused for every transfer of a job.
///
/// Not Sendable: libssh sessions are not thread-safe, so one session belongs to one job on one thread.
/// Every call blocks. Nothing here ever replaces a remote or local file: uploads and local downloads use
/// exclusive create, and renames refuse an existing target, so a retried job can never clobber a file
/// that someone else (or an earlier attempt) already delivered.
public final class SFTPSession {
    /// The endpoint this session is connected to.
    public let endpoint: SFTPEndpoint

    private var session: ssh_session?
    private var sftp: sftp_session?
    private let watchdog: Watchdog
    /// Set once the connection is known to be gone, so later calls fail at once with the same cause.
    private var broken: SFTPError?

    /// Read request size: well below OpenSSH's 255 KiB read cap, so a full reply means "not at EOF yet".
    static let readChunk = 64 * 1024
    /// Read requests kept in flight: enough to cover libssh's 1.28 MB channel window.
    /// (Measured on loopback: 64 KiB x 32 ~ 235 MB/s; 32 KiB x 64 ~ 200; 128 KiB x 16 about the same as 64 x 32.)
    static let readDepth = 32
    /// Write size: OpenSSH's sftp-server max-write-length (`limits@openssh.com`); a larger SSH_FXP_WRITE
    /// exceeds its 256 KiB message limit and the server closes the session.
    static let maxWrite = 255 * 1024

    /// ssh_init once per process: it sets up libssh's crypto and threading and is not itself reentrant.
    private static let libraryReady: Bool = ssh_init() == SSH_OK

    private init(endpoint: SFTPEndpoint, session: ssh_session, sftp: sftp_session, watchdog: Watchdog) {
        self.endpoint = endpoint
        self.session = session
        self.sftp = sftp
        self.watchdog = watchdog
    }

    deinit { close() }

    // MARK: Connecting

    /// Connects, checks the host key against the endpoint's pinned keys only, logs in with the key and
    /// opens the SFTP channel.
    ///
    /// Only `knownHostsPath` is consulted (the global file is /dev/null and ~/.ssh/config is never read),
    /// so what the gateway trusts is exactly what its configuration says. The key is opened before
    /// connecting, so a bad passphrase or a missing key file costs no network round trip.
    public static func connect(_ endpoint: SFTPEndpoint) throws(SFTPError) -> SFTPSession {
        let where_ = "\(endpoint.name) (\(endpoint.address))"
        func fail(_ kind: SFTPError.Kind, _ message: String, path: String? = nil) -> SFTPError {
            SFTPError(kind: kind, endpoint: endpoint.name, path: path, message: "\(where_): \(message)")
        }
        guard libraryReady else { throw fail(.protocolError, "libssh could not be initialised (ssh_init)") }

        var key: ssh_key?
        let imported = ssh_pki_import_privkey_file(endpoint.privateKeyPath, endpoint.passphrase, nil, nil, &key)
        guard imported == SSH_OK, let key else {
            if access(endpoint.privateKeyPath, R_OK) != 0 {
                let reason = String(cString: strerror(errno))
                throw fail(.localIO, "cannot read the private key file \(endpoint.privateKeyPath): \(reason)",
                           path: endpoint.privateKeyPath)
            }
            throw fail(.authFailed, "cannot open the private key \(endpoint.privateKeyPath): "
                + (endpoint.passphrase == nil ? "it is encrypted or not a key (no passphrase is configured)"
                   : "wrong passphrase, or not an OpenSSH/PEM private key"), path: endpoint.privateKeyPath)
        }
        defer { ssh_key_free(key) }

        guard let session = ssh_new() else { throw fail(.protocolError, "libssh could not allocate a session") }
        var keepSession = false
        defer { if !keepSession { ssh_disconnect(session); ssh_free(session) } }
        func error() -> String { Self.text(ssh_get_error(UnsafeMutableRawPointer(session))) }

        var port = UInt32(clamping: endpoint.port)
        var strict: Int32 = 1
        var timeout = max(1, endpoint.connectTimeoutSeconds)
        var processConfig = false
        var noDelay: Int32 = 1
        let options: [(ssh_options_e, () -> Int32)] = [
            (SSH_OPTIONS_HOST, { ssh_options_set(session, SSH_OPTIONS_HOST, endpoint.host) }),
            (SSH_OPTIONS_PORT, { ssh_options_set(session, SSH_OPTIONS_PORT, &port) }),
            (SSH_OPTIONS_USER, { ssh_options_set(session, SSH_OPTIONS_USER, endpoint.user) }),
            (SSH_OPTIONS_PROCESS_CONFIG, { ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &processConfig) }),
            (SSH_OPTIONS_KNOWNHOSTS, { ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, endpoint.knownHostsPath) }),
            (SSH_OPTIONS_GLOBAL_KNOWNHOSTS, { ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") }),
            (SSH_OPTIONS_STRICTHOSTKEYCHECK, { ssh_options_set(session, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict) }),
            (SSH_OPTIONS_TIMEOUT, { ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout) }),
            // TCP_NODELAY: read requests and write statuses are tiny packets; with Nagle they wait for the
            // peer's delayed ACK, and a pipelined download stalls for 40 ms at a time (5x slower, measured).
            (SSH_OPTIONS_NODELAY, { ssh_options_set(session, SSH_OPTIONS_NODELAY, &noDelay) }),
            // AES-GCM first: OpenSSL runs it on AES-NI, several times faster than libssh's ChaCha20-Poly1305.
            (SSH_OPTIONS_CIPHERS_C_S, { ssh_options_set(session, SSH_OPTIONS_CIPHERS_C_S, Self.ciphers) }),
            (SSH_OPTIONS_CIPHERS_S_C, { ssh_options_set(session, SSH_OPTIONS_CIPHERS_S_C, Self.ciphers) }),
        ]
        for (option, apply) in options where apply() != SSH_OK {
            throw fail(.protocolError, "libssh refused option \(option.rawValue): \(error())")
        }

        guard ssh_connect(session) == SSH_OK else {
            throw fail(.connect, "cannot connect: \(error())")
        }
        switch ssh_session_is_known_server(session) {
        case SSH_KNOWN_HOSTS_OK:
            break
        case SSH_KNOWN_HOSTS_CHANGED, SSH_KNOWN_HOSTS_OTHER:
            throw fail(.hostKeyChanged, "the server's host key \(Self.fingerprint(session)) is NOT the key pinned for "
                + "\(Self.knownHostsName(endpoint)) in \(endpoint.knownHostsPath); refusing to log in "
                + "(the server was reinstalled, or someone is intercepting the connection)", path: endpoint.knownHostsPath)
        case SSH_KNOWN_HOSTS_UNKNOWN, SSH_KNOWN_HOSTS_NOT_FOUND:
            throw fail(.hostKeyUnknown, "the server's host key \(Self.fingerprint(session)) is not pinned for "
                + "\(Self.knownHostsName(endpoint)) in \(endpoint.knownHostsPath); add it there after checking it "
                + "with the partner", path: endpoint.knownHostsPath)
        default:
            throw fail(.hostKeyUnknown, "cannot check the host key against \(endpoint.knownHostsPath): \(error())",
                       path: endpoint.knownHostsPath)
        }

        let auth = ssh_userauth_publickey(session, nil, key)
        guard auth == Int32(SSH_AUTH_SUCCESS.rawValue) else {
            if auth == Int32(SSH_AUTH_ERROR.rawValue) {
                throw fail(.connectionLost, "connection failed during authentication: \(error())")
            }
            throw fail(.authFailed, "the server refused the key \(endpoint.privateKeyPath) for user \(endpoint.user)"
                + (auth == Int32(SSH_AUTH_PARTIAL.rawValue) ? " (it asks for a further authentication method)" : ""),
                path: endpoint.privateKeyPath)
        }

        // From here on a silent server is caught by the watchdog; libssh's own wait is made longer than ours
        // so that the watchdog, which knows it is a timeout, always speaks first.
        var sessionTimeout = max(1, endpoint.transferTimeoutSeconds) * 2 + 5
        ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &sessionTimeout)
        let watchdog = Watchdog(limitSeconds: max(1, endpoint.transferTimeoutSeconds), fd: ssh_get_fd(session))
        watchdog.arm()
        defer { watchdog.disarm() }
        guard let sftp = sftp_new(session) else {
            watchdog.stop()
            if watchdog.fired { throw fail(.timeout, "no answer for \(endpoint.transferTimeoutSeconds) s while opening the SFTP channel") }
            throw fail(.protocolError, "cannot open the SFTP subsystem: \(error())")
        }
        guard sftp_init(sftp) == SSH_OK else {
            watchdog.stop()
            sftp_free(sftp)
            if watchdog.fired { throw fail(.timeout, "no answer for \(endpoint.transferTimeoutSeconds) s while starting SFTP") }
            throw fail(.protocolError, "cannot start SFTP: \(error())")
        }
        keepSession = true
        return SFTPSession(endpoint: endpoint, session: session, sftp: sftp, watchdog: watchdog)
    }

    /// Closes the SFTP channel and the connection; safe to call twice, and called by deinit.
    public func close() {
        watchdog.stop()
        if let sftp { sftp_free(sftp) }
        if let session {
            ssh_disconnect(session)
            ssh_free(session)
        }
        sftp = nil
        session = nil
    }

    // MARK: Directory operations

    /// The names in `directory` with their attributes, without "." and "..".
    ///
    /// A hostile or broken server decides what a listing says, so names that could make a caller reach
    /// outside the directory are dropped rather than passed on: names containing "/", ".", "..", empty
    /// names and names that are not valid UTF-8 (they could not be asked for again byte for byte).
    /// libssh hands names over as C strings, so a name with an embedded NUL arrives cut at the NUL; the cut
    /// name still lies inside the directory, and the file it names is whatever the server serves for it.
    ///
    /// With `renamingUnreadableNames` (a partner's drop), a regular file whose name is not UTF-8 (a Windows client's
    /// GBK or Latin-1 bytes) is renamed on the server to `DropDirectory.unreadableNameEscaped` of its name (never
    /// replacing a file; dot names, uploads in progress by convention, are left) and listed under that name, so
    /// it is picked up and answered rather than left unseen.
    public func list(_ directory: String, renamingUnreadableNames: Bool = false) throws(SFTPError) -> [SFTPEntry] {
        let (session, sftp) = try handles(directory)
        _ = session
        watchdog.arm()
        defer { watchdog.disarm() }
        sftp.pointee.errnum = 0
        guard let dir = sftp_opendir(sftp, directory) else { throw failure("list", directory) }
        defer { sftp_closedir(dir) }
        var entries: [SFTPEntry] = []
        while true {
            guard let attributes = sftp_readdir(sftp, dir) else {
                if sftp_dir_eof(dir) != 0 { break }
                throw failure("list", directory)
            }
            defer { sftp_attributes_free(attributes) }
            watchdog.progress()
            guard let raw = attributes.pointee.name else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw))
            guard Self.isPlainName(bytes) else { continue }
            if let name = String(validating: bytes, as: UTF8.self) {
                entries.append(Self.entry(name: name, attributes))
            } else if renamingUnreadableNames, bytes.first != UInt8(ascii: ".") {
                let entry = Self.entry(name: DropDirectory.unreadableNameEscaped(Array(bytes)), attributes)
                guard entry.isRegularFile else { continue }
                let from = Array(DropDirectory.join(directory, "").utf8) + Array(bytes) + [0]
                let renamed = from.withUnsafeBufferPointer { raw in
                    raw.withMemoryRebound(to: CChar.self) { sftp_rename(sftp, $0.baseAddress!, DropDirectory.join(directory, entry.name)) }
                }
                if renamed == 0 { entries.append(entry) }  // else: the next listing tries again
            }
        }
        return entries
    }

    /// What the server says about `path` (following a symbolic link); nil when it does not exist.
    public func stat(_ path: String) throws(SFTPError) -> SFTPEntry? {
        let (_, sftp) = try handles(path)
        watchdog.arm()
        defer { watchdog.disarm() }
        sftp.pointee.errnum = 0
        guard let attributes = sftp_stat(sftp, path) else {
            let error = failure("stat", path)
            if error.kind == .noSuchFile { return nil }
            throw error
        }
        defer { sftp_attributes_free(attributes) }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return Self.entry(name: name, attributes)
    }

    /// Creates a directory (mode 0750); an existing directory of that name is success, so setup steps
    /// can be repeated.
    public func makeDirectory(_ path: String) throws(SFTPError) {
        let (_, sftp) = try handles(path)
        watchdog.arm()
        defer { watchdog.disarm() }
        sftp.pointee.errnum = 0
        guard sftp_mkdir(sftp, path, 0o750) == 0 else {
            let error = failure("create the directory", path)
            guard !error.isTransient else { throw error }
            if let existing = try? stat(path) {
                if existing.isDirectory { return }
                throw SFTPError(kind: .fileExists, endpoint: endpoint.name, path: path,
                                message: "\(prefix): cannot create the directory \(path): a file of that name exists")
            }
            throw error
        }
    }

    /// Removes a remote file.
    public func remove(_ path: String) throws(SFTPError) {
        let (_, sftp) = try handles(path)
        watchdog.arm()
        defer { watchdog.disarm() }
        sftp.pointee.errnum = 0
        guard sftp_unlink(sftp, path) == 0 else { throw failure("remove", path) }
    }

    /// Renames `from` to `to`, never replacing an existing `to`.
    ///
    /// SFTP v3 rename refuses an existing target on OpenSSH (link+unlink), but the refusal is a bare
    /// SSH_FX_FAILURE, so the target is stat'ed to tell `.fileExists` from other failures; a missing
    /// source is `.noSuchFile`.
    public func rename(_ from: String, to: String) throws(SFTPError) {
        let (_, sftp) = try handles(from)
        watchdog.arm()
        defer { watchdog.disarm() }
        sftp.pointee.errnum = 0
        guard sftp_rename(sftp, from, to) == 0 else {
            let error = failure("rename", from, detail: " to \(to)")
            guard !error.isTransient, error.kind != .noSuchFile else { throw error }
            if (try? stat(to)) ?? nil != nil {
                throw SFTPError(kind: .fileExists, endpoint: endpoint.name, path: to,
                                message: "\(prefix): cannot rename \(from) to \(to): the target exists "
                                    + "and is never replaced")
            }
            if (try? stat(from)) ?? nil == nil {
                throw SFTPError(kind: .noSuchFile, endpoint: endpoint.name, path: from,
                                message: "\(prefix): cannot rename \(from) to \(to): \(from) does not exist")
            }
            throw error
        }
    }

    // MARK: Transfers

    /// The SHA-256 of a remote file, read through a scratch file that is removed again (for the rare checks
    /// that compare a file on the server with one we know).
    public func digest(of remotePath: String, expectedSize: Int64?) throws(SFTPError) -> SHA256Digest {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("swg-compare-\(UUID().uuidString)").path
        defer { unlink(scratch) }
        return try download(remotePath, to: scratch, expectedSize: expectedSize).sha256
    }

    /// Streams the remote file into a new local file, hashing it on the way.
    ///
    /// The local file is created with O_EXCL (mode 0640), so a download can never overwrite anything; it
    /// is removed again on any failure, so a partial file is never mistaken for a whole one. Reads are
    /// pipelined (`readDepth` requests of `readChunk` bytes in flight), which is what makes large files
    /// go at the speed of the OpenSSH client. The file is not fsynced: the caller syncs files in groups.
    /// With `expectedSize` (the size seen in the listing) a different byte count is `.sizeMismatch`.
    public func download(_ remotePath: String, to localPath: String,
                         expectedSize: Int64?) throws(SFTPError) -> (size: Int64, sha256: SHA256Digest) {
        let (_, sftp) = try handles(remotePath)
        watchdog.arm()
        defer { watchdog.disarm() }
        sftp.pointee.errnum = 0
        guard let file = sftp_open(sftp, remotePath, O_RDONLY, 0) else { throw failure("download", remotePath) }
        var remoteOpen = true
        defer { if remoteOpen { sftp_close(file) } }
        var knownSize: Int64 = 0
        if let expectedSize {
            // The listing's size saves a round trip: the extra request at that offset still finds out
            // whether the file is longer (then .sizeMismatch).
            knownSize = expectedSize
        } else if let attributes = sftp_fstat(file) {
            if attributes.pointee.flags & UInt32(SSH_FILEXFER_ATTR_SIZE) != 0 {
                knownSize = Int64(clamping: attributes.pointee.size)
            }
            sftp_attributes_free(attributes)
        }

        let fd = open(localPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw localFailure("create", localPath) }
        var complete = false
        defer {
            Glibc.close(fd)
            if !complete { unlink(localPath) }
        }
        let hasher: SHA256Hasher
        do { hasher = try SHA256Hasher() } catch {
            throw SFTPError(kind: .localIO, endpoint: endpoint.name, path: localPath, message: "\(prefix): \(error)")
        }

        let chunk = Self.readChunk
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var inFlight: [(id: Int32, offset: Int64)] = []
        inFlight.reserveCapacity(Self.readDepth)
        var requestOffset: Int64 = 0
        var received: Int64 = 0
        // Requests go out up to and including the offset where the file should end, so the EOF reply
        // arrives in the same round trip as the data; a file that grows keeps the window moving.
        var limit = knownSize

        /// Collects replies to requests still in flight after EOF or a short read, so libssh's id list
        /// stays clean; their data is not needed.
        func drain() {
            for request in inFlight {
                file.pointee.eof = 0
                _ = sftp_async_read(file, buffer, UInt32(chunk), UInt32(bitPattern: request.id))
            }
            inFlight.removeAll()
        }

        reading: while true {
            while inFlight.count < Self.readDepth && requestOffset <= limit {
                let id = sftp_async_read_begin(file, UInt32(chunk))
                guard id >= 0 else { throw failure("download", remotePath) }
                inFlight.append((id, requestOffset))
                requestOffset += Int64(chunk)
            }
            guard !inFlight.isEmpty else { break }
            let request = inFlight.removeFirst()
            let count = sftp_async_read(file, buffer, UInt32(chunk), UInt32(bitPattern: request.id))
            if count < 0 { throw failure("download", remotePath) }
            watchdog.progress()
            if count == 0 {
                drain()
                break reading
            }
            try writeAll(fd, buffer, Int(count), localPath)
            do { try hasher.update(UnsafeRawBufferPointer(start: buffer, count: Int(count))) } catch {
                throw SFTPError(kind: .localIO, endpoint: endpoint.name, path: localPath, message: "\(prefix): \(error)")
            }
            received += Int64(count)
            if Int(count) == chunk {
                limit = max(limit, received)
                continue
            }
            // A short reply: at the expected end this is EOF as OpenSSH reports it (its read() came up
            // short); elsewhere the file shrank or the server caps reads, so re-aim at the real offset.
            drain()
            if received >= limit { break reading }
            if sftp_seek64(file, UInt64(received)) != 0 { throw failure("download", remotePath) }
            requestOffset = received
        }

        remoteOpen = false
        sftp_close(file)
        if let expectedSize, expectedSize != received {
            throw SFTPError(kind: .sizeMismatch, endpoint: endpoint.name, path: remotePath,
                            message: "\(prefix): downloaded \(received) bytes of \(remotePath) but \(expectedSize) were "
                                + "expected; the file changed on the server or the transfer was cut; nothing was kept")
        }
        let digest: SHA256Digest
        do { digest = try hasher.finalize() } catch {
            throw SFTPError(kind: .localIO, endpoint: endpoint.name, path: localPath, message: "\(prefix): \(error)")
        }
        complete = true
        return (received, digest)
    }

    /// Streams a local file to a new remote file and checks the size the server then reports.
    ///
    /// The remote file is opened with O_CREAT|O_EXCL, so an upload never replaces anything (an existing
    /// file is `.fileExists`); a failed upload removes what it created, when the connection still allows.
    /// libssh 0.10 writes stop-and-wait, so writes are as large as OpenSSH accepts (`maxWrite`).
    public func upload(from localPath: String, to remotePath: String) throws(SFTPError) -> Int64 {
        let (_, sftp) = try handles(remotePath)
        let fd = open(localPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw localFailure("open", localPath) }
        defer { Glibc.close(fd) }

        watchdog.arm()
        defer { watchdog.disarm() }
        sftp.pointee.errnum = 0
        guard let file = sftp_open(sftp, remotePath, O_WRONLY | O_CREAT | O_EXCL, 0o640) else {
            let error = failure("upload to", remotePath)
            if !error.isTransient, error.kind != .noSuchFile, error.kind != .permissionDenied,
               (try? stat(remotePath)) ?? nil != nil {
                throw SFTPError(kind: .fileExists, endpoint: endpoint.name, path: remotePath,
                                message: "\(prefix): cannot upload to \(remotePath): the file exists and is never replaced")
            }
            throw error
        }
        var remoteOpen = true
        var created = true
        defer {
            if remoteOpen { sftp_close(file) }
            if created, broken == nil { _ = sftp_unlink(sftp, remotePath) }
        }

        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.maxWrite, alignment: 16)
        defer { buffer.deallocate() }
        var sent: Int64 = 0
        while true {
            let count = read(fd, buffer, Self.maxWrite)
            if count < 0 {
                if errno == EINTR { continue }
                throw localFailure("read", localPath)
            }
            if count == 0 { break }
            var done = 0
            while done < count {
                let written = sftp_write(file, buffer + done, count - done)
                if written <= 0 { throw writeFailure(remotePath) }
                done += written
                watchdog.progress()
            }
            sent += Int64(count)
        }
        remoteOpen = false
        guard sftp_close(file) == 0 else { throw writeFailure(remotePath) }
        guard let attributes = sftp_stat(sftp, remotePath) else { throw failure("check the size of", remotePath) }
        let remoteSize = Int64(clamping: attributes.pointee.size)
        sftp_attributes_free(attributes)
        guard remoteSize == sent else {
            throw SFTPError(kind: .sizeMismatch, endpoint: endpoint.name, path: remotePath,
                            message: "\(prefix): uploaded \(sent) bytes to \(remotePath) but the server reports "
                                + "\(remoteSize); the partial file was removed")
        }
        created = false
        return sent
    }

    // MARK: Errors

    /// "carrierx-sftp (user@host:port)", the start of every message.
    private var prefix: String { "\(endpoint.name) (\(endpoint.address))" }

    /// The live handles, or the error that ended the session.
    private func handles(_ path: String) throws(SFTPError) -> (ssh_session, sftp_session) {
        if let broken {
            throw SFTPError(kind: broken.kind, endpoint: endpoint.name, path: path,
                            message: "\(prefix): cannot work on \(path): the session is no longer usable (\(broken.message))")
        }
        guard let session, let sftp else {
            throw SFTPError(kind: .connectionLost, endpoint: endpoint.name, path: path,
                            message: "\(prefix): cannot work on \(path): the session was closed")
        }
        return (session, sftp)
    }

    /// Classifies the failure of the libssh call just made: timeout (the watchdog fired), a lost
    /// connection, or the server's SFTP status.
    private func failure(_ operation: String, _ path: String, detail: String = "") -> SFTPError {
        let what = "cannot \(operation) \(path)\(detail)"
        if watchdog.fired {
            let error = SFTPError(kind: .timeout, endpoint: endpoint.name, path: path,
                                  message: "\(prefix): \(what): no progress for \(endpoint.transferTimeoutSeconds) s; "
                                      + "the connection was closed")
            broken = error
            return error
        }
        let sshText = session.map { Self.text(ssh_get_error(UnsafeMutableRawPointer($0))) } ?? ""
        if connectionGone() {
            let error = SFTPError(kind: .connectionLost, endpoint: endpoint.name, path: path,
                                  message: "\(prefix): \(what): the connection was lost"
                                      + (sshText.isEmpty ? "" : " (\(sshText))"))
            broken = error
            return error
        }
        let status = sftp.map { sftp_get_error($0) } ?? -1
        let words = sshText.isEmpty ? "" : " (\(sshText))"
        switch status {
        case SSH_FX_NO_SUCH_FILE, SSH_FX_NO_SUCH_PATH:
            return SFTPError(kind: .noSuchFile, endpoint: endpoint.name, path: path,
                             message: "\(prefix): \(what): no such file or directory\(words)")
        case SSH_FX_PERMISSION_DENIED, SSH_FX_WRITE_PROTECT:
            return SFTPError(kind: .permissionDenied, endpoint: endpoint.name, path: path,
                             message: "\(prefix): \(what): permission denied\(words)")
        case SSH_FX_FILE_ALREADY_EXISTS:
            return SFTPError(kind: .fileExists, endpoint: endpoint.name, path: path,
                             message: "\(prefix): \(what): the file exists\(words)")
        default:
            return SFTPError(kind: .protocolError, endpoint: endpoint.name, path: path,
                             message: "\(prefix): \(what): the server refused (SFTP status \(status))\(words)")
        }
    }

    /// A refused write: disk full when the server's free space (statvfs@openssh.com) says so, or when its
    /// message does; otherwise a protocol error that names the likely causes, since OpenSSH says only "Failure".
    private func writeFailure(_ path: String) -> SFTPError {
        let error = failure("write", path)
        guard error.kind == .protocolError, let sftp else { return error }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var full = error.message.localizedCaseInsensitiveContains("no space left")
        if !full, sftp_extension_supported(sftp, "statvfs@openssh.com", "2") != 0,
           let info = sftp_statvfs(sftp, directory.isEmpty ? "/" : directory) {
            full = info.pointee.f_bavail * info.pointee.f_frsize < UInt64(Self.maxWrite)
            sftp_statvfs_free(info)
        }
        if full {
            return SFTPError(kind: .diskFull, endpoint: endpoint.name, path: path,
                             message: "\(prefix): cannot write \(path): the server's disk is full")
        }
        return SFTPError(kind: .protocolError, endpoint: endpoint.name, path: path,
                         message: error.message + "; OpenSSH reports a full disk or an exceeded quota this way")
    }

    private func localFailure(_ operation: String, _ path: String) -> SFTPError {
        let reason = String(cString: strerror(errno))
        return SFTPError(kind: .localIO, endpoint: endpoint.name, path: path,
                         message: "\(prefix): cannot \(operation) the local file \(path): \(reason)")
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int, _ path: String) throws(SFTPError) {
        var done = 0
        while done < count {
            let written = write(fd, bytes + done, count - done)
            if written < 0 {
                if errno == EINTR { continue }
                throw localFailure("write", path)
            }
            done += written
        }
    }

    /// Whether the socket or the SFTP channel is gone (server killed, network cut, watchdog shutdown).
    private func connectionGone() -> Bool {
        guard let session, let sftp else { return true }
        if ssh_is_connected(session) == 0 { return true }
        if ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR) != 0 { return true }
        if ssh_get_error_code(UnsafeMutableRawPointer(session)) == SSH_FATAL.rawValue { return true }
        if let channel = sftp.pointee.channel, ssh_channel_is_open(channel) == 0 || ssh_channel_is_eof(channel) != 0 {
            return true
        }
        return false
    }

    // MARK: Helpers

    private static let ciphers = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,"
        + "aes128-ctr,aes192-ctr,aes256-ctr"

    private static func text(_ cString: UnsafePointer<CChar>?) -> String {
        guard let cString else { return "" }
        return String(cString: cString)
    }

    /// "[host]:port" or "host", as the known_hosts line must name the server.
    private static func knownHostsName(_ endpoint: SFTPEndpoint) -> String {
        endpoint.port == 22 ? endpoint.host : "[\(endpoint.host)]:\(endpoint.port)"
    }

    /// The server key's SHA-256 fingerprint in OpenSSH's notation, so an operator can compare it by phone.
    private static func fingerprint(_ session: ssh_session) -> String {
        var key: ssh_key?
        guard ssh_get_server_publickey(session, &key) == SSH_OK, let key else { return "(unavailable)" }
        defer { ssh_key_free(key) }
        var hash: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) == 0, let bytes = hash else {
            return "(unavailable)"
        }
        defer { ssh_clean_pubkey_hash(&hash) }
        guard let text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, bytes, length) else { return "(unavailable)" }
        defer { ssh_string_free_char(text) }
        return String(cString: text)
    }

    /// A name that stays inside its directory: not empty, not "." or "..", no "/".
    private static func isPlainName(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty, !bytes.contains(UInt8(ascii: "/")), !bytes.contains(0) else { return false }
        if bytes.count == 1 && bytes[0] == UInt8(ascii: ".") { return false }
        if bytes.count == 2 && bytes[0] == UInt8(ascii: ".") && bytes[1] == UInt8(ascii: ".") { return false }
        return true
    }

    private static func entry(name: String, _ attributes: sftp_attributes) -> SFTPEntry {
        let a = attributes.pointee
        let size = a.flags & UInt32(SSH_FILEXFER_ATTR_SIZE) != 0 ? Int64(clamping: a.size) : 0
        let seconds = a.mtime64 != 0 ? Int64(clamping: a.mtime64) : Int64(a.mtime)
        let type: UInt32 = a.flags & UInt32(SSH_FILEXFER_ATTR_PERMISSIONS) != 0 ? a.permissions & 0o170000 : 0
        // S_IFMT, S_IFREG, S_IFDIR: spelled out because Glibc and the libssh shim both export them.
        let isRegular = type != 0 ? type == 0o100000 : a.type == UInt8(SSH_FILEXFER_TYPE_REGULAR)
        let isDirectory = type != 0 ? type == 0o040000 : a.type == UInt8(SSH_FILEXFER_TYPE_DIRECTORY)
        return SFTPEntry(name: name, size: size, modified: Date(timeIntervalSince1970: TimeInterval(seconds)),
                         isRegularFile: isRegular, isDirectory: isDirectory)
    }
}

/// Shuts the session's socket down when an operation has made no progress for too long.
///
/// libssh blocks inside its own loops, so the only reliable way to end a wait on a silent server is from
/// outside: shutdown(2) on the socket wakes every blocked read and write, and libssh then fails the call.
/// The descriptor is forgotten under the lock before the session closes it, so a reused descriptor
/// number can never be shut down by mistake.
private final class Watchdog: @unchecked Sendable {
    private let lock = NIOLock()
    private var fd: Int32
    private var armed = false
    private var lastProgress: UInt64 = 0
    private var hasFired = false
    private let limitNanoseconds: UInt64
    private var timer: DispatchSourceTimer?

    init(limitSeconds: Int, fd: Int32) {
        self.fd = fd
        self.limitNanoseconds = UInt64(limitSeconds) * 1_000_000_000
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let period = min(1.0, Double(limitSeconds) / 4)
        timer.schedule(deadline: .now() + period, repeating: period, leeway: .milliseconds(50))
        timer.setEventHandler { [weak self] in self?.check() }
        self.timer = timer
        timer.resume()
    }

    /// Whether the watchdog shut the socket down; the session reports `.timeout` then.
    var fired: Bool { lock.withLock { hasFired } }

    /// An operation starts: the clock runs from now.
    func arm() {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.withLock {
            armed = true
            lastProgress = now
        }
    }

    /// Bytes moved or a reply came: the clock restarts.
    func progress() {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.withLock { lastProgress = now }
    }

    /// The operation ended.
    func disarm() { lock.withLock { armed = false } }

    /// The session is closing: never touch the descriptor again.
    func stop() {
        let timer = lock.withLock { () -> DispatchSourceTimer? in
            fd = -1
            armed = false
            defer { self.timer = nil }
            return self.timer
        }
        timer?.cancel()
    }

    private func check() {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.withLock {
            guard armed, !hasFired, fd >= 0, now > lastProgress, now - lastProgress >= limitNanoseconds else { return }
            hasFired = true
            _ = shutdown(fd, Int32(SHUT_RDWR))
        }
    }

    deinit { timer?.cancel() }
}
