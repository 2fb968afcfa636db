import Foundation

// A realistic test PKI made at test time with the `openssl` command (OpenSSL 3.0 or later), once per
// test process, in a temporary directory:
//
//   CUSTOMS Root CA (RSA-2048) ── CUSTOMS Signing CA (RSA-2048) ── partner certificates below
//   CIQ Root CA (EC P-384)     ── CIQ Signing CA (EC P-256)     ── CARRIERX, but from the wrong agency
//
// Every certificate is issued with `openssl ca` and explicit -startdate/-enddate, and every CRL with
// -crl_lastupdate/-crl_nextupdate, so all dates are fixed and a test judges at a fixed validation time
// (`TestPKI.validationTime`). Only the revocation *date* inside the CRL is "now": `openssl ca -revoke`
// cannot backdate it, and OpenSSL does not compare it with the validation time anyway.
//
// What works with OpenSSL 3.0.19 (Debian 12), found while writing this:
//  - `x509 -not_before/-not_after` only exist from OpenSSL 3.4; `openssl ca -startdate/-enddate` works
//    on 3.0 and also makes the past-dated (expired) certificate.
//  - `openssl ca -md sha1` signs a SHA-1 certificate with no -sigopt or seclevel change (the security
//    level only applies to TLS), and `cms -sign -md sha1` makes a SHA-1 CMS signature likewise.
//  - `openssl ca -gencrl -crl_lastupdate/-crl_nextupdate` (new in 3.0) fixes the CRL times.

/// A failure while making the test PKI or signing with it: the command and what it printed.
public struct TestPKIError: Error, CustomStringConvertible {
    /// The command line and its standard error.
    public var description: String
}

/// The test PKI: two agencies, partner identities good and bad, and signing helpers over `openssl cms`.
public final class TestPKI: Sendable {
    /// One agency's CA: a root and an intermediate, their CRLs.
    public struct Agency: Sendable {
        /// e.g. `CUSTOMS`.
        public let name: String
        /// Root CA certificate (PEM).
        public let rootCertificate: String
        /// Intermediate (signing) CA certificate (PEM), issued by the root.
        public let intermediateCertificate: String
        /// Root CA's CRL (PEM), listing nothing; thisUpdate 2020-06-01, nextUpdate 2035-01-01.
        public let rootCRL: String
        /// The intermediate's CRL made before any revocation (lists nothing); thisUpdate 2020-06-01.
        public let intermediateCRLBeforeRevocation: String
        /// The intermediate's current CRL (lists `revoked` for CUSTOMS); thisUpdate 2026-01-01.
        public let intermediateCRL: String

        /// Root and intermediate, the files a `TrustAnchors` loads.
        public var certificateFiles: [String] { [rootCertificate, intermediateCertificate] }
        /// The root's CRL and the intermediate's current one.
        public var crlFiles: [String] { [rootCRL, intermediateCRL] }
        /// Every CRL ever published, old and current (OpenSSL picks the newest current one).
        public var allCRLFiles: [String] { [rootCRL, intermediateCRLBeforeRevocation, intermediateCRL] }
    }

    /// An end-entity certificate and its key.
    public struct Identity: Sendable {
        /// A short label for messages.
        public let name: String
        /// The certificate (PEM).
        public let certificate: String
        /// The private key (PEM, unencrypted, mode 0600).
        public let privateKey: String
        /// Subject, RFC 2253 (`CN=CARRIERX,O=Carrier X,C=CN`).
        public let subject: String
        /// Serial number, upper-case hexadecimal as `openssl x509 -serial` prints it.
        public let serialNumber: String
        /// SHA-256 fingerprint, lower-case hexadecimal without colons.
        public let sha256Fingerprint: String
        /// Validity start.
        public let notBefore: Date
        /// Validity end.
        public let notAfter: Date
    }

    /// How a signature file is written.
    public enum Encoding: Sendable {
        case der, pem
    }

    /// The directory everything lives in.
    public let directory: URL
    /// Customs: the agency most partners sign for.
    public let customs: Agency
    /// Inspection and quarantine: the "other" agency.
    public let ciq: Agency

