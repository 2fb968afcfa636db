import Foundation
import Testing
import TestSupport

@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

// The SFTP transfer layer against a real OpenSSH sshd on loopback (TestSupport/TestSSHD.swift): every
// case is what an operator would see, down to the message naming the endpoint and the path. The OpenSSH
// `sftp` client is the referee where a second opinion on the server's state is needed.

private let userName = "swgsftptest"

/// Deterministic bytes (SplitMix-like), so a failure can be reproduced.
private func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        for shift in stride(from: 0, to: 64, by: 8) where index < count {
            out[index] = UInt8(truncatingIfNeeded: z >> UInt64(shift))
            index += 1
        }
    }
    return out
}

/// One sshd with one user, plus a local scratch directory, for one test.
private final class Fixture {
    let sshd: TestSSHD
    let local: URL
    var user: TestSSHD.User { sshd.user(userName) }
    var home: String { user.home }

    init() throws {
        sshd = try TestSSHD.start(users: [userName])
        local = FileManager.default.temporaryDirectory.appendingPathComponent("swg-sftp-local-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
    }

    deinit {
        sshd.stop()
        try? FileManager.default.removeItem(at: local)
    }

    func endpoint(knownHosts: String? = nil, key: String? = nil, transferTimeout: Int = 60) -> SFTPEndpoint {
        SFTPEndpoint(name: "carrierx-sftp", host: "127.0.0.1", port: sshd.port, user: userName,
                     privateKeyPath: key ?? user.privateKey, knownHostsPath: knownHosts ?? sshd.knownHosts,
                     connectTimeoutSeconds: 5, transferTimeoutSeconds: transferTimeout)
    }

    func connect(transferTimeout: Int = 60) throws -> SFTPSession {
        try SFTPSession.connect(endpoint(transferTimeout: transferTimeout))
    }

    /// Writes a local file and returns its path.
    func localFile(_ name: String, _ content: [UInt8]) throws -> String {
        let path = local.appendingPathComponent(name).path
        try Data(content).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A file placed on the server side directly (as the partner would), owned by the SFTP user.
    func remoteFile(_ relative: String, _ content: [UInt8]) throws {
        let path = home + "/" + relative
        try Data(content).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.ownerAccountName: userName], ofItemAtPath: path)
    }

    /// A root-owned directory in the user's home the user may read but not write.
    func readOnlyDirectory(_ name: String) throws -> String {
        let path = home + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return path
    }

    func serverBytes(_ relative: String) -> [UInt8]? {
        (try? Data(contentsOf: URL(fileURLWithPath: home + "/" + relative))).map { [UInt8]($0) }
    }
}

