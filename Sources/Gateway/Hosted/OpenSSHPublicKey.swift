import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One OpenSSH public key as a `.pub` file holds it: `TYPE BASE64 [COMMENT]`.
///
/// Checked before it reaches sshd because sshd skips a bad authorized_keys line silently: a pasted
/// private key, a PuTTY export or a truncated line would otherwise show up only as a partner who cannot
/// log in. Options (`from=`, `command=`) are not accepted in the partner's files: the gateway writes
/// the one option every hosted key gets (`restrict`) itself.
public struct OpenSSHPublicKey: Sendable, Hashable {
    /// The key types a hosted partner may use; DSA and the FIDO (`sk-`) types are not among them.
    public static let allowedTypes = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                                      "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa"]

    /// The key type as written (`ssh-ed25519`, ...).
    public var type: String
    /// The key blob in base64, as written.
    public var base64: String
    /// The comment after the key (often user@host), kept so an operator can tell keys apart; may be empty.
    public var comment: String

    /// The line for an authorized_keys file: the key itself, with its comment when it has one.
    public var line: String { comment.isEmpty ? "\(type) \(base64)" : "\(type) \(base64) \(comment)" }

    /// Parses one line; throws the reason, in words, when it is not a public key of an allowed type.
    public init(parsing text: String) throws(Problem) {
        let fields = text.split(maxSplits: 2, omittingEmptySubsequences: true, whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2 else {
            if text.contains("PRIVATE KEY") { throw Problem("is part of a private key; give the partner's .pub file") }
            throw Problem("is not TYPE BASE64 [COMMENT]")
        }
        let type = String(fields[0])
        guard Self.allowedTypes.contains(type) else {
            if text.hasPrefix("---- BEGIN SSH2") { throw Problem("is an RFC 4716 (PuTTY/SSH2) key; convert it with ssh-keygen -i -f FILE") }
            if text.contains("PRIVATE KEY") { throw Problem("is part of a private key; give the partner's .pub file") }
            if type.contains("=") || type.contains(",") {
                throw Problem("starts with options ('\(type.prefix(40))'); give the bare key: the gateway adds 'restrict' itself")
            }
            throw Problem("has key type '\(type.prefix(40))', not one of: \(Self.allowedTypes.joined(separator: ", "))")
        }
        let base64 = String(fields[1])
        guard let blob = Data(base64Encoded: base64), blob.count >= 4 else {
            throw Problem("has a key that is not base64 (truncated, or wrapped over several lines?)")
        }
        let bytes = [UInt8](blob)
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        guard length > 0, length <= bytes.count - 4,
              let inner = String(validating: bytes[4..<(4 + length)], as: UTF8.self) else {
            throw Problem("has a key blob that does not start with its type name")
        }
        // rsa-sha2-* name signature algorithms; their keys are ssh-rsa keys.
        let expected = type.hasPrefix("rsa-sha2-") ? "ssh-rsa" : type
        guard inner == expected else {
            throw Problem("says '\(type)' but its key is a '\(inner.prefix(40))' key")
        }
        self.type = type
        self.base64 = base64
        self.comment = fields.count > 2 ? fields[2].trimmingCharacters(in: .whitespaces) : ""
    }

    /// Why a line was not accepted.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Reads a key file: every key in it, or every problem (with its 1-based line); blank lines and `#`
    /// comments are skipped, as sshd skips them.
    public static func readFile(_ path: String) -> Result<[OpenSSHPublicKey], FileProblems> {
        var bytes: [UInt8] = []
        do {
            try ChunkedFile.forEachChunk(path: path) { bytes.append(contentsOf: $0) }
        } catch {
            return .failure(FileProblems(unreadable: Self.reason(error, path: path), lines: []))
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(FileProblems(unreadable: "is not text (UTF-8)", lines: []))
        }
        // Whole-file mistakes get one message, not one per line.
        if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
            return .failure(FileProblems(unreadable: "is a private key, not a public one: give the partner's .pub file "
                                         + "(and keep the private key secret)", lines: []))
        }
        if text.contains("---- BEGIN SSH2 PUBLIC KEY ----") {
            return .failure(FileProblems(unreadable: "is an RFC 4716 (PuTTY/SSH2) public key: convert it with "
                                         + "ssh-keygen -i -f FILE", lines: []))
        }
        var keys: [OpenSSHPublicKey] = [], lines: [(Int, String)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            do { keys.append(try OpenSSHPublicKey(parsing: line)) } catch { lines.append((n + 1, error.description)) }
        }
        if !lines.isEmpty { return .failure(FileProblems(unreadable: nil, lines: lines)) }
        if keys.isEmpty { return .failure(FileProblems(unreadable: "has no key", lines: [])) }
        return .success(keys)
    }

    /// What is wrong with a key file: it cannot be read (and why), or these lines are not keys.
    public struct FileProblems: Error, Sendable {
        public var unreadable: String?
        public var lines: [(line: Int, message: String)]
    }

    private static func reason(_ error: any Error, path: String) -> String {
        var status = stat()
        if stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR { return "cannot be read (it is a directory)" }
        if let e = error as? InputFileError { return "cannot be read (\(e.reason))" }
        return "cannot be read (\(error))"
    }
}

/// The hosted side of `check-config` (and of `sshd-config`, which refuses to write keys it cannot vouch
/// for): every `[partner.hosted] authorized_keys` file read and every line checked, named by its key.
struct HostedKeysCheck {
    /// Every unreadable file and every line that is not a key, at its configuration key.
    var mistakes: [TrustConfigurationCheck.Finding] = []
    /// The keys of each hosted partner, by partner id, in file order.
    var keys: [String: [OpenSSHPublicKey]] = [:]

    init(_ configuration: GatewayConfiguration) {
        for (index, partner) in configuration.partners.enumerated() {
            guard let hosted = partner.hosted else { continue }
            var all: [OpenSSHPublicKey] = []
            for (k, path) in hosted.authorizedKeyFiles.enumerated() {
                let key = "partner[\(index + 1)].hosted.authorized_keys[\(k + 1)]"
                let shown = Paths.display(path, relativeTo: configuration.spoolRoot)
                switch OpenSSHPublicKey.readFile(path) {
                case .success(let found):
                    all += found
                case .failure(let problems):
                    if let why = problems.unreadable { mistakes.append(.init(key: key, message: "\(shown): \(why)")) }
                    for (line, why) in problems.lines {
                        mistakes.append(.init(key: key, message: "\(shown) line \(line): not an OpenSSH public key: it \(why)"))
                    }
                }
            }
            keys[partner.id] = all
        }
    }
}
