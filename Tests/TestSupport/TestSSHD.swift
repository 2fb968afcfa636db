import Foundation

#if canImport(Glibc)
import Glibc
#endif

// A real OpenSSH sshd on loopback for the SFTP tests, one per test that needs one (they run in parallel).
//
// What it takes (found while writing the feasibility notes, see /work/shared/notes):
//  - sshd running as root needs its privilege-separation directory /run/sshd.
//  - useradd leaves the password field "!" (locked) and with UsePAM no sshd refuses locked accounts:
//    `usermod -p '*'` unlocks key logins without allowing any password.
//  - StrictModes no: the keys live under /tmp (mode 1777), which StrictModes rejects.
//  - No ChrootDirectory (it cannot be under /tmp): `ForceCommand internal-sftp -d HOME` starts each user
//    in its own directory instead; users see the rest of the file system with their own permissions.
//  - sshd must be started by its absolute path (it re-executes itself).
//  - Per-connection sshd processes call setsid(), so they are not in the listener's process group:
//    kill() finds them through /proc by parent pid (listener -> [priv] -> user@notty).
//  - The launcher is `sh`, which starts sshd and also waits for its own stdin (a pipe from this process)
//    to close: if the test process dies without stopping the instance, the pipe closes and sh
//    terminates sshd, so a crashed test run leaves no sshd behind.

/// A failure to start or drive the test sshd, with the command and its output.
public struct TestSSHDError: Error, CustomStringConvertible {
    /// What failed.
    public var description: String
}

/// A real OpenSSH sshd on a free loopback port with its own host key, key-only, internal-sftp only.
public final class TestSSHD: @unchecked Sendable {
    /// One SFTP account of the instance.
    public struct User: Sendable {
        /// The system account name.
        public let name: String
        /// The private key file (ed25519, no passphrase, mode 0600).
        public let privateKey: String
        /// The public key file.
        public let publicKey: String
        /// The directory the user starts in (internal-sftp -d), owned by the user.
        public let home: String
    }

    /// The TCP port on 127.0.0.1.
    public let port: Int
    /// The instance's scratch directory (config, keys, homes, log).
    public let directory: URL
    /// known_hosts pinning this instance's host key for [127.0.0.1]:port.
    public let knownHosts: String
    private let users: [String: User]
    private let configPath: String
    private let logPath: String
    private let lock = NSLock()
    private var launcher: Process?
    private var sentinel: Pipe?
    private var sshdPID: pid_t = 0

    private static let accountLock = NSLock()

