import Foundation
import Testing
import TestSupport

@testable import Gateway

// `gateway verify`, `gateway check-config` on trust tables, and the signature evidence in `gateway jobs show`,
// all through the real executable (CLITests.swift) with the test PKI made by `openssl` (TestSupport/TestPKI.swift).

/// A 2 KB CUSCAR-like payload; what it says does not matter to a signature.
private let payload: [UInt8] = {
    var bytes = Array("UNA:+.? 'UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+260601:0000+SIG0001'\n".utf8)
    var index = 0
    while bytes.count < 2_000 {
        bytes += Array("UNH+\(index)+CUSCAR:D:95B:UN'BGM+85+BL\(index)+9'\n".utf8)
        index += 1
    }
    return bytes
}()

/// The 2026-06-01 validation time of the test PKI, as `--at` takes it.
private let at = "2026-06-01T00:00:00Z"

/// A TOML string literal (the PKI's paths are absolute, without quotes or backslashes).
private func quoted(_ paths: [String]) -> String { "[" + paths.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }

/// Two agencies with their CAs (CUSTOMS and CIQ), and CARRIERX, whose signatures are required and must chain
/// to CUSTOMS. `customsCertificates`, `extraGateway` and `carrierSignature` vary it per test.
private func signingConfig(_ pki: TestPKI, customsCertificates: [String]? = nil, customsCRLs: [String]? = nil,
                           extraGateway: String = "", carrierSignature: String? = nil) -> String {
    """
    [gateway]
    sender_id = "SWGATEWAY"
    sender_qualifier = "ZZZ"
    spool = "."
    certificate_warning_days = 30
    \(extraGateway)

    [store]
    kind = "sqlite"
    path = "state/gateway.sqlite"

    [[partner]]
    id = "CARRIERX"
    role = "carrier"
    identities = ["CARRIERX:ZZZ"]
    drop = "partners/CARRIERX/drop"
    pickup = "partners/CARRIERX/pickup"
    patterns = ["*.edi"]
    readiness = { convention = "rename" }

    [partner.signature]
    \(carrierSignature ?? """
    required = true
    trust = ["CUSTOMS"]
    subjects = ["CN=CARRIERX,O=Carrier X,C=CN"]
    """)

    [[partner]]
    id = "CUSTOMS"
    role = "agency"
    identities = ["CNCQCUSTOMS:ZZZ"]
    drop = "partners/CUSTOMS/drop"
    pickup = "partners/CUSTOMS/pickup"
    patterns = ["*.edi"]

    [partner.trust]
    certificates = \(quoted(customsCertificates ?? pki.customs.certificateFiles))
    crls = \(quoted(customsCRLs ?? pki.customs.allCRLFiles))

    [[partner]]
    id = "CIQ"
    role = "agency"
    identities = ["CNCQCIQ:ZZZ"]
    drop = "partners/CIQ/drop"
    pickup = "partners/CIQ/pickup"
    patterns = ["*.edi"]

    [partner.trust]
    certificates = \(quoted(pki.ciq.certificateFiles))
    crls = \(quoted(pki.ciq.allCRLFiles))

    """
}

/// What `gateway verify --json` prints, as far as these tests read it.
private struct VerifyReport: Decodable {
    struct Certificate: Decodable {
        var subject: String
        var serial: String
        var sha256Fingerprint: String
        var notBefore: String
        var notAfter: String
    }
    struct Agency: Decodable {
        var agency: String
        var result: String
        var code: String?
        var certificates: [String]
    }
    struct CRL: Decodable {
        var sha256: String
        var file: String?
        var revoked: Int?
    }
    var file: String
    var partner: String
    var partnerFrom: String
    var signatureFile: String?
    var validationTime: String
    var verdict: String
    var format: String?
    var code: String?
    var reason: String
    var partnerReason: String?
    var agency: String?
    var agencies: [Agency]
    var signer: Certificate?
    var chain: [Certificate]
    var chainPEM: String?
    var crl: CRL?
    var exitStatus: Int32
}