    /// Carrier X, RSA-2048, keyUsage digitalSignature+nonRepudiation, extendedKeyUsage clientAuth only
    /// (the case of pitfall P9), issued by CUSTOMS.
    public let carrierXRSA: Identity
    /// Carrier X, ECDSA P-256, keyUsage digitalSignature, no extendedKeyUsage, issued by CUSTOMS.
    public let carrierXECDSA: Identity
    /// Carrier Y, RSA-2048, a different partner of the same agency.
    public let carrierYRSA: Identity
    /// Carrier X's earlier certificate, revoked on the CUSTOMS intermediate's current CRL.
    public let revoked: Identity
    /// Carrier X's certificate valid 2021-01-01 to 2022-01-01 only.
    public let expired: Identity
    /// Carrier X's certificate from the CIQ CA: right subject, wrong agency.
    public let wrongAgency: Identity
    /// Carrier X's certificate with keyUsage keyEncipherment only.
    public let keyEnciphermentOnly: Identity
    /// Carrier X's certificate signed by the CUSTOMS intermediate with sha1WithRSAEncryption.
    public let sha1Signed: Identity
    /// The gateway's own signing certificate (digitalSignature, emailProtection), issued by CUSTOMS.
    public let gateway: Identity
    /// The customs release office, ECDSA P-256, issued by CUSTOMS: signs customs' instructions.
    public let customsOfficer: Identity
    /// The inspection and quarantine office, ECDSA P-256, issued by CIQ: signs CIQ's instructions.
    public let ciqOfficer: Identity

    /// The fixed time tests judge at: 2026-06-01T00:00:00Z, inside every good certificate's validity
    /// and after the current CRLs' thisUpdate.
    public static let validationTime = Date(timeIntervalSince1970: 1_780_272_000)
    /// Inside the expired certificate's validity (2021-06-01T00:00:00Z).
    public static let timeWhenExpiredWasValid = Date(timeIntervalSince1970: 1_622_505_600)

    private static let shared: Result<TestPKI, TestPKIError> = {
        do throws(TestPKIError) { return .success(try TestPKI()) } catch { return .failure(error) }
    }()

    /// The process-wide PKI, made on first use (about two seconds of `openssl` calls).
    public static func get() throws -> TestPKI { try shared.get() }

    // MARK: Making it

