import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Signs outbound XML with the gateway's own key: an enveloped XML-DSig over the document element.
///
/// The output verifies with `xmlsec1 --verify --trusted-pem CA.pem --enabled-key-data x509 FILE` and with
/// `XMLDSigVerifier`: exc-c14n, rsa-sha256 or ecdsa-sha256 (from the key), one reference `URI=""` with the
/// enveloped-signature and exc-c14n transforms and SHA-256, and `X509Data` carrying the certificate(s).
public final class XMLDSigSigner: Sendable {
    /// The signing certificate, as a verifier will report it.
    public let certificate: XMLDSigSignerEvidence
    /// The signature algorithm the key implies.
    public let algorithm: XMLDSigSignatureAlgorithm
    private let key: XMLDSigXMLSecSigningKey

    /// Loads the key and its certificate. The key file must be a regular file (not a symlink) with no
    /// group or other permission bits (e.g. 0600), unencrypted PEM, RSA or EC; `certificateFile` is PEM,
    /// the key's certificate first, then any intermediates to send along.
    public init(keyFile: String, certificateFile: String) throws(XMLDSigError) {
        guard let certificateData = FileManager.default.contents(atPath: certificateFile) else {
            throw XMLDSigError(code: "xmldsig.certificate-unreadable", path: certificateFile,
                               message: "cannot read the signing certificate")
        }
        let certificates = XMLDSigX509.certificates(pem: [UInt8](certificateData))
        guard let leaf = certificates.first else {
            throw XMLDSigError(code: "xmldsig.certificate-invalid", path: certificateFile,
                               message: "no PEM certificate in the file")
        }
        var keyPEM = try Self.readPrivateKeyFile(keyFile)
        defer { keyPEM.withUnsafeMutableBytes { if let base = $0.baseAddress { memset(base, 0, $0.count) } } }
        let kind = try xmlDSigInspectPrivateKey(pem: keyPEM, certificate: leaf, path: keyFile)
        key = try XMLDSigXMLSecSigningKey(keyPEM: keyPEM, kind: kind, certificates: certificates, path: keyFile)
        algorithm = kind == .rsa ? .rsaSHA256 : .ecdsaSHA256
        certificate = leaf.evidence(chain: Array(certificates.dropFirst()))
    }

    /// Returns `document` with an enveloped signature appended to its document element.
    ///
    /// The input must be well-formed, without DOCTYPE, and not already signed at the document element.
    public func sign(_ document: [UInt8]) throws(XMLDSigError) -> [UInt8] {
        let parsed: XMLDSigXMLDocument
        do throws(XMLDSigFailure) {
            parsed = try XMLDSigXMLDocument.parse(document)
        } catch {
            throw XMLDSigError(code: "xmldsig.document", message: "cannot sign: \(error.operatorReason)")
        }
        guard parsed.layout(rootIDAttribute: "Id").signatureCount == 0 else {
            throw XMLDSigError(code: "xmldsig.already-signed",
                               message: "the document element already carries a ds:Signature")
        }
        try key.sign(parsed)
        return parsed.serialized()
    }

    /// Reads the key through one descriptor, checking the mode on that descriptor (no check-then-open race).
    private static func readPrivateKeyFile(_ path: String) throws(XMLDSigError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw XMLDSigError(code: "xmldsig.key-unreadable", path: path,
                               message: "cannot open the signing key: \(reason) (symbolic links are refused)")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw XMLDSigError(code: "xmldsig.key-unreadable", path: path, message: "the signing key is not a regular file")
        }
        let mode = status.st_mode & 0o7777
        guard mode & 0o077 == 0 else {
            throw XMLDSigError(code: "xmldsig.key-permissions", path: path, message:
                "the signing key has mode \(String(mode, radix: 8)), which lets group or others at it; "
                + "run chmod 600 on it (the key was not read)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(status.st_size) + 1)  // one buffer: no stray copies of key material
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { chunk.withUnsafeMutableBytes { if let base = $0.baseAddress { memset(base, 0, $0.count) } } }
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw XMLDSigError(code: "xmldsig.key-unreadable", path: path,
                                   message: "cannot read the signing key: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= 1 << 20 else {
                throw XMLDSigError(code: "xmldsig.key-invalid", path: path, message: "the signing key file is over 1 MiB")
            }
        }
        return bytes
    }
}