    private init(port: Int, directory: URL, knownHosts: String, users: [String: User], configPath: String, logPath: String) {
        self.port = port
        self.directory = directory
        self.knownHosts = knownHosts
        self.users = users
        self.configPath = configPath
        self.logPath = logPath
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts sshd -D -e on a free loopback port with its own ed25519 host key, one Match block per user
    /// (ForceCommand internal-sftp -d HOME, no forwarding, no tty). Users are real system accounts made
    /// on demand; their homes are made under the instance directory and chowned to them. Returns when
    /// sshd answers (ssh-keyscan), with known_hosts written.
    public static func start(users names: [String]) throws -> TestSSHD {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swg-sshd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        let dir = directory.path
        try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "swg-test-host", "-f", "\(dir)/host_ed25519_key"])
        try FileManager.default.createDirectory(atPath: "\(dir)/authorized_keys", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(dir)/home", withIntermediateDirectories: true)
        var users: [String: User] = [:]
        for name in names {
            try ensureAccount(name)
            let key = "\(dir)/\(name)_ed25519"
            try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "\(name)@swg-test", "-f", key])
            try FileManager.default.copyItem(atPath: key + ".pub", toPath: "\(dir)/authorized_keys/\(name)")
            let home = "\(dir)/home/\(name)"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o755, .ownerAccountName: name, .groupOwnerAccountName: name],
                                                  ofItemAtPath: home)
            users[name] = User(name: name, privateKey: key, publicKey: key + ".pub", home: home)
        }
        let configPath = "\(dir)/sshd_config"
        let logPath = "\(dir)/sshd.log"
        let knownHosts = "\(dir)/known_hosts"

        var lastError = ""
        for _ in 0..<10 {
            let port = try freeLoopbackPort()
            var config = """
                Port \(port)
                ListenAddress 127.0.0.1
                HostKey \(dir)/host_ed25519_key
                PidFile \(dir)/sshd.pid
                AuthorizedKeysFile \(dir)/authorized_keys/%u
                PubkeyAuthentication yes
                StrictModes no
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                PermitRootLogin no
                AllowUsers \(names.joined(separator: " "))
                Subsystem sftp internal-sftp
                LogLevel VERBOSE
                MaxStartups 100
                MaxSessions 50

                """
            for user in names.compactMap({ users[$0] }) {
                config += """
                    Match User \(user.name)
                        ForceCommand internal-sftp -d \(user.home)
                        AllowTcpForwarding no
                        AllowAgentForwarding no
                        X11Forwarding no
                        PermitTTY no

                    """
            }
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            let instance = TestSSHD(port: port, directory: directory, knownHosts: knownHosts, users: users,
                                    configPath: configPath, logPath: logPath)
            do {
                try instance.launch()
                return instance
            } catch {
                lastError = "\(error)"
                instance.stop()
                guard instance.log.contains("Address already in use") else { throw error }
            }
        }
        throw TestSSHDError(description: "sshd: no free port after 10 attempts: \(lastError)")
    }

    /// The named user (it must have been passed to `start`).
    public func user(_ name: String) -> User {
        guard let user = users[name] else { fatalError("TestSSHD: no user \(name); pass it to start(users:)") }
        return user
    }

    /// sshd's standard error so far (LogLevel VERBOSE).
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Stops sshd with SIGTERM and waits for it; open sessions are left to end on their own. Idempotent.
    public func stop() {
        let (launcher, pid, sentinel) = takeProcess()
        guard let launcher else { return }
        if pid > 0 { Glibc.kill(pid, SIGTERM) }
        try? sentinel?.fileHandleForWriting.close()
        launcher.waitUntilExit()
    }

    /// SIGKILLs the listener and every per-connection process below it, so every open session dies at
    /// once as when the server crashes. Waits until the listener is gone.
    public func kill() {
        let (launcher, pid, sentinel) = takeProcess()
        guard let launcher else { return }
        if pid > 0 {
            Glibc.kill(pid, SIGSTOP)  // no new connections while the tree is collected
            let tree = Self.descendants(of: pid)
            for child in tree { Glibc.kill(child, SIGKILL) }
            Glibc.kill(pid, SIGKILL)
        }
        try? sentinel?.fileHandleForWriting.close()
        launcher.waitUntilExit()
    }

    /// Stops the per-connection processes (SIGSTOP) without closing their sockets: a server that stops
    /// answering, for timeout tests. The listener keeps accepting.
    public func pauseSessions() {
        let pid = lock.withLock { sshdPID }
        guard pid > 0 else { return }
        for child in Self.descendants(of: pid) { Glibc.kill(child, SIGSTOP) }
    }

    /// Resumes what `pauseSessions` stopped.
    public func resumeSessions() {
        let pid = lock.withLock { sshdPID }
        guard pid > 0 else { return }
        for child in Self.descendants(of: pid) { Glibc.kill(child, SIGCONT) }
    }

    /// Starts sshd again after stop() or kill(): same port, host key, users and known_hosts.
    public func restart() throws {
        stop()
        var lastError: Error?
        // The old listener's socket is gone at once, but another test may have grabbed the port meanwhile.
        for _ in 0..<20 {
            do {
                try launch()
                return
            } catch {
                lastError = error
                _ = takeProcess()
                guard log.contains("Address already in use") else { throw error }
                usleep(100_000)
            }
        }
        throw lastError ?? TestSSHDError(description: "sshd restart failed")
    }

    /// A known_hosts file pinning a different ed25519 key for [127.0.0.1]:port (host-key-mismatch tests).
    public func wrongKnownHosts() throws -> String {
        let dir = directory.path
        let key = "\(dir)/other_host_key_\(UUID().uuidString.prefix(6))"
        try Self.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key])
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let path = "\(dir)/wrong_known_hosts_\(UUID().uuidString.prefix(6))"
        try "[127.0.0.1]:\(port) \(publicKey)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs the OpenSSH `sftp` client in batch mode as `user` (its own ~/.ssh/config is not read);
    /// a failing batch command stops the batch unless prefixed with "-", as sftp(1) says.
    public func sftpClient(_ user: String, batch: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let account = self.user(user)
        let batchPath = "\(directory.path)/batch-\(UUID().uuidString.prefix(8))"
        try (batch.joined(separator: "\n") + "\n").write(toFile: batchPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: batchPath) }
        return try Self.capture("/usr/bin/sftp", [
            "-b", batchPath, "-F", "/dev/null", "-i", account.privateKey, "-P", "\(port)",
            "-o", "UserKnownHostsFile=\(knownHosts)", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "\(user)@127.0.0.1",
        ], in: directory)
    }

    // MARK: Internals

    private func takeProcess() -> (Process?, pid_t, Pipe?) {
        lock.withLock {
            defer {
                launcher = nil
                sentinel = nil
                sshdPID = 0
            }
            return (launcher, sshdPID, sentinel)
        }
    }

    /// Starts the sh launcher and waits until sshd answers; writes known_hosts from what it presents.
    private func launch() throws {
        let pidPath = "\(directory.path)/launcher.pid"
        try? FileManager.default.removeItem(atPath: pidPath)
        let script = """
            exec 3<&0
            /usr/sbin/sshd -D -e -f "$1" </dev/null 3<&- 2>>"$2" &
            pid=$!
            echo $pid > "$3.tmp" && mv "$3.tmp" "$3"
            ( cat <&3 >/dev/null; kill -TERM $pid 2>/dev/null ) &
            exec 3<&-
            wait $pid
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "sh", configPath, logPath, pidPath]
        let pipe = Pipe()
        process.standardInput = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock {
            launcher = process
            sentinel = pipe
        }
        let deadline = Date().addingTimeInterval(15)
        var pid: pid_t = 0
        while Date() < deadline {
            if pid == 0, let text = try? String(contentsOfFile: pidPath, encoding: .utf8),
               let value = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                pid = value
                lock.withLock { sshdPID = value }
            }
            guard process.isRunning else {
                throw TestSSHDError(description: "sshd exited at start (port \(port)):\n\(log)")
            }
            if pid > 0, let scan = try? Self.capture("/usr/bin/ssh-keyscan", ["-T", "2", "-p", "\(port)", "-t", "ed25519", "127.0.0.1"],
                                                     in: directory),
               scan.status == 0 {
                let lines = scan.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("ssh-ed25519") }
                if !lines.isEmpty {
                    try (lines.joined(separator: "\n") + "\n").write(toFile: knownHosts, atomically: true, encoding: .utf8)
                    return
                }
            }
            usleep(50_000)
        }
        throw TestSSHDError(description: "sshd did not answer on port \(port) within 15 s:\n\(log)")
    }

    /// All processes below `root`, found through /proc (field 4 of /proc/PID/stat is the parent).
    static func descendants(of root: pid_t) -> [pid_t] {
        var parents: [pid_t: [pid_t]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let parent = pid_t(fields[1]) else { continue }
            parents[parent, default: []].append(pid)
        }
        var result: [pid_t] = []
        var queue = [root]
        while let next = queue.popLast() {
            for child in parents[next] ?? [] {
                result.append(child)
                queue.append(child)
            }
        }
        return result
    }

    /// Creates the system account if missing and unlocks it for key logins.
    private static func ensureAccount(_ name: String) throws {
        try accountLock.withLock {
            if getpwnam(name) == nil {
                var attempt = 0
                while true {
                    let result = try capture("/usr/sbin/useradd", ["--system", "--no-create-home", "--home-dir", "/",
                                                                  "--shell", "/usr/sbin/nologin", name],
                                             in: FileManager.default.temporaryDirectory)
                    // 9: exists (another test process made it first); 10: /etc/passwd locked, try again.
                    if result.status == 0 || result.status == 9 { break }
                    attempt += 1
                    guard result.status == 10, attempt < 50 else {
                        throw TestSSHDError(description: "useradd \(name): exit \(result.status): \(result.stderr)")
                    }
                    usleep(100_000)
                }
            }
            let shadow = (try? String(contentsOfFile: "/etc/shadow", encoding: .utf8)) ?? ""
            let unlocked = shadow.split(separator: "\n").contains { $0.hasPrefix("\(name):*:") }
            if !unlocked {
                var attempt = 0
                while true {
                    let result = try capture("/usr/sbin/usermod", ["-p", "*", name], in: FileManager.default.temporaryDirectory)
                    if result.status == 0 { break }
                    attempt += 1
                    guard attempt < 50 else {
                        throw TestSSHDError(description: "usermod -p '*' \(name): exit \(result.status): \(result.stderr)")
                    }
                    usleep(100_000)
                }
            }
        }
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let result = try capture(executable, arguments, in: FileManager.default.temporaryDirectory)
        guard result.status == 0 else {
            throw TestSSHDError(description: "\(executable) \(arguments.joined(separator: " ")): exit \(result.status)\n\(result.stderr)")
        }
    }

    /// Runs a command with output going to files (no pipe can fill up and block it); returns both.
    static func capture(_ executable: String, _ arguments: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let id = UUID().uuidString.prefix(8)
        let outPath = directory.appendingPathComponent(".out-\(id)").path
        let errPath = directory.appendingPathComponent(".err-\(id)").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus,
                (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}