    private init() throws(TestPKIError) {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("swg-testpki-\(getpid())-\(UUID().uuidString.prefix(8))")
        self.directory = directory
        let make = Maker(directory: directory)
        try make.prepare()

        // CUSTOMS: RSA throughout.
        let customsRootKey = try make.key("customs-root", .rsa2048)
        let customsRoot = try make.selfSignedRoot("customs-root", key: customsRootKey, subject: "/C=CN/O=China Customs/CN=CUSTOMS Root CA",
                                                firstSerial: "1000")
        let customsInterKey = try make.key("customs-inter", .rsa2048)
        let customsInter = try make.issue("customs-inter", key: customsInterKey, subject: "/C=CN/O=China Customs/CN=CUSTOMS Signing CA",
                                          by: customsRoot, extensions: "inter_ext", from: "200101000000Z", until: "390101000000Z")
        // CIQ: EC throughout.
        let ciqRootKey = try make.key("ciq-root", .p384)
        let ciqRoot = try make.selfSignedRoot("ciq-root", key: ciqRootKey, subject: "/C=CN/O=China Inspection and Quarantine/CN=CIQ Root CA",
                                            firstSerial: "2000")
        let ciqInterKey = try make.key("ciq-inter", .p256)
        let ciqInter = try make.issue("ciq-inter", key: ciqInterKey, subject: "/C=CN/O=China Inspection and Quarantine/CN=CIQ Signing CA",
                                      by: ciqRoot, extensions: "inter_ext", from: "200101000000Z", until: "390101000000Z")

        let carrierX = "/C=CN/O=Carrier X/CN=CARRIERX"
        func leaf(_ name: String, _ kind: Maker.KeyKind, subject: String = carrierX, by ca: Maker.CA = customsInter,
                  extensions: String = "sign_ext", from: String = "250101000000Z", until: String = "300101000000Z",
                  digest: String = "sha256") throws(TestPKIError) -> Identity {
            let key = try make.key(name, kind)
            let issued = try make.issue(name, key: key, subject: subject, by: ca, extensions: extensions, from: from, until: until, digest: digest)
            return try make.identity(name, certificate: issued.certificate, key: key)
        }
        carrierXRSA = try leaf("carrierx-rsa", .rsa2048)
        carrierXECDSA = try leaf("carrierx-ecdsa", .p256, extensions: "sign_ext_noeku")
        carrierYRSA = try leaf("carriery-rsa", .rsa2048, subject: "/C=CN/O=Carrier Y/CN=CARRIERY")
        revoked = try leaf("carrierx-revoked", .p256)
        expired = try leaf("carrierx-expired", .p256, from: "210101000000Z", until: "220101000000Z")
        wrongAgency = try leaf("carrierx-ciq", .p256, by: ciqInter)
        keyEnciphermentOnly = try leaf("carrierx-keyenc", .rsa2048, extensions: "keyenc_ext")
        sha1Signed = try leaf("carrierx-sha1", .rsa2048, digest: "sha1")
        gateway = try leaf("gateway", .rsa2048, subject: "/C=CN/O=Single Window/CN=SWG GATEWAY", extensions: "gateway_ext")
        customsOfficer = try leaf("customs-officer", .p256, subject: "/C=CN/O=China Customs/CN=CUSTOMS RELEASE OFFICE")
        ciqOfficer = try leaf("ciq-officer", .p256, subject: "/C=CN/O=China Inspection and Quarantine/CN=CIQ INSPECTION OFFICE", by: ciqInter)

        // CRLs: every CA publishes one at 2020-06-01; the CUSTOMS intermediate then revokes one certificate
        // and publishes its current CRL at 2026-01-01.
        let customsRootCRL = try make.crl(customsRoot, name: "customs-root", from: "200601000000Z")
        let customsBefore = try make.crl(customsInter, name: "customs-inter-2020", from: "200601000000Z")
        try make.revoke(revoked.certificate, by: customsInter)
        let customsCurrent = try make.crl(customsInter, name: "customs-inter", from: "260101000000Z")
        let ciqRootCRL = try make.crl(ciqRoot, name: "ciq-root", from: "200601000000Z")
        let ciqBefore = try make.crl(ciqInter, name: "ciq-inter-2020", from: "200601000000Z")
        let ciqCurrent = try make.crl(ciqInter, name: "ciq-inter", from: "260101000000Z")

        customs = Agency(name: "CUSTOMS", rootCertificate: customsRoot.certificate, intermediateCertificate: customsInter.certificate,
                         rootCRL: customsRootCRL, intermediateCRLBeforeRevocation: customsBefore, intermediateCRL: customsCurrent)
        ciq = Agency(name: "CIQ", rootCertificate: ciqRoot.certificate, intermediateCertificate: ciqInter.certificate,
                     rootCRL: ciqRootCRL, intermediateCRLBeforeRevocation: ciqBefore, intermediateCRL: ciqCurrent)
    }

    // MARK: Signing

    /// A detached CMS signature (`openssl cms -sign -binary`) over `payload`, in DER or PEM.
    /// `digest` goes to `-md` (e.g. "sha1" for the weak-algorithm case).
    public func signDetached(payload: [UInt8], with identity: Identity, encoding: Encoding = .der,
                             digest: String = "sha256") throws -> [UInt8] {
        try sign(payload: payload, with: identity, encoding: encoding, digest: digest, detached: true)
    }

    /// An enveloping CMS signature (`openssl cms -sign -binary -nodetach`): the payload travels inside.
    public func signEnveloping(payload: [UInt8], with identity: Identity, encoding: Encoding = .der,
                               digest: String = "sha256") throws -> [UInt8] {
        try sign(payload: payload, with: identity, encoding: encoding, digest: digest, detached: false)
    }

    /// A CMS signature by `openssl cms -sign -binary` with further options (`-nosmimecap`, `-noattr`,
    /// `-cades`, `-nocerts`, `-certfile FILE`, ...), detached unless `detached` is false.
    public func sign(payload: [UInt8], with identity: Identity, encoding: Encoding = .der, digest: String = "sha256",
                     detached: Bool = true, options: [String]) throws -> [UInt8] {
        try sign(payload: payload, with: identity, encoding: encoding, digest: digest, detached: detached, extra: options)
    }

    private func sign(payload: [UInt8], with identity: Identity, encoding: Encoding, digest: String,
                      detached: Bool, extra: [String] = []) throws -> [UInt8] {
        let work = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let input = work.appendingPathComponent("payload")
        let output = work.appendingPathComponent("signature")
        try Data(payload).write(to: input)
        var arguments = ["cms", "-sign", "-binary", "-in", input.path, "-signer", identity.certificate,
                         "-inkey", identity.privateKey, "-md", digest, "-outform", encoding == .der ? "DER" : "PEM",
                         "-out", output.path]
        if !detached { arguments.append("-nodetach") }
        try runOpenSSL(arguments + extra)
        return [UInt8](try Data(contentsOf: output))
    }

