/// A failure of the signature machinery itself, not a verdict on a partner's signature: trust anchors
/// that will not load, a signing key with loose permissions, an unreadable content file.
///
/// Verdicts on partners' signatures are `SignatureVerdict`s; this error is for what the operator must
/// fix (or what a retry may cure). Codes are dotted and only ever added to:
/// `trust.unreadable`, `trust.no-certificate`, `trust.not-ca`, `trust.no-root`, `trust.orphan`,
/// `trust.crl-unreadable`, `trust.crl-unknown-issuer`, `trust.crl-bad-signature`, `trust.no-crl`,
/// `signer.key-permissions`, `signer.key-unreadable`, `signer.certificate-unreadable`,
/// `signer.key-mismatch`, `signer.failed`, `sig.io`, `sig.internal`.
public struct SignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable dotted code.
    public var code: String
    /// The file concerned (a CA file, a CRL, a key, the content), or "" when none.
    public var path: String
    /// What is wrong, for the operator.
    public var message: String
    /// OpenSSL's error queue, drained at the failing call (oldest first); empty when OpenSSL was not involved.
    public var openSSLErrors: [String]

    /// Creates an error.
    public init(code: String, path: String, message: String, openSSLErrors: [String] = []) {
        self.code = code
        self.path = path
        self.message = message
        self.openSSLErrors = openSSLErrors
    }

    /// "[code] path: message (openssl: ...)".
    public var description: String {
        var text = "[\(code)] " + (path.isEmpty ? "" : "\(path): ") + message
        if !openSSLErrors.isEmpty { text += " (openssl: \(openSSLErrors.joined(separator: "; ")))" }
        return text
    }
}
