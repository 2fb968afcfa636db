import Foundation

/// How to reach the PostgreSQL server that several gateway nodes share (`[store] kind = "postgres"`). The
/// password is never in the configuration or on a command line: it is read from a file (its first line) or an
/// environment variable when a connection is made.
public struct PostgresSettings: Sendable, Hashable {
    public enum TLS: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP (a loopback or a private network the operator trusts).
        case disable
        /// TLS required, the server's certificate checked against the system's trust store and its host name.
        case require
    }

    public var host: String
    public var port: Int
    public var database: String
    public var user: String
    /// A file whose first line is the password (absolute path).
    public var passwordFile: String?
    /// An environment variable holding the password.
    public var passwordEnv: String?
    public var tls: TLS
    /// With TLS: the CA certificates (PEM, absolute path) the server's certificate must chain to, instead of the
    /// system's trust store (a private CA).
    public var tlsCAFile: String?
    /// Seconds to wait for a connection. Default: 10.
    public var connectTimeoutSeconds: Int
    /// Where the raw bytes of every batch are kept (absolute): a directory all nodes share, like the spool.
    public var stateDirectory: String

    public init(host: String = "127.0.0.1", port: Int = 5432, database: String, user: String, passwordFile: String? = nil,
                passwordEnv: String? = nil, tls: TLS = .disable, tlsCAFile: String? = nil, connectTimeoutSeconds: Int = 10,
                stateDirectory: String) {
        self.tlsCAFile = tlsCAFile
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.passwordFile = passwordFile
        self.passwordEnv = passwordEnv
        self.tls = tls
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.stateDirectory = stateDirectory
    }

    /// The password from its file or variable; nil when neither is set (trust or peer authentication).
    public func password(environment: [String: String] = ProcessInfo.processInfo.environment) throws(PostgresStoreError) -> String? {
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw PostgresStoreError(code: "postgres.password-file", message: "cannot read the password file \(passwordFile)")
            }
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        if let passwordEnv {
            guard let value = environment[passwordEnv] else {
                throw PostgresStoreError(code: "postgres.password-env", message: "the environment variable \(passwordEnv) is not set")
            }
            return value
        }
        return nil
    }

    /// `user@host:port/database`, for messages (never the password).
    public var description: String { "\(user)@\(host):\(port)/\(database)" + (tls == .require ? " (TLS)" : "") }
}

/// A PostgreSQL store failure with a stable code: connection, authentication, schema, query.
public struct PostgresStoreError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
