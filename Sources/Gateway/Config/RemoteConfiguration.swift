import Foundation

/// An SFTP server the gateway connects to (`[[endpoint]]`): a partner's drop or pickup directory can be
/// `sftp://NAME/remote/path` on it instead of a local directory.
///
/// The passphrase is named by where it lives (a file or an environment variable), never written in the
/// configuration and never on a command line; it is read when a session is opened.
public struct RemoteEndpoint: Sendable, Hashable {
    /// The name partners' `sftp://NAME/...` directories use.
    public var name: String
    public var host: String
    public var port: Int
    public var user: String
    /// The private key file (absolute), OpenSSH or PEM format.
    public var privateKey: String
    /// A file holding the key's passphrase (absolute; its first line), if the key has one.
    public var passphraseFile: String?
    /// An environment variable holding the key's passphrase, if the key has one.
    public var passphraseEnvironment: String?
    /// The pinned host key(s), known_hosts format (absolute). Unknown or changed host keys are refused.
    public var knownHosts: String
    public var connectTimeoutSeconds: Int
    public var transferTimeoutSeconds: Int
    /// At most this many sessions (and so transfers) at once to this server.
    public var maxSessions: Int

    public init(name: String, host: String, port: Int = 22, user: String, privateKey: String, passphraseFile: String? = nil,
                passphraseEnvironment: String? = nil, knownHosts: String, connectTimeoutSeconds: Int = 10,
                transferTimeoutSeconds: Int = 60, maxSessions: Int = 2) {
        self.name = name
        self.host = host
        self.port = port
        self.user = user
        self.privateKey = privateKey
        self.passphraseFile = passphraseFile
        self.passphraseEnvironment = passphraseEnvironment
        self.knownHosts = knownHosts
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.transferTimeoutSeconds = transferTimeoutSeconds
        self.maxSessions = maxSessions
    }

    /// The connection settings with the passphrase read from its file or variable.
    public func sftpEndpoint() throws(SFTPError) -> SFTPEndpoint {
        var passphrase: String?
        if let passphraseFile {
            guard let text = try? String(contentsOfFile: passphraseFile, encoding: .utf8) else {
                throw SFTPError(kind: .localIO, endpoint: name, path: passphraseFile,
                                message: "endpoint \(name): cannot read the passphrase file \(passphraseFile)")
            }
            passphrase = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        } else if let passphraseEnvironment {
            guard let value = ProcessInfo.processInfo.environment[passphraseEnvironment] else {
                throw SFTPError(kind: .localIO, endpoint: name, path: nil,
                                message: "endpoint \(name): the environment variable \(passphraseEnvironment) (its passphrase) is not set")
            }
            passphrase = value
        }
        return SFTPEndpoint(name: name, host: host, port: port, user: user, privateKeyPath: privateKey, passphrase: passphrase,
                            knownHostsPath: knownHosts, connectTimeoutSeconds: connectTimeoutSeconds,
                            transferTimeoutSeconds: transferTimeoutSeconds)
    }
}

/// A directory on an endpoint: `sftp://ENDPOINT/absolute/path`.
public struct RemoteDirectory: Sendable, Hashable, CustomStringConvertible {
    /// The endpoint's name.
    public var endpoint: String
    /// The directory on the server, absolute ("/" alone is the login directory's root).
    public var path: String

    public init(endpoint: String, path: String) {
        self.endpoint = endpoint
        self.path = path
    }

    /// Parses `sftp://ENDPOINT/path`; nil for anything else. The path must be absolute and free of `.`, `..`
    /// and empty components (a typo must not reach somewhere else on the partner's server).
    public init?(url: String) {
        guard url.hasPrefix("sftp://") else { return nil }
        let rest = url.dropFirst("sftp://".count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let endpoint = String(rest[..<slash])
        var path = String(rest[slash...])
        if path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard !endpoint.isEmpty, path == "/" || parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
              !path.utf8.contains(0) else { return nil }
        self.endpoint = endpoint
        self.path = path
    }

    /// `sftp://ENDPOINT/path`.
    public var description: String { "sftp://\(endpoint)\(path)" }

    /// The path of `name` inside this directory.
    public func join(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }
}

/// How a partner with remote directories is picked up from and delivered to (`[partner.remote]`).
public struct RemoteSettings: Sendable, Hashable {
    /// How a ready remote file is claimed before it is downloaded.
    public enum Claim: String, Sendable, Hashable, CaseIterable {
        /// Renamed on the server to a hidden claim name first (`.swg-claim.<stamp>.<name>`), so the partner
        /// cannot overwrite it mid-download and a crash finds it again. The default.
        case rename
        /// Downloaded in place, for servers where we may not rename: the partner must not reuse a name
        /// until the file has gone.
        case none
    }

