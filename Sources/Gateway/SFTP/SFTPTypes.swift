import Foundation

// The plain values of the SFTP layer: where to connect, what went wrong, what a listing holds.
// No libssh type appears here, so the configuration and the pipeline can use them without the C module.

/// One partner's SFTP server as the configuration describes it: address, account, key and pinned host key.
///
/// The passphrase arrives already resolved (from a file or the environment) so this layer never reads
/// secrets itself; it is used once to open the key and never appears in a message or a log.
public struct SFTPEndpoint: Sendable, Hashable {
    /// The endpoint's name in the configuration ("carrierx-sftp"), so every message says which partner.
    public var name: String
    /// Host name or address.
    public var host: String
    /// TCP port; 22 by default.
    public var port: Int
    /// The account to log in as.
    public var user: String
    /// The private key file (OpenSSH or PEM format); key authentication is the only method offered.
    public var privateKeyPath: String
    /// The key's passphrase, already resolved; nil for an unencrypted key. Never logged.
    public var passphrase: String?
    /// The pinned host key(s) in known_hosts format. Only this file is consulted: an unknown or changed
    /// key is refused every time, never learnt, because a partner's server is trusted by configuration.
    public var knownHostsPath: String
    /// How long the TCP connect and the SSH handshake may take.
    public var connectTimeoutSeconds: Int
    /// How long an open session may go without progress (no bytes moved, no reply) before the operation
    /// fails with `.timeout`: a server that stops answering must not hold a job forever.
    public var transferTimeoutSeconds: Int

    /// Creates an endpoint; the defaults are port 22, 10 s to connect and 60 s without progress.
    public init(name: String, host: String, port: Int = 22, user: String, privateKeyPath: String,
                passphrase: String? = nil, knownHostsPath: String, connectTimeoutSeconds: Int = 10,
                transferTimeoutSeconds: Int = 60) {
        self.name = name
        self.host = host
        self.port = port
        self.user = user
        self.privateKeyPath = privateKeyPath
        self.passphrase = passphrase
        self.knownHostsPath = knownHostsPath
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.transferTimeoutSeconds = transferTimeoutSeconds
    }

    /// "user@host:port", the address part of every message.
    var address: String { "\(user)@\(host):\(port)" }
}

/// A failed SFTP operation, classified so the scheduler can tell "retry later" from "an operator must act".
///
/// The message is written for the operator: it names the endpoint, host:port, user and the path, and says
/// what the server or the network did. It never contains the passphrase or any key material.
public struct SFTPError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as far as the protocol lets us tell.
    public enum Kind: String, Sendable {
        /// TCP connect or the SSH handshake failed (refused, unreachable, timed out before the session).
        case connect
        /// The server's host key is not pinned in the endpoint's known_hosts file.
        case hostKeyUnknown
        /// A different key is pinned for this host: possibly an attack, never accepted.
        case hostKeyChanged
        /// The server refused the key, or the key file could not be opened with the passphrase.
        case authFailed
        /// The server said permission denied.
        case permissionDenied
        /// The remote file or directory does not exist.
        case noSuchFile
        /// The target already exists and this layer never replaces files.
        case fileExists
        /// The server's disk is full (seen through statvfs@openssh.com after a refused write).
        case diskFull
        /// The connection broke after it was established.
        case connectionLost
        /// An open session made no progress for `transferTimeoutSeconds`.
        case timeout
        /// The bytes moved do not match the size expected or the size the server reports afterwards.
        case sizeMismatch
        /// Anything else the server or libssh reported; the message holds their words.
        case protocolError
        /// A local file could not be created, written or read.
        case localIO
    }

    /// What went wrong.
    public var kind: Kind
    /// The endpoint's name.
    public var endpoint: String
    /// The remote path concerned (the local one for `.localIO`), when there is one.
    public var path: String?
    /// The operator-facing explanation.
    public var message: String

    /// Creates an error.
    public init(kind: Kind, endpoint: String, path: String?, message: String) {
        self.kind = kind
        self.endpoint = endpoint
        self.path = path
        self.message = message
    }

    /// Whether trying again later may succeed without anyone changing anything: network trouble only.
    public var isTransient: Bool { kind == .connect || kind == .connectionLost || kind == .timeout }

    /// Stable dotted code for receipts and metrics, e.g. `sftp.host-key-changed`.
    public var code: String {
        // camelCase to kebab-case; a run of capitals is one word ("localIO" -> "local-io").
        var text = "sftp."
        var previousUpper = false
        for character in kind.rawValue {
            if character.isUppercase {
                text += (previousUpper ? "" : "-") + character.lowercased()
            } else {
                text.append(character)
            }
            previousUpper = character.isUppercase
        }
        return text
    }

    /// "[code] message".
    public var description: String { "[\(code)] \(message)" }
}

/// One name in a remote directory, with what the server said about it.
public struct SFTPEntry: Sendable, Hashable {
    /// The name inside the directory (never "." or "..", never containing "/" or NUL).
    public var name: String
    /// Size in bytes as the server reports it (0 when it does not say).
    public var size: Int64
    /// Modification time, whole seconds: SFTP v3 carries no fractions.
    public var modified: Date
    /// A plain file (what pickup may take).
    public var isRegularFile: Bool
    /// A directory.
    public var isDirectory: Bool

    /// Creates an entry.
    public init(name: String, size: Int64, modified: Date, isRegularFile: Bool, isDirectory: Bool) {
        self.name = name
        self.size = size
        self.modified = modified
        self.isRegularFile = isRegularFile
        self.isDirectory = isDirectory
    }
}