/// Runs `body`, expecting an SFTPError of `kind`; returns it so the message can be checked.
@discardableResult
private func expectSFTPError(_ kind: SFTPError.Kind, path: String?, sourceLocation: SourceLocation = #_sourceLocation,
                             _ body: () throws -> Void) -> SFTPError? {
    do {
        try body()
        Issue.record("expected \(kind), but it worked", sourceLocation: sourceLocation)
        return nil
    } catch let error as SFTPError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.endpoint == "carrierx-sftp", sourceLocation: sourceLocation)
        #expect(error.message.contains("carrierx-sftp"), "\(error.message)", sourceLocation: sourceLocation)
        if let path {
            #expect(error.path == path, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(path), "\(error.message)", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected SFTPError.\(kind), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

@Suite("SFTP transfer layer against a real sshd")
struct SFTPSessionTests {
    @Test("upload, list, stat, download, rename, remove, makeDirectory: exact bytes and hashes, empty and 12 MB files")
    func roundTrips() throws {
        let fx = try Fixture()
        let session = try fx.connect()
        defer { session.close() }
        let home = fx.home
        let files: [(String, [UInt8])] = [
            ("empty.edi", []),
            ("small.edi", Array("UNA:+.? 'UNB+UNOC:3+CARRIERX+SWG+260601:0000+1'\r\n\0".utf8)),
            ("chunk.edi", bytes(64 * 1024, seed: 2)),              // exactly one read request
            ("big.bin", bytes(12 * 1024 * 1024 + 17, seed: 3)),     // many pipelined requests, odd tail
        ]
        try session.makeDirectory(home + "/out")
        try session.makeDirectory(home + "/out")  // again: fine
        for (name, content) in files {
            let local = try fx.localFile(name, content)
            let sent = try session.upload(from: local, to: "\(home)/out/\(name).part")
            #expect(sent == Int64(content.count))
            try session.rename("\(home)/out/\(name).part", to: "\(home)/out/\(name)")
            #expect(fx.serverBytes("out/\(name)") == content, "\(name) on the server")
        }
        let listing = try session.list(home + "/out").sorted { $0.name < $1.name }
        #expect(listing.map(\.name) == files.map(\.0).sorted())
        for entry in listing {
            let content = files.first { $0.0 == entry.name }!.1
            #expect(entry.size == Int64(content.count))
            #expect(entry.isRegularFile && !entry.isDirectory)
            #expect(abs(entry.modified.timeIntervalSinceNow) < 120)
        }
        let directory = try #require(try session.stat(home + "/out"))
        #expect(directory.isDirectory && !directory.isRegularFile)
        #expect(try session.stat(home + "/out/nothing-here") == nil)

        for (name, content) in files {
            let target = fx.local.appendingPathComponent("back-\(name)").path
            let result = try session.download("\(home)/out/\(name)", to: target, expectedSize: Int64(content.count))
            #expect(result.size == Int64(content.count))
            #expect(result.sha256 == (try SHA256Digest.hash(content)), "\(name)")
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: target))) == content, "\(name)")
            let mode = try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int
            #expect(mode == 0o640)
        }
        // A download never overwrites a local file.
        let existing = fx.local.appendingPathComponent("back-small.edi").path
        expectSFTPError(.localIO, path: existing) {
            _ = try session.download("\(home)/out/small.edi", to: existing, expectedSize: nil)
        }
        #expect(fx.serverBytes("out/small.edi") != nil)

        try session.remove(home + "/out/small.edi")
        #expect(try session.stat(home + "/out/small.edi") == nil)
        expectSFTPError(.noSuchFile, path: home + "/out/small.edi") { try session.remove(home + "/out/small.edi") }
        expectSFTPError(.noSuchFile, path: home + "/out/gone.edi") {
            _ = try session.download(home + "/out/gone.edi", to: fx.local.appendingPathComponent("gone").path, expectedSize: nil)
        }
        #expect(!FileManager.default.fileExists(atPath: fx.local.appendingPathComponent("gone").path))
        expectSFTPError(.noSuchFile, path: home + "/nowhere") { _ = try session.list(home + "/nowhere") }
    }

    @Test("files written by the OpenSSH sftp client download intact, and ours read back intact with it")
    func interoperatesWithOpenSSHClient() throws {
        let fx = try Fixture()
        let content = bytes(3 * 1024 * 1024 + 5, seed: 7)
        let theirs = try fx.localFile("theirs.bin", content)
        let put = try fx.sshd.sftpClient(userName, batch: ["put \(theirs) \(fx.home)/theirs.bin"])
        #expect(put.status == 0, "\(put.stderr)")
        let session = try fx.connect()
        let back = fx.local.appendingPathComponent("theirs-back.bin").path
        let result = try session.download(fx.home + "/theirs.bin", to: back, expectedSize: nil)
        #expect(result.sha256 == (try SHA256Digest.hash(content)))
        _ = try session.upload(from: theirs, to: fx.home + "/ours.bin")
        let clientCopy = fx.local.appendingPathComponent("ours-by-client.bin").path
        let get = try fx.sshd.sftpClient(userName, batch: ["get \(fx.home)/ours.bin \(clientCopy)"])
        #expect(get.status == 0, "\(get.stderr)")
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: clientCopy))) == content)
    }

    @Test("upload never replaces an existing remote file")
    func uploadNeverReplaces() throws {
        let fx = try Fixture()
        try fx.remoteFile("DELIVERED.edi", Array("partner's file\n".utf8))
        let session = try fx.connect()
        let local = try fx.localFile("new.edi", Array("ours, must not land\n".utf8))
        expectSFTPError(.fileExists, path: fx.home + "/DELIVERED.edi") {
            _ = try session.upload(from: local, to: fx.home + "/DELIVERED.edi")
        }
        #expect(fx.serverBytes("DELIVERED.edi") == Array("partner's file\n".utf8))
        // The session is still usable afterwards.
        #expect(try session.upload(from: local, to: fx.home + "/OTHER.edi") == 20)
    }

    @Test("rename onto an existing target is fileExists and leaves both files; a missing source is noSuchFile")
    func renameNeverReplaces() throws {
        let fx = try Fixture()
        try fx.remoteFile("final.edi", Array("first\n".utf8))
        try fx.remoteFile("final.edi.tmp", Array("second\n".utf8))
        let session = try fx.connect()
        let error = expectSFTPError(.fileExists, path: fx.home + "/final.edi") {
            try session.rename(fx.home + "/final.edi.tmp", to: fx.home + "/final.edi")
        }
        #expect(error?.isTransient == false)
        #expect(error?.code == "sftp.file-exists")
        #expect(fx.serverBytes("final.edi") == Array("first\n".utf8))
        #expect(fx.serverBytes("final.edi.tmp") == Array("second\n".utf8))
        expectSFTPError(.noSuchFile, path: fx.home + "/missing.tmp") {
            try session.rename(fx.home + "/missing.tmp", to: fx.home + "/elsewhere.edi")
        }
    }

    @Test("a host key not in known_hosts is refused: hostKeyUnknown")
    func hostKeyUnknown() throws {
        let fx = try Fixture()
        let empty = try fx.localFile("empty_known_hosts", [])
        let otherHost = try fx.localFile("other_known_hosts", Array(
            (try String(contentsOfFile: fx.sshd.knownHosts, encoding: .utf8)).replacingOccurrences(of: "[127.0.0.1]", with: "[127.0.0.2]").utf8))
        for knownHosts in [empty, otherHost, fx.local.appendingPathComponent("absent").path] {
            let error = expectSFTPError(.hostKeyUnknown, path: knownHosts) {
                _ = try SFTPSession.connect(fx.endpoint(knownHosts: knownHosts))
            }
            #expect(error?.code == "sftp.host-key-unknown")
            #expect(error?.message.contains("127.0.0.1:\(fx.sshd.port)") == true)
            #expect(error?.message.contains("SHA256:") == true, "the fingerprint to compare: \(error?.message ?? "")")
        }
        #expect(!fx.sshd.log.contains("Accepted publickey"))
    }

    @Test("a different pinned key is refused before logging in: hostKeyChanged, nothing transferred")
    func hostKeyChanged() throws {
        let fx = try Fixture()
        let wrong = try fx.sshd.wrongKnownHosts()
        let error = expectSFTPError(.hostKeyChanged, path: wrong) {
            _ = try SFTPSession.connect(fx.endpoint(knownHosts: wrong))
        }
        #expect(error?.code == "sftp.host-key-changed")
        #expect(error?.isTransient == false)
        #expect(!fx.sshd.log.contains("Accepted publickey"), "no login may happen:\n\(fx.sshd.log)")
        #expect(listing(URL(fileURLWithPath: fx.home)).isEmpty)
    }

    @Test("a key the server does not know: authFailed; a missing key file: localIO; a closed port: connect")
    func authAndConnectFailures() throws {
        let fx = try Fixture()
        let other = fx.local.appendingPathComponent("other_key").path
        let keygen = Process()
        keygen.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        keygen.arguments = ["-q", "-t", "ed25519", "-N", "", "-f", other]
        try keygen.run()
        keygen.waitUntilExit()
        let error = expectSFTPError(.authFailed, path: other) { _ = try SFTPSession.connect(fx.endpoint(key: other)) }
        #expect(error?.code == "sftp.auth-failed")
        #expect(error?.message.contains(userName) == true)

        let missing = fx.local.appendingPathComponent("no_such_key").path
        expectSFTPError(.localIO, path: missing) { _ = try SFTPSession.connect(fx.endpoint(key: missing)) }

        fx.sshd.stop()
        let refused = expectSFTPError(.connect, path: nil) { _ = try SFTPSession.connect(fx.endpoint()) }
        #expect(refused?.isTransient == true)
        #expect(refused?.message.contains("127.0.0.1:\(fx.sshd.port)") == true)
    }

    @Test("a root-owned read-only directory: permissionDenied for upload, mkdir, remove")
    func permissionDenied() throws {
        let fx = try Fixture()
        let locked = try fx.readOnlyDirectory("in")
        try Data("x".utf8).write(to: URL(fileURLWithPath: locked + "/ROOTS.edi"))
        let session = try fx.connect()
        #expect(try session.list(locked).map(\.name) == ["ROOTS.edi"])
        let local = try fx.localFile("a.edi", Array("payload".utf8))
        let error = expectSFTPError(.permissionDenied, path: locked + "/a.edi") {
            _ = try session.upload(from: local, to: locked + "/a.edi")
        }
        #expect(error?.code == "sftp.permission-denied")
        expectSFTPError(.permissionDenied, path: locked + "/sub") { try session.makeDirectory(locked + "/sub") }
        expectSFTPError(.permissionDenied, path: locked + "/ROOTS.edi") { try session.remove(locked + "/ROOTS.edi") }
        let secret = try fx.readOnlyDirectory("secret")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: secret)
        expectSFTPError(.permissionDenied, path: secret) { _ = try session.list(secret) }
        #expect(listing(URL(fileURLWithPath: locked)) == ["ROOTS.edi"])
    }

    @Test("download with the wrong expected size: sizeMismatch and no local file")
    func sizeMismatch() throws {
        let fx = try Fixture()
        try fx.remoteFile("A.edi", bytes(10_000, seed: 5))
        let session = try fx.connect()
        let target = fx.local.appendingPathComponent("A.edi").path
        let error = expectSFTPError(.sizeMismatch, path: fx.home + "/A.edi") {
            _ = try session.download(fx.home + "/A.edi", to: target, expectedSize: 9_999)
        }
        #expect(error?.message.contains("10000") == true)
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test("sshd killed mid-download: connectionLost within seconds, partial file removed, session stays dead")
    func killedMidDownload() throws {
        let fx = try Fixture()
        // A 2 GiB sparse file: the server reads zeros quickly, and no test machine finishes it before the kill.
        let remote = fx.home + "/HUGE.bin"
        _ = FileManager.default.createFile(atPath: remote, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: remote))
        try handle.truncate(atOffset: 2 << 30)
        try handle.close()
        let target = fx.local.appendingPathComponent("HUGE.bin").path
        let outcome = TransferOutcome()
        let endpoint = fx.endpoint(transferTimeout: 20)
        let thread = Thread {
            do {
                let session = try SFTPSession.connect(endpoint)
                do {
                    _ = try session.download(remote, to: target, expectedSize: nil)
                    outcome.set(nil)
                } catch {
                    outcome.set(error)
                    // The session knows it is dead: the next call fails at once, without the network.
                    let start = Date()
                    let again = Result { try session.stat(remote) }
                    outcome.setFollowUp(again, seconds: Date().timeIntervalSince(start))
                }
            } catch {
                outcome.set(error)
            }
        }
        thread.start()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0 < 4 << 20 {
            usleep(5_000)
        }
        let killedAt = Date()
        fx.sshd.kill()
        let result = outcome.wait(seconds: 15)
        let elapsed = Date().timeIntervalSince(killedAt)
        let error = try #require(result as? SFTPError, "download after kill: \(String(describing: result))")
        #expect(error.kind == .connectionLost || error.kind == .timeout, "\(error)")
        #expect(error.isTransient)
        #expect(error.message.contains(remote) && error.message.contains("carrierx-sftp"), "\(error.message)")
        #expect(elapsed < 10, "took \(elapsed) s after the kill")
        #expect(!FileManager.default.fileExists(atPath: target), "the partial file must go")
        let followUp = outcome.followUp
        #expect((followUp?.error as? SFTPError)?.isTransient == true, "\(String(describing: followUp))")
        #expect((followUp?.seconds ?? 99) < 1)

        // The same port serves again after a restart, with the same host key.
        try fx.sshd.restart()
        let session = try fx.connect()
        #expect(try session.stat(remote)?.size == 2 << 30)
    }

    @Test("a server that stops answering mid-download: timeout after transferTimeoutSeconds, partial file removed")
    func stalledServerTimesOut() throws {
        let fx = try Fixture()
        let remote = fx.home + "/HUGE.bin"
        _ = FileManager.default.createFile(atPath: remote, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: remote))
        try handle.truncate(atOffset: 2 << 30)
        try handle.close()
        let target = fx.local.appendingPathComponent("HUGE.bin").path
        let outcome = TransferOutcome()
        let endpoint = fx.endpoint(transferTimeout: 2)
        let thread = Thread {
            do {
                let session = try SFTPSession.connect(endpoint)
                _ = try session.download(remote, to: target, expectedSize: nil)
                outcome.set(nil)
            } catch {
                outcome.set(error)
            }
        }
        thread.start()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0 < 4 << 20 {
            usleep(5_000)
        }
        let pausedAt = Date()
        fx.sshd.pauseSessions()
        defer { fx.sshd.resumeSessions() }
        let result = outcome.wait(seconds: 20)
        let elapsed = Date().timeIntervalSince(pausedAt)
        let error = try #require(result as? SFTPError, "download while stalled: \(String(describing: result))")
        #expect(error.kind == .timeout, "\(error)")
        #expect(error.code == "sftp.timeout")
        #expect(error.message.contains(remote) && error.message.contains("2 s"), "\(error.message)")
        #expect(elapsed >= 1.5 && elapsed < 8, "took \(elapsed) s")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test("a full server disk: diskFull, and the partial remote file is removed")
    func diskFull() throws {
        let fx = try Fixture()
        let small = fx.home + "/small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/usr/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs", small]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount tmpfs needs root with CAP_SYS_ADMIN")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/usr/bin/umount")
            umount.arguments = [small]
            try? umount.run()
            umount.waitUntilExit()
        }
        let session = try fx.connect()
        let local = try fx.localFile("big.bin", bytes(3 << 20, seed: 9))
        let error = expectSFTPError(.diskFull, path: small + "/big.bin") {
            _ = try session.upload(from: local, to: small + "/big.bin")
        }
        #expect(error?.code == "sftp.disk-full")
        #expect(listing(URL(fileURLWithPath: small)).isEmpty, "the partial file must go")
    }

    @Test("probe of a good directory: ok, rename does not replace, small clock skew, directory unchanged")
    func probeGood() throws {
        let fx = try Fixture()
        try fx.remoteFile("KEEP.edi", Array("partner\n".utf8))
        let before = listing(URL(fileURLWithPath: fx.home))
        let report = SFTPProbe.run(fx.endpoint(), directory: fx.home)
        #expect(report.ok, "\(report)")
        #expect(report.steps.map(\.name) == ["connect", "list", "write", "rename", "read-back", "rename-onto-existing", "clean-up"])
        #expect(report.steps.allSatisfy { $0.ok })
        #expect(report.renameReplacesExisting == false)
        let skew = try #require(report.clockSkewSeconds)
        #expect(abs(skew) < 2, "skew \(skew)")
        #expect(listing(URL(fileURLWithPath: fx.home)) == before)
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(json.contains("\"renameReplacesExisting\":false"))
        // A local clock an hour behind shows as an hour of skew.
        let late = SFTPProbe.run(fx.endpoint(), directory: fx.home, now: { Date().addingTimeInterval(-3600) })
        #expect(abs((late.clockSkewSeconds ?? 0) - 3600) < 2)
    }

    @Test("probe of a read-only directory: fails at the write step, names it, leaves nothing")
    func probeReadOnly() throws {
        let fx = try Fixture()
        let locked = try fx.readOnlyDirectory("in")
        let report = SFTPProbe.run(fx.endpoint(), directory: locked)
        #expect(!report.ok)
        let failed = try #require(report.steps.first { !$0.ok })
        #expect(failed.name == "write")
        #expect(failed.error?.contains("sftp.permission-denied") == true, "\(failed)")
        #expect(failed.error?.contains(locked) == true)
        #expect(report.steps.last == failed)
        #expect(listing(URL(fileURLWithPath: locked)).isEmpty)

        let refused = SFTPProbe.run(fx.endpoint(knownHosts: try fx.sshd.wrongKnownHosts()), directory: fx.home)
        #expect(refused.steps.map(\.name) == ["connect"])
        #expect(refused.steps.first?.error?.contains("sftp.host-key-changed") == true)
    }

    @Test("error codes and transience")
    func codes() {
        let kinds: [(SFTPError.Kind, String, Bool)] = [
            (.connect, "sftp.connect", true), (.hostKeyUnknown, "sftp.host-key-unknown", false),
            (.hostKeyChanged, "sftp.host-key-changed", false), (.authFailed, "sftp.auth-failed", false),
            (.permissionDenied, "sftp.permission-denied", false), (.noSuchFile, "sftp.no-such-file", false),
            (.fileExists, "sftp.file-exists", false), (.diskFull, "sftp.disk-full", false),
            (.connectionLost, "sftp.connection-lost", true), (.timeout, "sftp.timeout", true),
            (.sizeMismatch, "sftp.size-mismatch", false), (.protocolError, "sftp.protocol-error", false),
            (.localIO, "sftp.local-io", false),
        ]
        for (kind, code, transient) in kinds {
            let error = SFTPError(kind: kind, endpoint: "e", path: nil, message: "m")
            #expect(error.code == code)
            #expect(error.isTransient == transient)
        }
    }
}

/// The result of a transfer running on its own thread, waited for with a deadline.
private final class TransferOutcome: @unchecked Sendable {
    struct NoOutcome: Error { var seconds: Double }
    private let condition = NSCondition()
    private var finished = false
    private var error: Error?
    private var followUpDone = false
    private var followUpValue: (error: Error?, seconds: Double)?

    /// The transfer returned (nil) or threw.
    func set(_ error: Error?) {
        condition.lock()
        self.error = error
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// A call made on the same session after the failure.
    func setFollowUp(_ result: Result<SFTPEntry?, Error>, seconds: Double) {
        condition.lock()
        if case .failure(let error) = result { followUpValue = (error, seconds) } else { followUpValue = (nil, seconds) }
        followUpDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// The error (nil if the transfer succeeded), or NoOutcome if nothing came in time.
    func wait(seconds: Double) -> Error? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while !finished && condition.wait(until: deadline) {}
        return finished ? error : NoOutcome(seconds: seconds)
    }

    /// The follow-up call's outcome, waiting up to two seconds for it.
    var followUp: (error: Error?, seconds: Double)? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(2)
        while !followUpDone && condition.wait(until: deadline) {}
        return followUpValue
    }
}
