#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Signs what the gateway sends: a detached CMS SignedData (DER, SHA-256) over the exact bytes, with the
/// gateway's own certificate, that `openssl cms -verify -binary -inform DER` accepts.
///
/// The private key is read once from a PEM file that only its owner may read or write: a key file with
/// any group or other permission bit (mode & 0o077) is refused before it is opened. The key never leaves
/// the OpenSSL object that holds it; nothing here prints or logs it, and errors name only the file.
public final class CMSSigner: Sendable {
    private let certificate: X509Certificate
    private let key: PrivateSigningKey
    private let chain: [X509Certificate]
    /// The signing certificate, for logs and receipts (public information only).
    public let certificateEvidence: CertificateEvidence

    /// Loads the signing certificate (first PEM block of `certificateFile`; the blocks after it are its chain),
    /// the private key, and optional chain certificates to include in each signature so counterparts can build
    /// the path.
    public init(certificateFile: String, privateKeyFile: String, chainFiles: [String] = []) throws(SignatureError) {
        try Self.checkPermissions(privateKeyFile)
        let certificates: [X509Certificate]
        do {
            certificates = try X509Certificate.readPEMFile(certificateFile)
        } catch {
            throw SignatureError(code: "signer.certificate-unreadable", path: certificateFile, message: error.message,
                                 openSSLErrors: error.openSSLErrors)
        }
        let key = try PrivateSigningKey.readPEMFile(privateKeyFile)
        guard key.matches(certificates[0]) else {
            throw SignatureError(code: "signer.key-mismatch", path: privateKeyFile,
                                 message: "the private key does not belong to the certificate in \(certificateFile)")
        }
        var chain = Array(certificates.dropFirst())
        for path in chainFiles {
            do {
                chain += try X509Certificate.readPEMFile(path)
            } catch {
                throw SignatureError(code: "signer.certificate-unreadable", path: path, message: error.message,
                                     openSSLErrors: error.openSSLErrors)
            }
        }
        self.certificate = certificates[0]
        self.key = key
        self.chain = chain
        self.certificateEvidence = certificates[0].evidence
    }

    /// A detached signature (DER) over `bytes`.
    public func signDetached(_ bytes: [UInt8]) throws(SignatureError) -> [UInt8] {
        try cmsSignDetached(source: .bytes(bytes), certificate: certificate, key: key, chain: chain)
    }

    /// A detached signature (DER) over the file at `path`, streamed.
    public func signDetached(fileAt path: String) throws(SignatureError) -> [UInt8] {
        try cmsSignDetached(source: .file(path), certificate: certificate, key: key, chain: chain)
    }

    /// Refuses a key file that group or others may access: such a key must be treated as disclosed.
    static func checkPermissions(_ path: String) throws(SignatureError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw SignatureError(code: "signer.key-unreadable", path: path,
                                 message: "cannot stat the private key file: \(String(cString: strerror(errno)))")
        }
        let mode = status.st_mode & 0o7777
        guard mode & 0o077 == 0 else {
            throw SignatureError(code: "signer.key-permissions", path: path,
                                 message: "the private key file has mode \(String(mode, radix: 8)): group or others may access it; "
                                     + "make it readable by its owner only (chmod 600)")
        }
    }
}