    public var claim: Claim = .rename
    /// Where picked-up files go on the server, once recorded in the ledger: moved into this directory
    /// (absolute, on the same server) or, when nil, deleted.
    public var processedDirectory: String?
    /// Deliveries: after a file is in place, an empty `NAME + suffix` marker is written too (for partners
    /// whose systems wait for one). Nil: no marker.
    public var doneMarker: String?

    public init(claim: Claim = .rename, processedDirectory: String? = nil, doneMarker: String? = nil) {
        self.claim = claim
        self.processedDirectory = processedDirectory
        self.doneMarker = doneMarker
    }
}

extension Checker {
    /// `[[endpoint]]` tables, by name.
    mutating func endpoints(_ node: Node, spoolRoot: String) -> [String: RemoteEndpoint] {
        guard case .array(let items) = node else {
            fail("endpoint", "must be an array of tables, written [[endpoint]], not a \(node.typeName)")
            return [:]
        }
        var result: [String: RemoteEndpoint] = [:]
        for (i, item) in items.enumerated() {
            let path = "endpoint[\(i + 1)]"
            guard var t = table(item, at: path) else { continue }
            let name = string(&t, "name", required: true)
            if let name, name.isEmpty || !name.utf8.allSatisfy({ KeyPath.isBareKeyByte($0) || $0 == UInt8(ascii: ".") }) {
                fail(t.keyPath("name"), "'\(name)' may use only letters, digits, '_', '-' and '.' (it is written in sftp://NAME/...)")
            } else if let name, result[name] != nil {
                fail(t.keyPath("name"), "duplicate endpoint name '\(name)'")
            }
            let host = string(&t, "host", required: true)
            if let host, host.isEmpty || host.contains(where: { $0.isWhitespace || $0 == "/" }) {
                fail(t.keyPath("host"), "'\(host)' is not a host name or address")
            }
            let port = int(&t, "port", minimum: 1) ?? 22
            if port > 65_535 { fail(t.keyPath("port"), "\(port) is not a TCP port (1-65535)") }
            let user = string(&t, "user", required: true)
            let key = file(&t, "private_key", spoolRoot: spoolRoot, required: true)
            let passphraseFile = file(&t, "passphrase_file", spoolRoot: spoolRoot, required: false)
            let passphraseEnvironment = string(&t, "passphrase_env")
            if passphraseFile != nil && passphraseEnvironment != nil {
                fail(t.keyPath("passphrase_env"), "give passphrase_file or passphrase_env, not both")
            }
            let knownHosts = file(&t, "known_hosts", spoolRoot: spoolRoot, required: true)
            let connect = int(&t, "connect_timeout_seconds", minimum: 1) ?? 10
            let transfer = int(&t, "transfer_timeout_seconds", minimum: 1) ?? 60
            let sessions = int(&t, "max_sessions", minimum: 1) ?? 2
            finish(t)
            guard let name, let host, let user, let key, let knownHosts else { continue }
            result[name] = RemoteEndpoint(name: name, host: host, port: port, user: user, privateKey: key,
                                          passphraseFile: passphraseFile, passphraseEnvironment: passphraseEnvironment,
                                          knownHosts: knownHosts, connectTimeoutSeconds: connect,
                                          transferTimeoutSeconds: transfer, maxSessions: sessions)
        }
        return result
    }

    /// A file key resolved against the spool root (outside it is allowed: keys often live in /etc).
    mutating func file(_ t: inout Table, _ key: String, spoolRoot: String, required: Bool) -> String? {
        guard let text = string(&t, key, required: required) else { return nil }
        if let problem = Paths.problem(with: text, escapeAllowed: true) {
            fail(t.keyPath(key), problem)
            return nil
        }
        return Paths.resolve(text, against: spoolRoot)
    }

    /// `[partner.remote]`.
    mutating func remoteSettings(_ node: Node, at path: String) -> RemoteSettings? {
        guard var r = table(node, at: path) else { return nil }
        var settings = RemoteSettings()
        if let claim = choice(&r, "claim", RemoteSettings.Claim.self) { settings.claim = claim }
        if let processed = string(&r, "processed_directory") {
            if RemoteDirectory(url: "sftp://x" + processed) == nil || processed == "/" {
                fail(r.keyPath("processed_directory"), "'\(processed)' is not an absolute directory on the server (no '.', '..' or '//')")
            } else {
                settings.processedDirectory = processed
            }
        }
        if let marker = string(&r, "done_marker") {
            if marker.isEmpty || marker.contains("/") {
                fail(r.keyPath("done_marker"), "'\(marker)' is not a file-name suffix such as \".ok\"")
            } else {
                settings.doneMarker = marker
            }
        }
        finish(r)
        return settings
    }
}