    /// A fresh, empty directory under the PKI directory, for a test's files.
    public func scratchDirectory() throws -> URL {
        let url = directory.appendingPathComponent("scratch").appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `openssl ARGS`; throws with its standard error unless it exits 0. Returns standard output.
    @discardableResult
    public func runOpenSSL(_ arguments: [String]) throws(TestPKIError) -> String {
        try Maker.run(arguments, in: directory)
    }
}

/// The `openssl` calls that make the PKI.
private struct Maker {
    let directory: URL

    enum KeyKind { case rsa2048, p256, p384 }

    /// A CA: its certificate, key and `openssl ca` database directory.
    struct CA {
        var certificate: String
        var key: String
        var database: String
    }

    /// Certificates and CRLs all come from one config; `$ENV::SWG_CA_DIR` selects the CA database.
    static let config = """
        [ ca ]
        default_ca = CA_default
        [ CA_default ]
        dir = $ENV::SWG_CA_DIR
        database = $dir/index.txt
        serial = $dir/serial
        crlnumber = $dir/crlnumber
        new_certs_dir = $dir/newcerts
        default_md = sha256
        policy = policy_any
        unique_subject = no
        preserve = yes
        email_in_dn = no
        copy_extensions = none
        [ policy_any ]
        countryName = optional
        organizationName = optional
        organizationalUnitName = optional
        commonName = supplied
        [ req ]
        distinguished_name = req_dn
        prompt = no
        [ req_dn ]
        CN = placeholder
        [ root_ext ]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [ inter_ext ]
        basicConstraints = critical,CA:TRUE,pathlen:0
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid:always
        [ sign_ext ]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature,nonRepudiation
        extendedKeyUsage = clientAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [ sign_ext_noeku ]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [ keyenc_ext ]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,keyEncipherment
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [ gateway_ext ]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature,nonRepudiation
        extendedKeyUsage = emailProtection
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [ crl_ext ]
        authorityKeyIdentifier = keyid:always

        """

    private var configPath: String { directory.appendingPathComponent("ca.cnf").path }

    func prepare() throws(TestPKIError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Self.config.write(toFile: configPath, atomically: true, encoding: .utf8)
        } catch {
            throw TestPKIError(description: "cannot prepare \(directory.path): \(error)")
        }
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func key(_ name: String, _ kind: KeyKind) throws(TestPKIError) -> String {
        let out = path("\(name).key")
        switch kind {
        case .rsa2048:
            try Self.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", out], in: directory)
        case .p256:
            try Self.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", out], in: directory)
        case .p384:
            try Self.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", out], in: directory)
        }
        chmod(out, 0o600)
        return out
    }

    /// A fresh `openssl ca` database; serials differ per CA so no two certificates share one.
    private func database(_ name: String, firstSerial: String) throws(TestPKIError) -> String {
        let dir = directory.appendingPathComponent("db-\(name)")
        do {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("newcerts"), withIntermediateDirectories: true)
            try "".write(to: dir.appendingPathComponent("index.txt"), atomically: true, encoding: .utf8)
            try "\(firstSerial)\n".write(to: dir.appendingPathComponent("serial"), atomically: true, encoding: .utf8)
            try "01\n".write(to: dir.appendingPathComponent("crlnumber"), atomically: true, encoding: .utf8)
        } catch {
            throw TestPKIError(description: "cannot create CA database \(dir.path): \(error)")
        }
        return dir.path
    }

    func selfSignedRoot(_ name: String, key: String, subject: String, firstSerial: String) throws(TestPKIError) -> CA {
        let db = try database(name, firstSerial: firstSerial)
        let csr = path("\(name).csr")
        try Self.run(["req", "-new", "-config", configPath, "-key", key, "-subj", subject, "-out", csr], in: directory)
        let certificate = path("\(name).pem")
        try Self.run(["ca", "-batch", "-notext", "-config", configPath, "-selfsign", "-keyfile", key, "-in", csr,
                      "-extensions", "root_ext", "-startdate", "200101000000Z", "-enddate", "400101000000Z", "-out", certificate],
                     in: directory, caDirectory: db)
        return CA(certificate: certificate, key: key, database: db)
    }

