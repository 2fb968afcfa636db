import Foundation
import Testing

@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

// XML-DSig verification and signing against a PKI made at test time with the `openssl` CLI, and
// documents signed with the `xmlsec1` CLI (installed by scripts/setup-test-deps.sh).

/// Runs a command; returns its exit status and combined output.
@discardableResult
private func xmldsigRun(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// Two agency CAs (Customs = A, Quarantine = B), partner certificates, an expired, a revoked (with CRL),
/// one with an encipherment-only key usage, an attacker key, and the gateway's own keys.
private final class XMLDSigTestPKI: Sendable {
    let directory: String

    static let shared: Result<XMLDSigTestPKI, Error> = Result { try XMLDSigTestPKI() }

    private init() throws {
        var template = Array("/tmp/swg-xmldsig-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let script = #"""
        set -e
        cnf() {
        cat > "$1/ca.cnf" <<C
        [ ca ]
        default_ca = CA_default
        [ CA_default ]
        dir = $1
        database = \$dir/index.txt
        new_certs_dir = \$dir/newcerts
        serial = \$dir/serial
        crlnumber = \$dir/crlnumber
        default_md = sha256
        policy = policy_any
        unique_subject = no
        [ policy_any ]
        countryName = optional
        organizationName = optional
        commonName = supplied
        [ req ]
        distinguished_name = dn
        [ dn ]
        [ v3_ca ]
        basicConstraints = critical,CA:true
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [ leaf ]
        basicConstraints = CA:false
        keyUsage = critical,digitalSignature,nonRepudiation
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [ leaf_encipher ]
        basicConstraints = CA:false
        keyUsage = critical,keyEncipherment
        C
        }
        key() { # file rsa|ec
          if [ "$2" = rsa ]; then openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
          else openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; fi
        }
        newca() { # dir subject
          mkdir -p "$1/newcerts"; touch "$1/index.txt"; echo 1000 > "$1/serial"; echo 1000 > "$1/crlnumber"
          cnf "$PWD/$1"; key "$1/ca.key" ec
          openssl req -new -key "$1/ca.key" -subj "$2" -out "$1/ca.csr" -config "$1/ca.cnf"
          openssl ca -batch -selfsign -config "$1/ca.cnf" -keyfile "$1/ca.key" -in "$1/ca.csr" -out "$1/ca.pem" \
            -notext -extensions v3_ca -startdate 20190101000000Z -enddate 20491231000000Z 2>/dev/null
        }
        issue() { # ca name subject rsa|ec extensions start end
          key "$2.key" "$4"
          openssl req -new -key "$2.key" -subj "$3" -out "$2.csr" -config "$1/ca.cnf"
          openssl ca -batch -config "$1/ca.cnf" -cert "$1/ca.pem" -keyfile "$1/ca.key" -in "$2.csr" -out "$2.pem" \
            -notext -extensions "$5" -startdate "$6" -enddate "$7" 2>/dev/null
        }
        newca caA "/C=CN/O=Customs/CN=Customs Root CA"
        newca caB "/C=CN/O=Quarantine/CN=Quarantine Root CA"
        issue caA partnerA "/C=CN/O=Carrier One/CN=Carrier One Signing" rsa leaf 20190601000000Z 20391231000000Z
        issue caA partnerAec "/C=CN/O=Carrier One/CN=Carrier One EC" ec leaf 20190601000000Z 20391231000000Z
        issue caA revoked "/C=CN/O=Carrier One/CN=Carrier One Revoked" rsa leaf 20190601000000Z 20391231000000Z
        issue caA expired "/C=CN/O=Carrier One/CN=Carrier One Old" rsa leaf 20200101000000Z 20210101000000Z
        issue caA encipher "/C=CN/O=Carrier One/CN=Carrier One Encipher" rsa leaf_encipher 20190601000000Z 20391231000000Z
        issue caB partnerB "/C=CN/O=Carrier Two/CN=Carrier Two Signing" rsa leaf 20190601000000Z 20391231000000Z
        issue caB gateway "/C=CN/O=Single Window/CN=Gateway Signing" rsa leaf 20190601000000Z 20391231000000Z
        issue caB gatewayec "/C=CN/O=Single Window/CN=Gateway EC" ec leaf 20190601000000Z 20391231000000Z
        openssl ca -config caA/ca.cnf -cert caA/ca.pem -keyfile caA/ca.key -revoke revoked.pem 2>/dev/null
        openssl ca -gencrl -config caA/ca.cnf -cert caA/ca.pem -keyfile caA/ca.key -out caA/crl.pem \
          -crl_lastupdate 20190601000000Z -crl_nextupdate 20491231000000Z 2>/dev/null
        key attacker.key rsa
        chmod 600 gateway.key gatewayec.key
        """#
        // One PKI per test process, shared by the parallel tests; removed when the process exits.
        atexit {
            if case .success(let pki) = XMLDSigTestPKI.shared { try? FileManager.default.removeItem(atPath: pki.directory) }
        }
        let result = try xmldsigRun(["bash", "-c", script], in: directory)
        guard result.status == 0 else {
            throw XMLDSigError(code: "test.pki", message: "openssl PKI script failed: \(result.output)")
        }
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    func anchors(_ ca: String, agency: String, crl: Bool = true) throws -> XMLDSigTrustAnchors {
        let crlFiles = crl && FileManager.default.fileExists(atPath: path("\(ca)/crl.pem")) ? [path("\(ca)/crl.pem")] : []
        return try XMLDSigTrustAnchors.load(agency: agency, certificateFiles: [path("\(ca)/ca.pem")], crlFiles: crlFiles)
    }

    /// Customs (A) with its CRL.
    func customs(_ policy: XMLDSigPolicy = XMLDSigPolicy()) throws -> XMLDSigVerifier {
        try XMLDSigVerifier(anchors: anchors("caA", agency: "customs"), policy: policy)
    }

    /// Quarantine (B), no CRL.
    func quarantine() throws -> XMLDSigVerifier {
        try XMLDSigVerifier(anchors: anchors("caB", agency: "quarantine"))
    }

    /// Signs `template` with the xmlsec1 CLI; `key` is "name" (key + cert) or "name.key" (bare key).
    func sign(_ template: String, with key: String, idAttribute: Bool = false) throws -> [UInt8] {
        let name = UUID().uuidString
        let input = path("\(name).tmpl.xml"), output = path("\(name).signed.xml")
        defer {
            try? FileManager.default.removeItem(atPath: input)
            try? FileManager.default.removeItem(atPath: output)
        }
        try Data(template.utf8).write(to: URL(fileURLWithPath: input))
        let material = key.hasSuffix(".key") ? path(key) : "\(path(key + ".key")),\(path(key + ".pem"))"
        var arguments = ["xmlsec1", "--sign", "--privkey-pem", material]
        if idAttribute { arguments += ["--id-attr:Id", "Manifest"] }
        arguments += ["--output", output, input]
        let result = try xmldsigRun(arguments, in: directory)
        guard result.status == 0, let data = FileManager.default.contents(atPath: output) else {
            throw XMLDSigError(code: "test.sign", message: "xmlsec1 --sign failed: \(result.output)")
        }
        return [UInt8](data)
    }

    /// `xmlsec1 --verify` over bytes; true when the CLI says OK.
    func cliVerifies(_ document: [UInt8], arguments: [String]) throws -> Bool {
        let file = path("\(UUID().uuidString).verify.xml")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(document).write(to: URL(fileURLWithPath: file))
        return try xmldsigRun(["xmlsec1", "--verify"] + arguments + [file], in: directory).status == 0
    }

    /// The certificate's SHA-256 fingerprint, RFC 2253 subject and serial as the openssl CLI prints them.
    func opensslView(_ certificate: String) throws -> (fingerprint: String, subject: String, serial: String) {
        let serial = try xmldsigRun(["openssl", "x509", "-in", path(certificate), "-noout", "-serial"], in: directory).output
        let fingerprint = try xmldsigRun(["openssl", "x509", "-in", path(certificate), "-noout", "-fingerprint", "-sha256"],
                                         in: directory).output
        let subject = try xmldsigRun(["openssl", "x509", "-in", path(certificate), "-noout", "-subject",
                                      "-nameopt", "RFC2253"], in: directory).output
        let hex = fingerprint.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        return (hex.replacingOccurrences(of: ":", with: "").lowercased(),
                subject.replacingOccurrences(of: "subject=", with: "").trimmingCharacters(in: .whitespacesAndNewlines),
                serial.replacingOccurrences(of: "serial=", with: "").trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

private enum XMLDSigAlgorithmURI {
    static let rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    static let ecdsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    static let rsaSHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    static let sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    static let sha1 = "http://www.w3.org/2000/09/xmldsig#sha1"
}

private let x509KeyInfo = "<X509Data><X509Certificate/></X509Data>"

/// An enveloped-signature template for a small manifest whose root is `Manifest Id="m1"`.
private func xmldsigTemplate(payload: String = "<Voyage>V001</Voyage><Container>MSCU1234567</Container>",
                             signatureMethod: String = XMLDSigAlgorithmURI.rsaSHA256,
                             digest: String = XMLDSigAlgorithmURI.sha256, uri: String = "",
                             keyInfo: String = x509KeyInfo) -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <Manifest Id="m1">\(payload)<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>\
    <CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
    <SignatureMethod Algorithm="\(signatureMethod)"/><Reference URI="\(uri)"><Transforms>\
    <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>\
    <Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>\
    <DigestMethod Algorithm="\(digest)"/><DigestValue/></Reference></SignedInfo><SignatureValue/>\
    <KeyInfo>\(keyInfo)</KeyInfo></Signature></Manifest>
    """
}

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The signed document's `<Signature ...>...</Signature>` element, as text.
private func signatureElement(of document: String) -> String {
    let start = document.range(of: "<Signature ")!.lowerBound
    let end = document.range(of: "</Signature>")!.upperBound
    return String(document[start..<end])
}

private let now = Date()
private let carrierOne = "CN=Carrier One Signing,O=Carrier One,C=CN"

@Suite("XMLDSig verifier and signer")
struct XMLDSigVerifierTests {
    fileprivate let pki: XMLDSigTestPKI

    init() throws {
        pki = try XMLDSigTestPKI.shared.get()
    }

    @Test("a good RSA signature is valid and names the signer as the openssl CLI does")
    func goodRSA() throws {
        let signed = try pki.sign(xmldsigTemplate(), with: "partnerA")
        let verdict = try pki.customs().verify(signed, at: now, signer: .subjects([carrierOne]))
        #expect(verdict.isValid, "\(verdict)")
        let signer = try #require(verdict.signer)
        let cli = try pki.opensslView("partnerA.pem")
        #expect(signer.subject == cli.subject)
        #expect(signer.subject == carrierOne)
        #expect(signer.sha256Fingerprint == cli.fingerprint)
        #expect(signer.issuer == "CN=Customs Root CA,O=Customs,C=CN")
        #expect(signer.serialNumber == cli.serial)
        #expect(signer.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(signer.chainPEM.count == 1)  // the root
        // A rerun at the same validation time reaches the same verdict.
        #expect(try pki.customs().verify(signed, at: now, signer: .subjects([carrierOne])) == verdict)
    }

    @Test("a good ECDSA signature is valid")
    func goodECDSA() throws {
        let signed = try pki.sign(xmldsigTemplate(signatureMethod: XMLDSigAlgorithmURI.ecdsaSHA256), with: "partnerAec")
        let verdict = try pki.customs().verify(signed, at: now, signer: .subjects(["CN=Carrier One EC,O=Carrier One,C=CN"]))
        #expect(verdict.isValid, "\(verdict)")
    }

    @Test("a reference to the root's own Id is valid")
    func rootIDReference() throws {
        let signed = try pki.sign(xmldsigTemplate(uri: "#m1"), with: "partnerA", idAttribute: true)
        let verdict = try pki.customs().verify(signed, at: now, signer: .subjects([carrierOne]))
        #expect(verdict.isValid, "\(verdict)")
    }

    @Test("tampered content is a bad signature")
    func tampered() throws {
        let signed = text(try pki.sign(xmldsigTemplate(), with: "partnerA"))
        let tampered = signed.replacingOccurrences(of: "MSCU1234567", with: "MSCU7654321")
        let verdict = try pki.customs().verify(bytes(tampered), at: now, signer: .subjects([carrierOne]))
        #expect(verdict.failureCode == .badSignature, "\(verdict)")
        #expect(verdict.signer?.subject == carrierOne)
    }

    @Test("a certificate from the other agency's CA is untrusted")
    func wrongAgency() throws {
        let signed = try pki.sign(xmldsigTemplate(), with: "partnerB")
        let verdict = try pki.customs().verify(signed, at: now, signer: .anyTrustedSigner)
        #expect(verdict.failureCode == .untrusted, "\(verdict)")
        guard case .failed(let failure) = verdict else { return }
        #expect(failure.operatorReason.contains("customs"))
        #expect(!failure.partnerReason.contains("Customs Root"))  // nothing about the trust store
        // The same file is fine for the agency whose CA issued it.
        #expect(try pki.quarantine().verify(signed, at: now, signer: .anyTrustedSigner).isValid)
    }

    @Test("an expired certificate is refused at the injected time, accepted inside its validity")
    func expired() throws {
        let signed = try pki.sign(xmldsigTemplate(), with: "expired")
        let subject = "CN=Carrier One Old,O=Carrier One,C=CN"
        let verifier = try pki.customs()
        let late = verifier.verify(signed, at: now, signer: .subjects([subject]))
        #expect(late.failureCode == .expired, "\(late)")
        let inside = Date(timeIntervalSince1970: 1_590_969_600)  // 2020-06-01
        let timely = verifier.verify(signed, at: inside, signer: .subjects([subject]))
        #expect(timely.isValid, "\(timely)")
    }

    @Test("a revoked certificate is refused")
    func revoked() throws {
        let signed = try pki.sign(xmldsigTemplate(), with: "revoked")
        let verdict = try pki.customs().verify(signed, at: now, signer: .anyTrustedSigner)
        #expect(verdict.failureCode == .revoked, "\(verdict)")
    }

    @Test("a certificate whose key usage excludes signing is untrusted")
    func keyUsage() throws {
        let signed = try pki.sign(xmldsigTemplate(), with: "encipher")
        let verdict = try pki.customs().verify(signed, at: now, signer: .anyTrustedSigner)
        #expect(verdict.failureCode == .untrusted, "\(verdict)")
    }

    @Test("KeyValue substitution is refused, even though the math checks")
    func keyValueSubstitution() throws {
        let signed = try pki.sign(xmldsigTemplate(keyInfo: "<KeyValue/>"), with: "attacker.key")
        #expect(text(signed).contains("<RSAKeyValue>"))
        // The hole (pitfall X1): plain xmlsec1 trusts the embedded key.
        #expect(try pki.cliVerifies(signed, arguments: ["--trusted-pem", pki.path("caA/ca.pem")]))
        let verdict = try pki.customs().verify(signed, at: now, signer: .anyTrustedSigner)
        #expect(verdict.failureCode == .keyValue, "\(verdict)")

        // The partner's real certificate shown beside the attacker's KeyValue: the key comes from the
        // certificate only, so the attacker's signature does not verify.
        let der = try #require(String(decoding: try Data(contentsOf: URL(fileURLWithPath: pki.path("partnerA.pem"))), as: UTF8.self)
            .components(separatedBy: "-----").dropFirst(2).first)
        let mixed = text(signed).replacingOccurrences(
            of: "</KeyInfo>", with: "<X509Data><X509Certificate>\(der)</X509Certificate></X509Data></KeyInfo>")
        let mixedVerdict = try pki.customs().verify(bytes(mixed), at: now, signer: .anyTrustedSigner)
        #expect(!mixedVerdict.isValid)
        #expect(mixedVerdict.failureCode == .badSignature, "\(mixedVerdict)")
    }

    @Test("signature wrapping: the signed root wrapped inside a new, unsigned root is refused")
    func wrappedRoot() throws {
        let signed = text(try pki.sign(xmldsigTemplate(), with: "partnerA"))
        let body = signed.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "")
        let wrapped = "<Manifest Id=\"evil\"><Voyage>V666</Voyage><Container>EVIL0000001</Container>"
            + "<Archive>\(body)</Archive></Manifest>"
        let verdict = try pki.customs().verify(bytes(wrapped), at: now, signer: .anyTrustedSigner)
        #expect(verdict.failureCode == .reference, "\(verdict)")
    }

    @Test("signature wrapping: the signature moved to a new root, still pointing at the original element, is refused")
    func movedSignedElement() throws {
        let signed = text(try pki.sign(xmldsigTemplate(uri: "#m1"), with: "partnerA", idAttribute: true))
        let signature = signatureElement(of: signed)
        let original = signed.replacingOccurrences(of: signature, with: "")
            .replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "")
        // The processed root is the attacker's; the signed element sits unprocessed inside it.
        let attack = "<Manifest Id=\"evil\"><Voyage>V666</Voyage><Container>EVIL0000001</Container>"
            + "\(signature)<Archive>\(original)</Archive></Manifest>"
        // The digest math still holds for the moved element: xmlsec1 alone accepts it.
        #expect(try pki.cliVerifies(bytes(attack), arguments: ["--trusted-pem", pki.path("caA/ca.pem"),
                                                                "--enabled-key-data", "x509", "--id-attr:Id", "Manifest"]))
        let verdict = try pki.customs().verify(bytes(attack), at: now, signer: .anyTrustedSigner)
        #expect(verdict.failureCode == .reference, "\(verdict)")

        // Same Id on the attacker's root: the ID names the root, whose content does not match.
        let sameID = attack.replacingOccurrences(of: "Id=\"evil\"", with: "Id=\"m1\"")
        let sameIDVerdict = try pki.customs().verify(bytes(sameID), at: now, signer: .anyTrustedSigner)
        #expect(!sameIDVerdict.isValid)
        #expect([XMLDSigFailureCode.reference, .badSignature].contains(sameIDVerdict.failureCode), "\(sameIDVerdict)")

        // An xml:id elsewhere claiming the root's ID value first: refused, not resolved to that element.
        let xmlID = sameID.replacingOccurrences(of: "<Archive>", with: "<Archive xml:id=\"m1\">")
        let xmlIDVerdict = try pki.customs().verify(bytes(xmlID), at: now, signer: .anyTrustedSigner)
        #expect(xmlIDVerdict.failureCode == .reference, "\(xmlIDVerdict)")
    }

    @Test("unsigned content smuggled into a ds:Object is refused")
    func objectInjection() throws {
        let signed = text(try pki.sign(xmldsigTemplate(), with: "partnerA"))
        let injected = signed.replacingOccurrences(
            of: "</Signature>", with: "<Object><Container>EVIL0000001</Container></Object></Signature>")
        let verdict = try pki.customs().verify(bytes(injected), at: now, signer: .anyTrustedSigner)
        #expect(verdict.failureCode == .reference, "\(verdict)")
    }

    @Test("references to external URIs, XPointer or several elements are refused before anything is fetched")
    func externalReference() throws {
        let signed = text(try pki.sign(xmldsigTemplate(), with: "partnerA"))
        for uri in ["file:///etc/hostname", "http://127.0.0.1:9/manifest.xml", "#xpointer(/)", "other.xml#m1"] {
            let changed = signed.replacingOccurrences(of: "<Reference URI=\"\"", with: "<Reference URI=\"\(uri)\"")
            let verdict = try pki.customs().verify(bytes(changed), at: now, signer: .anyTrustedSigner)
            #expect(verdict.failureCode == .reference, "\(uri): \(verdict)")
        }
        let noURI = signed.replacingOccurrences(of: "<Reference URI=\"\"", with: "<Reference")
        #expect(try pki.customs().verify(bytes(noURI), at: now, signer: .anyTrustedSigner).failureCode == .reference)
        let reference = String(signed[signed.range(of: "<Reference ")!.lowerBound..<signed.range(of: "</Reference>")!.upperBound])
        let twice = signed.replacingOccurrences(of: reference, with: reference + reference)
        #expect(try pki.customs().verify(bytes(twice), at: now, signer: .anyTrustedSigner).failureCode == .reference)
    }

    @Test("a DOCTYPE with an external entity is refused and the entity is never opened")
    func externalEntity() throws {
        let signed = text(try pki.sign(xmldsigTemplate(), with: "partnerA"))
        let fifo = pki.path("\(UUID().uuidString).fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let secret = pki.path("\(UUID().uuidString).secret")
        try Data("TOP-SECRET-MARKER".utf8).write(to: URL(fileURLWithPath: secret))
        defer { unlink(secret) }

        // A reader blocked opening the FIFO would let this non-blocking writer open succeed.
        final class Watch: @unchecked Sendable {
            let lock = NSLock()
            var done = false
            var opened = false
        }
        let watch = Watch()
        let watcher = Thread {
            while true {
                let descriptor = open(fifo, O_WRONLY | O_NONBLOCK)
                if descriptor >= 0 {
                    watch.lock.withLock { watch.opened = true }
                    close(descriptor)  // the reader sees end of file and the test does not hang
                }
                if watch.lock.withLock({ watch.done }) { return }
                usleep(5_000)
            }
        }
        watcher.start()
        let body = signed.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "")
        for target in [fifo, secret] {
            let hostile = "<?xml version=\"1.0\"?><!DOCTYPE Manifest [<!ENTITY xxe SYSTEM \"file://\(target)\">]>"
                + body.replacingOccurrences(of: "<Voyage>V001</Voyage>", with: "<Voyage>&xxe;</Voyage>")
            let verdict = try pki.customs().verify(bytes(hostile), at: now, signer: .anyTrustedSigner)
            #expect(verdict.failureCode == .unsafeXML, "\(verdict)")
            if case .failed(let failure) = verdict {
                #expect(!failure.operatorReason.contains("TOP-SECRET"))
            }
        }
        let parameterEntity = "<?xml version=\"1.0\"?><!DOCTYPE Manifest [<!ENTITY % p SYSTEM \"file://\(fifo)\"> %p;]>" + body
        #expect(try pki.customs().verify(bytes(parameterEntity), at: now, signer: .anyTrustedSigner).failureCode == .unsafeXML)
        usleep(50_000)
        watch.lock.withLock { watch.done = true }
        while !watcher.isFinished { usleep(5_000) }
        #expect(!watch.lock.withLock { watch.opened }, "the parser opened the external entity")
    }

    @Test("SHA-1 signatures and digests are weak algorithms")
    func sha1() throws {
        let rsaSHA1 = try pki.sign(xmldsigTemplate(signatureMethod: XMLDSigAlgorithmURI.rsaSHA1,
                                                   digest: XMLDSigAlgorithmURI.sha1), with: "partnerA")
        #expect(try pki.customs().verify(rsaSHA1, at: now, signer: .anyTrustedSigner).failureCode == .weakAlgorithm)
        let sha1Digest = try pki.sign(xmldsigTemplate(digest: XMLDSigAlgorithmURI.sha1), with: "partnerA")
        #expect(try pki.customs().verify(sha1Digest, at: now, signer: .anyTrustedSigner).failureCode == .weakAlgorithm)
        // A partner policy narrower than the default: ECDSA only.
        let rsa = try pki.sign(xmldsigTemplate(), with: "partnerA")
        let ecdsaOnly = try pki.customs(XMLDSigPolicy(signatureAlgorithms: [.ecdsaSHA256]))
        #expect(ecdsaOnly.verify(rsa, at: now, signer: .anyTrustedSigner).failureCode == .weakAlgorithm)
    }

    @Test("xmlsec's own layer refuses KeyValue, SHA-1, revoked, expired and foreign certificates too (defence in depth)")
    func xmlsecLayerAlone() throws {
        // The keys manager configured as the verifier configures it, without the verifier's pre-checks.
        let anchors = try pki.anchors("caA", agency: "customs")
        let validator = try XMLDSigChainValidator(anchors)
        let manager = try XMLDSigKeysManager(anchors: validator.anchors, crls: validator.crls, agency: "customs")
        func outcome(_ signed: [UInt8], at time: Date = now) throws -> XMLDSigXMLSecOutcome {
            manager.verify(try XMLDSigXMLDocument.parse(signed), policy: XMLDSigPolicy(), at: time)
        }
        let good = try outcome(try pki.sign(xmldsigTemplate(), with: "partnerA"))
        #expect(good.status == .succeeded)
        #expect(good.referenceCount == 1 && good.referencesSucceeded == 1)
        let keyValue = try outcome(try pki.sign(xmldsigTemplate(keyInfo: "<KeyValue/>"), with: "attacker.key"))
        #expect(keyValue.status == .error, "the KeyValue hole (X1) is open: \(keyValue.log.summary)")
        #expect(keyValue.keyCertificateDER == nil)
        let sha1 = try outcome(try pki.sign(xmldsigTemplate(signatureMethod: XMLDSigAlgorithmURI.rsaSHA1), with: "partnerA"))
        #expect(sha1.status == .error)
        let sha1Digest = try outcome(try pki.sign(xmldsigTemplate(digest: XMLDSigAlgorithmURI.sha1), with: "partnerA"))
        #expect(sha1Digest.status == .error)
        #expect(try outcome(try pki.sign(xmldsigTemplate(), with: "revoked")).status == .error)
        #expect(try outcome(try pki.sign(xmldsigTemplate(), with: "partnerB")).status == .error)
        let expired = try pki.sign(xmldsigTemplate(), with: "expired")
        #expect(try outcome(expired).status == .error)
        #expect(try outcome(expired, at: Date(timeIntervalSince1970: 1_590_969_600)).status == .succeeded)
    }

    @Test("a trusted certificate that is not the partner's is a signer mismatch")
    func signerMismatch() throws {
        let signed = try pki.sign(xmldsigTemplate(), with: "partnerA")
        let verdict = try pki.customs().verify(signed, at: now, signer: .subjects(["CN=Carrier Nine,O=Carrier Nine,C=CN"]))
        #expect(verdict.failureCode == .signerMismatch, "\(verdict)")
        #expect(verdict.signer?.subject == carrierOne)
        #expect(try pki.customs().verify(signed, at: now, signer: .subjects([])).failureCode == .signerMismatch)
    }

    @Test("no signature, malformed XML")
    func missingAndMalformed() throws {
        let verifier = try pki.customs()
        let plain = bytes("<?xml version=\"1.0\"?><Manifest Id=\"m1\"><Voyage>V001</Voyage></Manifest>")
        #expect(verifier.verify(plain, at: now, signer: .anyTrustedSigner).failureCode == .missing)
        let broken = bytes("<Manifest><Voyage>V001</Manifest>")
        #expect(verifier.verify(broken, at: now, signer: .anyTrustedSigner).failureCode == .malformed)
        #expect(verifier.verify([], at: now, signer: .anyTrustedSigner).failureCode == .malformed)
    }

    @Test("our own signer's output verifies with XMLDSigVerifier and with the xmlsec1 CLI")
    func ownSigner() throws {
        let document = bytes("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Release><Container>MSCU1234567</Container></Release>\n")
        for name in ["gateway", "gatewayec"] {
            let signer = try XMLDSigSigner(keyFile: pki.path("\(name).key"), certificateFile: pki.path("\(name).pem"))
            #expect(signer.algorithm == (name == "gateway" ? .rsaSHA256 : .ecdsaSHA256))
            let signed = try signer.sign(document)
            let verdict = try pki.quarantine().verify(signed, at: now, signer: .subjects([signer.certificate.subject]))
            #expect(verdict.isValid, "\(name): \(verdict)")
            #expect(try pki.cliVerifies(signed, arguments: ["--trusted-pem", pki.path("caB/ca.pem"),
                                                             "--enabled-key-data", "x509"]), "\(name): xmlsec1 --verify")
            let tampered = bytes(text(signed).replacingOccurrences(of: "MSCU1234567", with: "MSCU0000000"))
            #expect(!(try pki.cliVerifies(tampered, arguments: ["--trusted-pem", pki.path("caB/ca.pem"),
                                                                 "--enabled-key-data", "x509"])))
            #expect(try pki.customs().verify(signed, at: now, signer: .anyTrustedSigner).failureCode == .untrusted)
        }
    }

    @Test("the signer refuses a key file that group or others can read, and never reads it")
    func signerKeyPermissions() throws {
        let loose = pki.path("\(UUID().uuidString).key")
        try FileManager.default.copyItem(atPath: pki.path("gateway.key"), toPath: loose)
        defer { unlink(loose) }
        for mode: mode_t in [0o644, 0o640, 0o604] {
            chmod(loose, mode)
            #expect {
                _ = try XMLDSigSigner(keyFile: loose, certificateFile: pki.path("gateway.pem"))
            } throws: { error in
                guard let error = error as? XMLDSigError else { return false }
                return error.code == "xmldsig.key-permissions" && error.message.contains("chmod 600")
            }
        }
        chmod(loose, 0o600)
        #expect(throws: Never.self) { _ = try XMLDSigSigner(keyFile: loose, certificateFile: pki.path("gateway.pem")) }
        // A key that does not match the certificate.
        #expect {
            _ = try XMLDSigSigner(keyFile: pki.path("gatewayec.key"), certificateFile: pki.path("gateway.pem"))
        } throws: { ($0 as? XMLDSigError)?.code == "xmldsig.key-mismatch" }
    }
}
