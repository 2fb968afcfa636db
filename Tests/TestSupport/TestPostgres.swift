import Foundation

// A real PostgreSQL server on loopback for the store tests: one throwaway cluster per test process, started on
// first use (about 1.5 s), a fresh database per test. The recipe is /work/shared/notes/c-libraries-and-servers.md
// section 4: initdb refuses root, so it and pg_ctl run as the postgres account (runuser); a private socket
// directory and a free port keep it clear of any system cluster; scram-sha-256 over TCP with a password file,
// as a production node would log in; fsync off (a test cluster need not survive a power cut).
//
// The server is stopped and its directory removed when the test process ends, however it ends (see start()).

/// A failure to start or drive the test PostgreSQL server, with the command and its output.
public struct TestPostgresError: Error, CustomStringConvertible {
    public var description: String
}

public final class TestPostgres: @unchecked Sendable {
    /// The TCP port on 127.0.0.1.
    public let port: Int
    /// The login every test database belongs to, and the file holding its password.
    public let user = "swg"
    public let passwordFile: String
    /// The private CA (PEM) that issued the server's TLS certificate (for 127.0.0.1); the server takes TLS and
    /// plain connections alike.
    public let caFile: String
    /// The cluster's directory (data, socket, log, password files).
    public let directory: URL
    private let lock = NSLock()
    private var databases = 0

    private init(port: Int, directory: URL, passwordFile: String, caFile: String) {
        self.caFile = caFile
        self.port = port
        self.directory = directory
        self.passwordFile = passwordFile
    }

    /// The cluster of this test process, started on first use.
    public static func shared() throws -> TestPostgres { try started.get() }

    private static let started: Result<TestPostgres, any Error> = Result { try start() }
    /// The launcher's stdin, held open for the life of the test process.
    nonisolated(unsafe) private static var serverSentinel: Pipe?

    private static func start() throws -> TestPostgres {
        guard let bin = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }) else {
            throw TestPostgresError(description: "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install -y postgresql)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swg-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let superPassword = directory.appendingPathComponent("superuser.pw").path
        let password = directory.appendingPathComponent("swg.pw").path
        try "super-\(UUID().uuidString)\n".write(toFile: superPassword, atomically: true, encoding: .utf8)
        try "swg-\(UUID().uuidString.prefix(12))\n".write(toFile: password, atomically: true, encoding: .utf8)
        let port = try freeLoopbackPort()
        // TLS: a CA and a server certificate for 127.0.0.1 it issued, made here with openssl.
        let ca = directory.appendingPathComponent("ca.pem").path, caKey = directory.appendingPathComponent("ca.key").path
        let cert = directory.appendingPathComponent("server.pem").path, key = directory.appendingPathComponent("server.key").path
        let request = directory.appendingPathComponent("server.csr").path, ext = directory.appendingPathComponent("san.ext").path
        try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            .write(toFile: ext, atomically: true, encoding: .utf8)
        try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey,
                                     "-out", ca, "-days", "2", "-subj", "/CN=swg test postgres CA"])
        try run("/usr/bin/openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", request,
                                     "-subj", "/CN=127.0.0.1"])
        try run("/usr/bin/openssl", ["x509", "-req", "-in", request, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", cert,
                                     "-days", "2", "-extfile", ext])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        let root = getuid() == 0
        if root {
            try run("/bin/chown", ["-R", "postgres:", directory.path])
            try run("/bin/chmod", ["0755", directory.path])
        }
        func asPostgres(_ tool: String, _ arguments: [String]) throws {
            if root { try run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments) } else { try run(tool, arguments) }
        }
        let data = directory.appendingPathComponent("data").path
        try asPostgres(bin + "/initdb", ["-D", data, "-U", "postgres", "--pwfile=" + superPassword, "--auth-local=peer",
                                         "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        // The server runs under a small `sh` launcher, this process's child (as sshd does in TestSSHD), not
        // daemonized by pg_ctl (a daemon inherits the descriptors Foundation watches its child with, and the wait
        // for pg_ctl never ends). The launcher also waits for its stdin, a pipe from this process, to close: when
        // the test process ends, however it ends, the launcher stops the server and removes its directory.
        let log = directory.appendingPathComponent("server.log").path
        let postgres = (root ? "/usr/sbin/runuser -u postgres -- " : "") + bin + "/postgres -D \(data) -p \(port) "
            + "-c listen_addresses=127.0.0.1 -c unix_socket_directories=\(directory.path) -c fsync=off -c synchronous_commit=off "
            + "-c full_page_writes=off -c max_connections=200 -c ssl=on -c ssl_cert_file=\(cert) -c ssl_key_file=\(key)"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/bin/sh")
        server.arguments = ["-c", """
            \(postgres) >>\(log) 2>&1 &
            cat >/dev/null
            kill -INT "$(head -1 \(data)/postmaster.pid 2>/dev/null)" 2>/dev/null
            wait
            rm -rf \(directory.path)
            """]
        let sentinel = Pipe()
        server.standardInput = sentinel
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        serverSentinel = sentinel
        let instance = TestPostgres(port: port, directory: directory, passwordFile: password, caFile: ca)
        let secret = try String(contentsOfFile: password, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // Ready when it answers (about a second).
        var attempt = 0
        while true {
            do {
                try instance.psql("SELECT 1")
                break
            } catch {
                attempt += 1
                if attempt > 100 || !server.isRunning {
                    throw TestPostgresError(description: "PostgreSQL did not start: \(error)\n"
                                                + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
                }
                usleep(100_000)
            }
        }
        try instance.psql("CREATE ROLE swg LOGIN PASSWORD '\(secret)'")
        return instance
    }

    /// A new, empty database owned by the test login.
    public func createDatabase() throws -> String {
        let name = lock.withLock { databases += 1; return "swg_test_\(getpid())_\(databases)" }
        try psql("CREATE DATABASE \(name) OWNER swg")
        return name
    }

    /// The `[store]` table of a gateway configuration for `database` on this server.
    public func storeTable(database: String) -> String {
        """
        [store]
        kind = "postgres"
        host = "127.0.0.1"
        port = \(port)
        database = "\(database)"
        user = "\(user)"
        password_file = "\(passwordFile)"

        """
    }

    /// Runs SQL as the superuser over TCP.
    public func psql(_ sql: String, database: String = "postgres") throws {
        let secret = try String(contentsOfFile: directory.appendingPathComponent("superuser.pw").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                     environment: ["PGPASSWORD": secret])
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        // Output to a file, not a pipe: the server pg_ctl starts inherits the descriptors and would hold a
        // pipe open for as long as it runs.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("swg-pg-out-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: capture.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: capture) }
        let output = try FileHandle(forWritingTo: capture)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? output.close()
        let text = (try? String(contentsOf: capture, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw TestPostgresError(description: "\(tool) \(arguments.joined(separator: " ")): exit \(process.terminationStatus)\n\(text)")
        }
        return text
    }
}