    func issue(_ name: String, key: String, subject: String, by ca: CA, extensions: String, from: String, until: String,
               digest: String = "sha256") throws(TestPKIError) -> CA {
        let csr = path("\(name).csr")
        try Self.run(["req", "-new", "-config", configPath, "-key", key, "-subj", subject, "-out", csr], in: directory)
        let certificate = path("\(name).pem")
        try Self.run(["ca", "-batch", "-notext", "-config", configPath, "-cert", ca.certificate, "-keyfile", ca.key, "-in", csr,
                      "-extensions", extensions, "-startdate", from, "-enddate", until, "-md", digest, "-out", certificate],
                     in: directory, caDirectory: ca.database)
        let db = extensions == "inter_ext" ? try database(name, firstSerial: name.hasPrefix("ciq") ? "C100" : "A100") : ""
        return CA(certificate: certificate, key: key, database: db)
    }

    func revoke(_ certificate: String, by ca: CA) throws(TestPKIError) {
        try Self.run(["ca", "-config", configPath, "-cert", ca.certificate, "-keyfile", ca.key, "-revoke", certificate,
                      "-crl_reason", "keyCompromise"], in: directory, caDirectory: ca.database)
    }

    func crl(_ ca: CA, name: String, from: String) throws(TestPKIError) -> String {
        let out = path("\(name).crl.pem")
        try Self.run(["ca", "-config", configPath, "-cert", ca.certificate, "-keyfile", ca.key, "-gencrl", "-crlexts", "crl_ext",
                      "-crl_lastupdate", from, "-crl_nextupdate", "350101000000Z", "-out", out], in: directory, caDirectory: ca.database)
        return out
    }

    func identity(_ name: String, certificate: String, key: String) throws(TestPKIError) -> TestPKI.Identity {
        let text = try Self.run(["x509", "-in", certificate, "-noout", "-subject", "-nameopt", "RFC2253", "-serial",
                                 "-fingerprint", "-sha256", "-startdate", "-enddate"], in: directory)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.timeZone = TimeZone(identifier: "UTC")
        parser.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        func date(_ key: String) -> Date {
            let raw = (fields[key] ?? "").split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            return parser.date(from: raw) ?? .distantPast
        }
        return TestPKI.Identity(
            name: name, certificate: certificate, privateKey: key, subject: fields["subject"] ?? "",
            serialNumber: fields["serial"] ?? "",
            sha256Fingerprint: (fields["sha256 Fingerprint"] ?? "").lowercased().filter { $0 != ":" },
            notBefore: date("notBefore"), notAfter: date("notAfter"))
    }

    /// Runs `openssl` with standard output and error captured in files (no pipe can fill up and block).
    @discardableResult
    static func run(_ arguments: [String], in directory: URL, caDirectory: String? = nil) throws(TestPKIError) -> String {
        let id = UUID().uuidString
        let outURL = directory.appendingPathComponent(".out-\(id)")
        let errURL = directory.appendingPathComponent(".err-\(id)")
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let command = "openssl " + arguments.joined(separator: " ")
        do {
            _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
            let out = try FileHandle(forWritingTo: outURL)
            let err = try FileHandle(forWritingTo: errURL)
            defer {
                try? out.close()
                try? err.close()
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + arguments
            process.currentDirectoryURL = directory
            var environment = ProcessInfo.processInfo.environment
            // Every openssl command parses the whole config, so the variable must always have a value.
            environment["SWG_CA_DIR"] = caDirectory ?? directory.path
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = out
            process.standardError = err
            try process.run()
            process.waitUntilExit()
            let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
            guard process.terminationStatus == 0 else {
                let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
                throw TestPKIError(description: "\(command): exit \(process.terminationStatus)\n\(stderr)")
            }
            return stdout
        } catch let error as TestPKIError {
            throw error
        } catch {
            throw TestPKIError(description: "\(command): \(error)")
        }
    }
}

extension TestPKI.Agency {
    /// This agency's `[partner.trust]` table for a gateway configuration (its certificates and current CRLs).
    public var trustTable: String {
        func list(_ paths: [String]) -> String { "[" + paths.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        return "[partner.trust]\ncertificates = \(list(certificateFiles))\ncrls = \(list(crlFiles))\n"
    }
}
