import Dispatch
import Foundation

/// What `SFTPProbe.run` found out about an endpoint, step by step, as JSON for `gateway check-config`
/// and for an operator setting up a new partner.
public struct SFTPProbeReport: Codable, Sendable, Hashable {
    /// One step of the probe.
    public struct Step: Codable, Sendable, Hashable {
        /// "connect", "list", "write", "rename", "read-back", "rename-onto-existing", "clean-up".
        public var name: String
        /// Whether it worked.
        public var ok: Bool
        /// How long it took, wall clock.
        public var milliseconds: Int
        /// The error (code and message) when it did not work.
        public var error: String?

        /// Creates a step.
        public init(name: String, ok: Bool, milliseconds: Int, error: String? = nil) {
            self.name = name
            self.ok = ok
            self.milliseconds = milliseconds
            self.error = error
        }
    }

    /// The endpoint's name.
    public var endpoint: String
    /// The directory probed.
    public var directory: String
    /// The steps run, in order; the probe stops at the first failure.
    public var steps: [Step]
    /// Whether renaming onto an existing file replaces it (false on OpenSSH). Deliveries rely on "no":
    /// a server that says yes would let a retried delivery overwrite a file the partner may be reading.
    /// nil when the probe did not get that far.
    public var renameReplacesExisting: Bool?
    /// The server's modification time of the freshly written probe file minus the local time of the
    /// write, in seconds (±1 s: SFTP v3 times are whole seconds). Pickup's "unchanged for N seconds"
    /// rule compares server times with local ones, so a large skew matters.
    public var clockSkewSeconds: Double?
    /// Every step worked.
    public var ok: Bool

    /// Creates a report.
    public init(endpoint: String, directory: String, steps: [Step], renameReplacesExisting: Bool?,
                clockSkewSeconds: Double?, ok: Bool) {
        self.endpoint = endpoint
        self.directory = directory
        self.steps = steps
        self.renameReplacesExisting = renameReplacesExisting
        self.clockSkewSeconds = clockSkewSeconds
        self.ok = ok
    }
}

/// A live check of an SFTP endpoint: can we connect, list, write, rename, read back and delete in
/// `directory`, and how does the server behave where the gateway depends on it (rename never replacing,
/// clock agreement)?
///
/// Everything it creates has a name starting ".swg-probe-" and is deleted again, also after a failure
/// as far as the connection allows, so probing a partner's live directory leaves no trace on success.
public enum SFTPProbe {
    /// Runs the probe; never throws: failures are steps with `ok: false`. `now` is the local clock the
    /// skew is measured against.
    public static func run(_ endpoint: SFTPEndpoint, directory: String, now: () -> Date = Date.init) -> SFTPProbeReport {
        var steps: [SFTPProbeReport.Step] = []
        var renameReplaces: Bool?
        var skew: Double?
        let token = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let temporary = base + ".swg-probe-\(token).tmp"
        let final = base + ".swg-probe-\(token)"
        let second = base + ".swg-probe-\(token)-2.tmp"
        let content = Array("swg probe \(token) \(now().timeIntervalSince1970)\n".utf8)
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("swg-probe-\(token)")
        try? FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: local) }

        func report(_ ok: Bool) -> SFTPProbeReport {
            SFTPProbeReport(endpoint: endpoint.name, directory: directory, steps: steps,
                            renameReplacesExisting: renameReplaces, clockSkewSeconds: skew, ok: ok)
        }
        /// Runs one step, timing it; false when it failed (and was recorded so).
        func step(_ name: String, _ body: () throws -> Void) -> Bool {
            let start = DispatchTime.now().uptimeNanoseconds
            var failure: String?
            do { try body() } catch { failure = "\(error)" }
            let milliseconds = Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
            steps.append(.init(name: name, ok: failure == nil, milliseconds: milliseconds, error: failure))
            return failure == nil
        }
        func writeLocal(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = local.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }

        var session: SFTPSession?
        guard step("connect", { session = try SFTPSession.connect(endpoint) }), let session else { return report(false) }
        defer { session.close() }
        /// Removes whatever the probe may have left, ignoring errors (it may not exist).
        func cleanUp() {
            for path in [temporary, final, second] { try? session.remove(path) }
        }

        guard step("list", { _ = try session.list(directory) }) else { return report(false) }
        guard step("write", {
            let path = try writeLocal("probe", content)
            let before = now()
            _ = try session.upload(from: path, to: temporary)
            let after = now()
            let written = before.addingTimeInterval(after.timeIntervalSince(before) / 2)
            if let entry = try session.stat(temporary) {
                skew = entry.modified.timeIntervalSince(written)
            }
        }) else { cleanUp(); return report(false) }
        guard step("rename", { try session.rename(temporary, to: final) }) else { cleanUp(); return report(false) }
        guard step("read-back", {
            let path = local.appendingPathComponent("read-back").path
            let result = try session.download(final, to: path, expectedSize: Int64(content.count))
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            guard bytes == content, result.sha256 == (try? SHA256Digest.hash(content)) else {
                throw SFTPError(kind: .protocolError, endpoint: endpoint.name, path: final,
                                message: "\(endpoint.name) (\(endpoint.address)): the probe file \(final) read back "
                                    + "differs from what was written")
            }
        }) else { cleanUp(); return report(false) }
        guard step("rename-onto-existing", {
            let path = try writeLocal("second", Array("second \(token)\n".utf8))
            _ = try session.upload(from: path, to: second)
            do {
                try session.rename(second, to: final)
                renameReplaces = true
            } catch {
                guard (error as Error as? SFTPError)?.kind == .fileExists else { throw error }
                renameReplaces = false
            }
        }) else { cleanUp(); return report(false) }
        guard step("clean-up", {
            if renameReplaces == false { try session.remove(second) }
            try session.remove(final)
            let left = try session.list(directory).filter { $0.name.hasPrefix(".swg-probe-\(token)") }
            guard left.isEmpty else {
                throw SFTPError(kind: .protocolError, endpoint: endpoint.name, path: directory,
                                message: "\(endpoint.name) (\(endpoint.address)): probe files still listed in \(directory) "
                                    + "after deleting them: \(left.map(\.name).joined(separator: ", "))")
            }
        }) else { cleanUp(); return report(false) }
        return report(true)
    }
}