@Suite("gateway verify, check-config trust and jobs show evidence, end to end")
struct VerifyCommandTests {
    let pki: TestPKI

    init() throws { pki = try TestPKI.get() }

    /// A spool with the signing configuration, and `NAME` (+ `NAME.p7s` signed by `identity`) in CARRIERX's drop.
    func spool(config: String? = nil) throws -> Scratch {
        let scratch = try Scratch()
        try scratch.write("gateway.toml", config ?? signingConfig(pki))
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        return scratch
    }

    @discardableResult
    func drop(_ scratch: Scratch, _ name: String = "BATCH1.edi", content: [UInt8] = payload,
              signedBy identity: TestPKI.Identity?, over signed: [UInt8]? = nil) throws -> String {
        let path = "partners/CARRIERX/drop/\(name)"
        try scratch.write(path, content)
        if let identity { try scratch.write(path + ".p7s", try pki.signDetached(payload: signed ?? content, with: identity)) }
        return path
    }

    // MARK: gateway verify

    @Test("a good signature: exit 0, the partner found from the drop directory, signer, chain and CRL explained")
    func good() throws {
        let scratch = try spool()
        let file = try drop(scratch, signedBy: pki.carrierXRSA)
        let run = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at)
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty, "\(run)")
        let out = run.stdout
        #expect(out.hasPrefix("\(file): valid signature\n"), "\(run)")
        #expect(out.contains("  partner     CARRIERX (its drop directory holds the file)"), "\(run)")
        #expect(out.contains("  signature   \(file).p7s ("), "\(run)")
        #expect(out.contains("  format      cms-detached"), "\(run)")
        #expect(out.contains("  checked at  \(at) (validation time)"), "\(run)")
        #expect(out.contains("  verdict     valid, agency CUSTOMS"), "\(run)")
        #expect(out.contains("  CUSTOMS: valid"), "\(run)")
        #expect(out.contains("    CA   CN=CUSTOMS Root CA,O=China Customs,C=CN"), "\(run)")
        #expect(out.contains("signer      CN=CARRIERX,O=Carrier X,C=CN"), "\(run)")
        #expect(out.contains("  issuer      CN=CUSTOMS Signing CA,O=China Customs,C=CN"), "\(run)")
        #expect(out.contains("  serial      \(pki.carrierXRSA.serialNumber)"), "\(run)")
        #expect(out.contains("  sha256      \(pki.carrierXRSA.sha256Fingerprint)"), "\(run)")
        #expect(out.contains("  valid       2025-01-01T00:00:00Z to 2030-01-01T00:00:00Z"), "\(run)")
        #expect(out.contains("chain (3)"), "\(run)")
        #expect(out.contains("crl         \(pki.customs.intermediateCRL)"), "\(run)")
    }

    @Test("a tampered file: exit 1, sig.bad-signature, the operator's reason and the partner's words")
    func tampered() throws {
        let scratch = try spool()
        var changed = payload
        changed[100] ^= 0x01
        let file = try drop(scratch, content: changed, signedBy: pki.carrierXRSA, over: payload)
        let run = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at)
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.hasPrefix("\(file): refused (sig.bad-signature)\n"), "\(run)")
        #expect(run.stdout.contains("  reason      the signature does not match the file's bytes"), "\(run)")
        #expect(run.stdout.contains("  partner text " + SignatureFailureCode.badSignature.partnerReason), "\(run)")
        // The signer is known from the certificate the signature carried, validity included; no chain was built.
        #expect(run.stdout.contains("signer      CN=CARRIERX,O=Carrier X,C=CN"), "\(run)")
        #expect(run.stdout.contains("  valid       2025-01-01T00:00:00Z to 2030-01-01T00:00:00Z"), "\(run)")
        #expect(run.stdout.contains("chain       not built"), "\(run)")
    }

    @Test("a certificate from another agency's CA: exit 1, sig.untrusted")
    func wrongAgency() throws {
        let scratch = try spool()
        let file = try drop(scratch, signedBy: pki.wrongAgency)
        let run = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at)
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.hasPrefix("\(file): refused (sig.untrusted)\n"), "\(run)")
        #expect(run.stdout.contains("  CUSTOMS: refused sig.untrusted"), "\(run)")
        #expect(run.stdout.contains("CN=CIQ Signing CA"), "\(run)")
    }

    @Test("a revoked certificate: exit 1, sig.revoked, and the CRL that lists it")
    func revoked() throws {
        let scratch = try spool()
        let file = try drop(scratch, signedBy: pki.revoked)
        let run = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at)
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.hasPrefix("\(file): refused (sig.revoked)\n"), "\(run)")
        #expect(run.stdout.contains("crl         \(pki.customs.intermediateCRL)"), "\(run)")
        #expect(run.stdout.contains("  revoked     1 certificate"), "\(run)")
    }

    @Test("an expired certificate: refused at a time after its validity, valid at a time inside it (--at)")
    func expired() throws {
        let scratch = try spool()
        let file = try drop(scratch, signedBy: pki.expired)
        let late = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at)
        #expect(late.status == 1, "\(late)")
        #expect(late.stdout.hasPrefix("\(file): refused (sig.expired)\n"), "\(late)")
        #expect(late.stdout.contains("  valid       2021-01-01T00:00:00Z to 2022-01-01T00:00:00Z"), "\(late)")
        let inside = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", "2021-06-01T00:00:00Z")
        #expect(inside.status == 0, "\(inside)")
        #expect(inside.stdout.hasPrefix("\(file): valid signature\n"), "\(inside)")
        // The CRL current then was the intermediate's first one.
        #expect(inside.stdout.contains("crl         \(pki.customs.intermediateCRLBeforeRevocation)"), "\(inside)")
    }

    @Test("no signature from a partner that must sign: exit 1, sig.missing; a partner that need not: exit 0")
    func missing() throws {
        let scratch = try spool()
        let file = try drop(scratch, signedBy: nil)
        let run = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at)
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.hasPrefix("\(file): refused (sig.missing)\n"), "\(run)")
        #expect(run.stdout.contains("  signature   no detached signature"), "\(run)")
        #expect(run.stdout.contains("  CUSTOMS: not tried"), "\(run)")

        // CUSTOMS itself signs nothing: nothing required, nothing present.
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CUSTOMS/drop"),
                                                withIntermediateDirectories: true)
        try scratch.write("partners/CUSTOMS/drop/CUSRES1.edi", payload)
        let free = try scratch.gateway("verify", "partners/CUSTOMS/drop/CUSRES1.edi", "--config", "gateway.toml")
        #expect(free.status == 0, "\(free)")
        #expect(free.stdout.hasPrefix("partners/CUSTOMS/drop/CUSRES1.edi: no signature required and none present\n"), "\(free)")
    }

    @Test("--json: one document with the verdict, the signer, the chain PEM and the CRL")
    func json() throws {
        let scratch = try spool()
        let file = try drop(scratch, signedBy: pki.carrierXECDSA)
        let run = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at, "--json")
        #expect(run.status == 0, "\(run)")
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(run.stdout.utf8))
        #expect(report.verdict == "valid" && report.code == nil && report.exitStatus == 0)
        #expect(report.partner == "CARRIERX" && report.partnerFrom == "its drop directory holds the file")
        #expect(report.signatureFile == file + ".p7s")
        #expect(report.format == "cms-detached" && report.agency == "CUSTOMS" && report.validationTime == at)
        #expect(report.signer?.serial == pki.carrierXECDSA.serialNumber)
        #expect(report.signer?.sha256Fingerprint == pki.carrierXECDSA.sha256Fingerprint)
        #expect(report.signer?.notAfter == "2030-01-01T00:00:00Z")
        #expect(report.chain.map(\.subject) == ["CN=CARRIERX,O=Carrier X,C=CN", "CN=CUSTOMS Signing CA,O=China Customs,C=CN",
                                                "CN=CUSTOMS Root CA,O=China Customs,C=CN"])
        #expect(report.chainPEM?.components(separatedBy: "-----BEGIN CERTIFICATE-----").count == 4)
        #expect(report.crl?.file == pki.customs.intermediateCRL && report.crl?.revoked == 1)
        #expect(report.agencies.map(\.agency) == ["CUSTOMS"] && report.agencies[0].result == "valid")

        // A refusal as JSON: the code and both reasons.
        var changed = payload
        changed.append(0x0A)
        try scratch.write(file, changed)
        let refused = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at, "--json")
        #expect(refused.status == 1, "\(refused)")
        let doc = try JSONDecoder().decode(VerifyReport.self, from: Data(refused.stdout.utf8))
        #expect(doc.verdict == "refused" && doc.code == "sig.bad-signature" && doc.exitStatus == 1)
        #expect(doc.partnerReason == SignatureFailureCode.badSignature.partnerReason)
    }

    @Test("several agencies: each one's anchors and what they made of the signature")
    func severalAgencies() throws {
        let scratch = try spool(config: signingConfig(pki, carrierSignature: """
            required = true
            trust = ["CUSTOMS", "CIQ"]
            subjects = ["CN=CARRIERX,O=Carrier X,C=CN"]
            """))
        let file = try drop(scratch, signedBy: pki.wrongAgency)
        let run = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at, "--json")
        #expect(run.status == 0, "\(run)")
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(run.stdout.utf8))
        #expect(report.agency == "CIQ")
        #expect(report.agencies.map { "\($0.agency) \($0.result) \($0.code ?? "-")" } == ["CUSTOMS refused sig.untrusted", "CIQ valid -"])
        #expect(report.agencies[1].certificates.contains("CN=CIQ Root CA,O=China Inspection and Quarantine,C=CN"))
    }

    @Test("--signature names the detached signature; --partner judges a file outside every drop")
    func options() throws {
        let scratch = try spool()
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("elsewhere"), withIntermediateDirectories: true)
        try scratch.write("elsewhere/BATCH9.edi", payload)
        try scratch.write("elsewhere/sig.der", try pki.signDetached(payload: payload, with: pki.carrierXRSA))
        let run = try scratch.gateway("verify", "elsewhere/BATCH9.edi", "--partner", "CARRIERX", "--signature", "elsewhere/sig.der",
                                      "--config", "gateway.toml", "--at", at)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("  partner     CARRIERX (--partner)"), "\(run)")
        #expect(run.stdout.contains("  signature   elsewhere/sig.der ("), "\(run)")
    }

    @Test("usage errors exit 2: no partner to judge for, an unknown partner, a missing file, a bad --at")
    func usage() throws {
        let scratch = try spool()
        try scratch.write("loose.edi", payload)
        var run = try scratch.gateway("verify", "loose.edi", "--config", "gateway.toml")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("loose.edi is not in any partner's drop directory"), "\(run)")
        #expect(run.stderr.contains("--partner"), "\(run)")
        run = try scratch.gateway("verify", "loose.edi", "--partner", "NOBODY", "--config", "gateway.toml")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("no partner 'NOBODY' is configured"), "\(run)")
        run = try scratch.gateway("verify", "partners/CARRIERX/drop/none.edi", "--config", "gateway.toml")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("no such file"), "\(run)")
        run = try scratch.gateway("verify", "loose.edi", "--at", "yesterday", "--config", "gateway.toml")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("Invalid --at"), "\(run)")
        #expect(run.stdout.isEmpty)
    }

    @Test("trust anchors that cannot be loaded: exit 3, the file named")
    func unusable() throws {
        let scratch = try spool(config: signingConfig(pki, customsCertificates: [pki.customs.rootCertificate, "/nonexistent/customs-inter.pem"]))
        let file = try drop(scratch, signedBy: pki.carrierXRSA)
        let run = try scratch.gateway("verify", file, "--config", "gateway.toml", "--at", at)
        #expect(run.status == 3, "\(run)")
        #expect(run.stdout.hasPrefix("\(file): not checked: the trust configuration cannot be used (trust.unreadable)\n"), "\(run)")
        #expect(run.stdout.contains("/nonexistent/customs-inter.pem"), "\(run)")
    }

    @Test("gateway verify --help matches the golden file")
    func help() throws {
        let run = try CLI.run(["verify", "--help"], in: CLI.fixtures)
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, "help-verify.txt")
    }

    // MARK: gateway check-config

    @Test("check-config loads the trust tables: a summary line per agency, no warnings, exit 0")
    func checkConfigGood() throws {
        let scratch = try spool()
        let run = try scratch.gateway("check-config", "--config", "gateway.toml", "--at", at)
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty, "\(run)")
        #expect(run.stdout.contains("trust     CUSTOMS  2 CA certificates, 3 CRLs (required)  first CA expiry 2039-01-01T00:00:00Z  "
                                    + "CRL next update 2035-01-01T00:00:00Z  for CARRIERX"), "\(run)")
        #expect(run.stdout.contains("trust     CIQ      2 CA certificates, 3 CRLs (required)"), "\(run)")
        #expect(!run.stdout.contains("warning"), "\(run)")
    }

    @Test("check-config: an unreadable CA file and a certificate that is not a CA are mistakes naming the key")
    func checkConfigUnreadable() throws {
        let scratch = try spool(config: signingConfig(pki, customsCertificates: [
            pki.customs.rootCertificate, "/nonexistent/customs-inter.pem", pki.carrierXRSA.certificate]))
        let run = try scratch.gateway("check-config", "--config", "gateway.toml", "--at", at)
        #expect(run.status == 1, "\(run)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("gateway.toml:35: partner[2].trust.certificates[2]: /nonexistent/customs-inter.pem: cannot be read "
                               + "(No such file or directory)"), "\(run)")
        #expect(lines.contains { $0.hasPrefix("gateway.toml:35: partner[2].trust.certificates[3]: \(pki.carrierXRSA.certificate): "
                                              + "CN=CARRIERX,O=Carrier X,C=CN is not a CA certificate") }, "\(run)")
        #expect(run.stderr == "gateway.toml: 2 mistakes\n", "\(run)")

        let json = try scratch.gateway("check-config", "--config", "gateway.toml", "--at", at, "--json")
        #expect(json.status == 1, "\(json)")
        let doc = try JSONDecoder().decode(ConfigurationCheck.Document.self, from: Data(json.stdout.utf8))
        #expect(!doc.valid && doc.summary == nil)
        #expect(doc.errors.map(\.key) == ["partner[2].trust.certificates[2]", "partner[2].trust.certificates[3]"])
    }

    @Test("check-config: an unreadable CRL is a mistake naming its key")
    func checkConfigBadCRL() throws {
        let scratch = try Scratch()
        let garbage = try scratch.write("not-a-crl.pem", "-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n")
        try scratch.write("gateway.toml", signingConfig(pki, customsCRLs: [pki.customs.rootCRL, garbage.path]))
        let run = try scratch.gateway("check-config", "--config", "gateway.toml", "--at", at)
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.contains("partner[2].trust.crls[2]: not-a-crl.pem: not a PEM or DER certificate revocation list"), "\(run)")
    }

    @Test("check-config: a CA expiring within certificate_warning_days and a stale CRL are warnings, exit 0")
    func checkConfigExpiring() throws {
        let scratch = try spool()
        // The CUSTOMS and CIQ intermediates end on 2039-01-01; every CRL's nextUpdate is 2035-01-01.
        let run = try scratch.gateway("check-config", "--config", "gateway.toml", "--at", "2038-12-15T00:00:00Z")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("gateway.toml: OK: 3 partners"), "\(run)")
        #expect(run.stdout.contains("gateway.toml:35: partner[2].trust.certificates[2]: warning: \(pki.customs.intermediateCertificate): "
                                    + "CA certificate CN=CUSTOMS Signing CA,O=China Customs,C=CN expires on 2039-01-01T00:00:00Z "
                                    + "(in 17 days; certificate_warning_days = 30)"), "\(run)")
        #expect(run.stdout.contains("partner[2].trust.crls[2]: warning: \(pki.customs.intermediateCRLBeforeRevocation): the CRL of "
                                    + "CN=CUSTOMS Signing CA,O=China Customs,C=CN was due to be replaced on 2035-01-01T00:00:00Z"), "\(run)")
        #expect(run.stderr == "gateway.toml: 8 warnings\n", "\(run)")

        let json = try scratch.gateway("check-config", "--config", "gateway.toml", "--at", "2038-12-15T00:00:00Z", "--json")
        #expect(json.status == 0, "\(json)")
        let doc = try JSONDecoder().decode(ConfigurationCheck.Document.self, from: Data(json.stdout.utf8))
        #expect(doc.valid && doc.errors.isEmpty)
        #expect(doc.warnings?.count == 8)
        #expect(doc.warnings?.first?.key == "partner[2].trust.certificates[2]")
        #expect(doc.summary?.trust?.map(\.agency) == ["CUSTOMS", "CIQ"])
    }

    @Test("check-config: an expired CA certificate is a mistake, exit 1")
    func checkConfigExpired() throws {
        let scratch = try spool()
        let run = try scratch.gateway("check-config", "--config", "gateway.toml", "--at", "2039-06-01T00:00:00Z")
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.contains("gateway.toml:35: partner[2].trust.certificates[2]: \(pki.customs.intermediateCertificate): "
                                    + "CA certificate CN=CUSTOMS Signing CA,O=China Customs,C=CN expired on 2039-01-01T00:00:00Z"), "\(run)")
        #expect(run.stderr.hasPrefix("gateway.toml: 2 mistakes, "), "\(run)")
    }

    @Test("check-config: the gateway's signing identity, its expiry warned ahead, a key others may read refused")
    func checkConfigSigning() throws {
        let scratch = try Scratch()
        let identity = """
            signing_key = "\(pki.gateway.privateKey)"
            signing_certificate = "\(pki.gateway.certificate)"
            """
        try scratch.write("gateway.toml", signingConfig(pki, extraGateway: identity))
        var run = try scratch.gateway("check-config", "--config", "gateway.toml", "--at", "2029-12-20T00:00:00Z")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("signing   CN=SWG GATEWAY,O=Single Window,C=CN  serial \(pki.gateway.serialNumber)  until 2030-01-01T00:00:00Z"),
                "\(run)")
        #expect(run.stdout.contains("gateway.signing_certificate: warning: \(pki.gateway.certificate): the gateway's certificate "
                                    + "CN=SWG GATEWAY,O=Single Window,C=CN expires on 2030-01-01T00:00:00Z (in 12 days;"), "\(run)")

        let loose = scratch.url.appendingPathComponent("gateway.key").path
        try FileManager.default.copyItem(atPath: pki.gateway.privateKey, toPath: loose)
        chmod(loose, 0o644)
        try scratch.write("gateway.toml", signingConfig(pki, extraGateway: """
            signing_key = "gateway.key"
            signing_certificate = "\(pki.gateway.certificate)"
            """))
        run = try scratch.gateway("check-config", "--config", "gateway.toml", "--at", at)
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.contains("gateway.toml:6: gateway.signing_key: gateway.key: the private key file has mode 644"), "\(run)")
    }

    // MARK: gateway jobs show

    @Test("jobs show: every signature verdict of the batch with its evidence, after a real run")
    func jobsShow() throws {
        let scratch = try spool()
        let good = try String(contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-notes.edi"), encoding: .utf8)
        try drop(scratch, "manifest.edi", content: Array(good.utf8), signedBy: pki.carrierXRSA)
        let other = Array(good.replacingOccurrences(of: "CUS000123", with: "CUS000777").utf8)
        let tampered = Array(String(decoding: other, as: UTF8.self).replacingOccurrences(of: "MACHINE PARTS", with: "MACHINE TOOLS").utf8)
        #expect(tampered != other)
        try drop(scratch, "tampered.edi", content: tampered, signedBy: pki.carrierXRSA, over: other)

        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX manifest.edi: accepted"), "\(run)")
        #expect(run.stdout.contains("CARRIERX tampered.edi: quarantined"), "\(run)")

        struct Listing: Decodable {
            struct Job: Decodable { var id: Int64; var kind: String; var fileName: String? }
            var jobs: [Job]
        }
        let list = try scratch.gateway("jobs", "list", "--kind", "process", "--json", "--config", "gateway.toml")
        let jobs = try JSONDecoder().decode(Listing.self, from: Data(list.stdout.utf8)).jobs
        let goodJob = try #require(jobs.first { $0.fileName == "manifest.edi" }, "\(list)")
        let badJob = try #require(jobs.first { $0.fileName == "tampered.edi" }, "\(list)")

        var show = try scratch.gateway("jobs", "show", String(goodJob.id), "--config", "gateway.toml")
        #expect(show.status == 0, "\(show)")
        #expect(show.stdout.contains("signatures (1)\n"), "\(show)")
        #expect(show.stdout.contains("  cms-detached  valid  agency CUSTOMS  job \(goodJob.id)"), "\(show)")
        #expect(show.stdout.contains("    signer      CN=CARRIERX,O=Carrier X,C=CN"), "\(show)")
        #expect(show.stdout.contains("    serial      \(pki.carrierXRSA.serialNumber)"), "\(show)")
        #expect(show.stdout.contains("    fingerprint \(pki.carrierXRSA.sha256Fingerprint)"), "\(show)")
        #expect(show.stdout.contains("    crl         sha256 "), "\(show)")
        #expect(show.stdout.contains("    chain       PEM kept (jobs show --json)"), "\(show)")
        #expect(!show.stdout.contains("BEGIN CERTIFICATE"), "\(show)")

        show = try scratch.gateway("jobs", "show", String(badJob.id), "--config", "gateway.toml")
        #expect(show.status == 0, "\(show)")
        #expect(show.stdout.contains("  cms-detached  refused sig.bad-signature  agency CUSTOMS"), "\(show)")
        #expect(show.stdout.contains("    partner     " + SignatureFailureCode.badSignature.partnerReason), "\(show)")

        struct Shown: Decodable {
            struct Verdict: Decodable {
                var valid: Bool
                var code: String?
                var format: String
                var signerSubject: String?
                var signerFingerprint: String?
                var agency: String
                var validationTime: String
                var crlSha256: String?
                var chainPEM: String?
            }
            var signatures: [Verdict]
        }
        let json = try scratch.gateway("jobs", "show", String(goodJob.id), "--json", "--config", "gateway.toml")
        let verdicts = try JSONDecoder().decode(Shown.self, from: Data(json.stdout.utf8)).signatures
        try #require(verdicts.count == 1, "\(json)")
        #expect(verdicts[0].valid && verdicts[0].code == nil && verdicts[0].format == "cms-detached")
        #expect(verdicts[0].signerFingerprint == pki.carrierXRSA.sha256Fingerprint && verdicts[0].agency == "CUSTOMS")
        #expect(verdicts[0].crlSha256?.count == 64)
        #expect(verdicts[0].chainPEM?.components(separatedBy: "-----BEGIN CERTIFICATE-----").count == 4)
    }
}
