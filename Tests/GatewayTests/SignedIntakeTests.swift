import Foundation
import GRDB
import Testing
import TestSupport

@testable import Gateway

// Signatures through the real pipeline (issue 4): a carrier that must sign with a certificate of the customs CA
// drops signed, tampered, foreign, revoked and unsigned files; `gateway run --once` must accept only the good
// ones, quarantine the rest with their stable code, answer them in plain words, and keep the evidence.

/// Two agencies with their own CAs and a carrier that declares to customs (shared with XMLIntakeTests).
func signedConfig(_ pki: TestPKI, carrierFormats: String = "[\"cms-detached\"]",
                  patterns: String = "[\"*.edi\", \"*.p7s\", \"*.p7m\"]") -> String {
    """
        [gateway]
        sender_id = "SWGATEWAY"
        sender_qualifier = "ZZZ"
        spool = "."

        [[partner]]
        id = "CUSTOMS"
        role = "agency"
        drop = "partners/CUSTOMS/drop"
        pickup = "partners/CUSTOMS/pickup"
        \(pki.customs.trustTable)

        [[partner]]
        id = "CIQ"
        role = "agency"
        drop = "partners/CIQ/drop"
        pickup = "partners/CIQ/pickup"
        \(pki.ciq.trustTable)

        [[partner]]
        id = "CARRIERX"
        role = "carrier"
        identities = ["CARRIERX:ZZZ"]
        drop = "partners/CARRIERX/drop"
        pickup = "partners/CARRIERX/pickup"
        patterns = \(patterns)
        incomplete_deadline_seconds = 600
        [partner.signature]
        required = true
        trust = ["CUSTOMS"]
        subjects = ["\(pki.carrierXRSA.subject)", "\(pki.carrierXECDSA.subject)", "\(pki.revoked.subject)", "\(pki.wrongAgency.subject)"]
        formats = \(carrierFormats)

        """
}

/// The gateway's signing key (`keys/gateway.key`, with `permissions`) and certificate followed by its chain
/// (`keys/gateway.pem`, issued under the customs CA) in `spool`; returns the key file.
func installGatewaySigning(_ spool: Scratch, _ pki: TestPKI, permissions: Int = 0o600) throws -> URL {
    let keyFile = spool.url.appendingPathComponent("keys/gateway.key")
    try FileManager.default.createDirectory(at: keyFile.deletingLastPathComponent(), withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: pki.gateway.privateKey, toPath: keyFile.path)
    try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: keyFile.path)
    _ = try spool.write("keys/gateway.pem", try String(contentsOfFile: pki.gateway.certificate, encoding: .utf8)
                            + String(contentsOfFile: pki.customs.intermediateCertificate, encoding: .utf8))
    return keyFile
}

/// `config` with the gateway's signing key and certificate of `installGatewaySigning` in its [gateway] table.
func withGatewaySigning(_ config: String) -> String {
    config.replacingOccurrences(of: "spool = \".\"", with: """
        spool = "."
        signing_key = "keys/gateway.key"
        signing_certificate = "keys/gateway.pem"
        """)
}

private func cuscar(_ reference: String) throws -> [UInt8] {
    Array(try String(contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-notes.edi"), encoding: .utf8)
        .replacingOccurrences(of: "CUS000123", with: reference).utf8)
}


/// One `gateway run --once --json` over `count` mutated files: it must not crash (exit 0 or 1), and must give every
/// file its line; returns the lines and how many had each outcome.
func mutantsRun(_ spool: Scratch, count: Int) throws -> (files: [[String: Any]], outcomes: [String: Int]) {
    let run = try spool.gateway("run", "--once", "--config", "gateway.toml", "--json")
    #expect(run.status == 0 || run.status == 1, "no crash: \(run.status) \(run.stderr.suffix(2_000))")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run)")
    let files = try #require(report["files"] as? [[String: Any]])
    #expect(files.count == count, "every file has its line: \(files.count)")
    return (files, Dictionary(grouping: files) { $0["outcome"] as? String ?? "?" }.mapValues(\.count))
}

@Suite("signed intake through gateway run --once", .serialized)
struct SignedIntakeTests {
    @Test("only files signed by the partner's own certificate from the right agency's CA are accepted")
    func detachedSignatures() throws {
        let pki = try TestPKI.get()
        let spool = try Scratch()
        _ = try spool.write("gateway.toml", signedConfig(pki))
        let drop = spool.url.appendingPathComponent("partners/CARRIERX/drop")
        let pickup = spool.url.appendingPathComponent("partners/CARRIERX/pickup")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        func put(_ name: String, _ bytes: [UInt8], signature: [UInt8]?) throws {
            if let signature { _ = try spool.write("partners/CARRIERX/drop/\(name).p7s", signature) }
            _ = try spool.write("partners/CARRIERX/drop/" + name, bytes)
        }
        let good = try cuscar("SIG0001"), ecdsa = try cuscar("SIG0002")
        try put("good.edi", good, signature: try pki.signDetached(payload: good, with: pki.carrierXRSA))
        try put("ecdsa.edi", ecdsa, signature: try pki.signDetached(payload: ecdsa, with: pki.carrierXECDSA, encoding: .pem))
        let original = try cuscar("SIG0003")
        var tampered = original
        tampered[tampered.count - 20] ^= 0x01
        try put("tampered.edi", tampered, signature: try pki.signDetached(payload: original, with: pki.carrierXRSA))
        let other = try cuscar("SIG0004")
        try put("other.edi", other, signature: try pki.signDetached(payload: other, with: pki.carrierYRSA))
        let foreign = try cuscar("SIG0005")
        try put("foreign.edi", foreign, signature: try pki.signDetached(payload: foreign, with: pki.wrongAgency))
        let revoked = try cuscar("SIG0006")
        try put("revoked.edi", revoked, signature: try pki.signDetached(payload: revoked, with: pki.revoked))
        // No signature: a fresh one waits for it; one past the deadline is refused as unsigned.
        try put("fresh.edi", try cuscar("SIG0007"), signature: nil)
        try put("late.edi", try cuscar("SIG0008"), signature: nil)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)],
                                              ofItemAtPath: drop.appendingPathComponent("late.edi").path)

        let run = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        func line(_ file: String) -> String {
            run.stdout.split(separator: "\n").first { $0.hasPrefix("CARRIERX \(file):") }.map(String.init) ?? "(no line for \(file))"
        }
        #expect(line("good.edi").contains("accepted — receipt partners/CARRIERX/pickup/CONTRL-"), "\(run)")
        #expect(line("good.edi").contains("signature verified"), "\(run)")
        #expect(line("ecdsa.edi").contains("accepted"), "\(run)")
        let expected = [("tampered.edi", "sig.bad-signature"), ("other.edi", "sig.signer-mismatch"),
                        ("foreign.edi", "sig.untrusted"), ("revoked.edi", "sig.revoked"), ("late.edi", "sig.missing")]
        for (file, _) in expected {
            #expect(line(file).contains("quarantined — receipt partners/CARRIERX/pickup/APERAK-"), "\(file): \(run)")
        }
        #expect(line("fresh.edi").contains("waiting (its signature fresh.edi.p7s has not arrived yet)"), "\(run)")
        // Only the file still waiting for its signature is left; every .p7s went with its file.
        #expect(listing(drop) == ["fresh.edi"])

        // The ledger: quarantined with the stable code, and the evidence of every verdict.
        let db = try spool.openStore()
        let rows = try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT b.original_name AS name, b.state, j.error_code AS code, v.valid, v.code AS vcode,
                       v.signer_subject AS subject, v.trust, v.signature_sha256 AS sig, b.signature_sha256 AS bsig
                FROM batch b JOIN job j ON j.batch_id = b.id AND j.kind = 'process'
                LEFT JOIN signature_verdict v ON v.batch_id = b.id ORDER BY b.id
                """)
        }
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as String, $0) })
        for name in ["good.edi", "ecdsa.edi"] {
            let row = try #require(byName[name])
            #expect(row["state"] as String == "accepted" && row["valid"] as Int == 1, "\(row)")
            #expect((row["subject"] as String?)?.contains("CARRIERX") == true && row["trust"] as String == "CUSTOMS", "\(row)")
            #expect(row["sig"] as String? == row["bsig"] as String?, "the evidence names the stored signature: \(row)")
        }
        for (name, code) in expected {
            let row = try #require(byName[name], "\(name) not in the ledger")
            #expect(row["state"] as String == "quarantined" && row["code"] as String? == code, "\(name): \(row)")
            #expect(row["valid"] as Int == 0 && row["vcode"] as String? == code, "\(name): \(row)")
        }

        // The APERAKs speak plain words and never show the trust store's details.
        for name in listing(pickup) where name.hasPrefix("APERAK-") {
            let text = try String(contentsOf: pickup.appendingPathComponent(name), encoding: .utf8)
            #expect(text.contains("ERC+SWG-SIG'"), "\(name): \(text)")
            let texts = AperakView(text).ftx
            #expect(!texts.isEmpty, "\(name): \(text)")
            for secret in ["Signing CA", "Root CA", "CRL", ".pem", "OpenSSL", "/"] {
                #expect(!texts.contains { $0.contains(secret) }, "\(name) shows '\(secret)': \(text)")
            }
        }
        let aperakFor = { (file: String) in
            try listing(pickup).filter { $0.hasPrefix("APERAK-") }.map {
                try String(contentsOf: pickup.appendingPathComponent($0), encoding: .utf8)
            }.first { $0.contains("RFF+ACE:\(file)'") } ?? ""
        }
        #expect(try aperakFor("tampered.edi").contains("The signature does not match the file"))
        #expect(try aperakFor("late.edi").contains("The file has no signature"))

        // The signature arrives at last: the waiting file is taken with it.
        let fresh = try cuscar("SIG0007")
        _ = try spool.write("partners/CARRIERX/drop/fresh.edi.p7s", try pki.signDetached(payload: fresh, with: pki.carrierXRSA))
        let again = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(again.stdout.contains("CARRIERX fresh.edi: accepted"), "\(again)")
        #expect(listing(drop).isEmpty)
    }

    @Test("an enveloping .p7m: verified, then what it holds is judged and answered")
    func envelopingSignature() throws {
        let pki = try TestPKI.get()
        let spool = try Scratch()
        _ = try spool.write("gateway.toml", signedConfig(pki, carrierFormats: "[\"cms-enveloping\"]"))
        try FileManager.default.createDirectory(at: spool.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        let inner = try cuscar("ENV0001")
        _ = try spool.write("partners/CARRIERX/drop/manifest.p7m", try pki.signEnveloping(payload: inner, with: pki.carrierXRSA))
        let forged = try cuscar("ENV0002")
        _ = try spool.write("partners/CARRIERX/drop/forged.p7m", try pki.signEnveloping(payload: forged, with: pki.carrierYRSA))
        let run = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX manifest.p7m: accepted — receipt partners/CARRIERX/pickup/CONTRL-"), "\(run)")
        #expect(run.stdout.contains("CARRIERX forged.p7m: quarantined"), "\(run)")
        let pickup = spool.url.appendingPathComponent("partners/CARRIERX/pickup")
        let contrl = try #require(listing(pickup).first { $0.hasPrefix("CONTRL-") })
        let text = try String(contentsOf: pickup.appendingPathComponent(contrl), encoding: .utf8)
        #expect(text.contains("UCI+ENV0001+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'"), "the inner interchange is answered: \(text)")
    }

    @Test("mutated CMS signatures (bytes flipped, cut, padded) reach OpenSSL: never a crash, every file answered, none accepted unsigned")
    func mutatedSignatures() throws {
        let pki = try TestPKI.get()
        let spool = try Scratch()
        _ = try spool.write("gateway.toml", signedConfig(pki, carrierFormats: "[\"cms-detached\", \"cms-enveloping\"]"))
        let drop = spool.url.appendingPathComponent("partners/CARRIERX/drop")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        var random = SplitMix64(state: 0x51_6E_2026)
        func mutate(_ bytes: [UInt8]) -> [UInt8] {
            var b = bytes
            switch random.int(0...3) {
            case 0: for _ in 0..<random.int(1...3) { b[random.int(0...(b.count - 1))] ^= UInt8(random.int(1...255)) }
            case 1: b = Array(b.prefix(random.int(0...(b.count - 1))))
            case 2: b += (0..<random.int(1...64)).map { _ in UInt8(random.int(0...255)) }
            default:
                let at = random.int(0...(b.count - 16))
                for i in at..<(at + 16) { b[i] = 0 }
            }
            return b
        }
        let count = 60
        // The signed bytes as dropped, kept aside to check every acceptance with openssl afterwards.
        let kept = spool.url.appendingPathComponent("kept")
        try FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
        for i in 0..<count {
            let payload = try cuscar(String(format: "MUT%05d", i))
            let name = i % 3 == 2 ? "m\(i).p7m" : "m\(i).edi"
            let signed = i % 3 == 2 ? mutate(try pki.signEnveloping(payload: payload, with: pki.carrierXRSA))
                : mutate(try pki.signDetached(payload: payload, with: pki.carrierXRSA))
            _ = try spool.write("kept/\(name).sig", signed)
            _ = try spool.write("kept/\(name)", payload)
            if i % 3 == 2 {
                _ = try spool.write("partners/CARRIERX/drop/\(name)", signed)
            } else {
                _ = try spool.write("partners/CARRIERX/drop/\(name).p7s", signed)
                _ = try spool.write("partners/CARRIERX/drop/\(name)", payload)
            }
        }
        let (files, outcomes) = try mutantsRun(spool, count: count)
        // A partner signing both ways: its .p7m files were held "waiting" for a .p7s for the whole deadline.
        #expect(!files.contains { $0["outcome"] as? String == "waiting" }, "\(files.filter { $0["outcome"] as? String == "waiting" }.prefix(3))")
        #expect(Set(outcomes.keys).isSubset(of: ["accepted", "quarantined"]), "\(outcomes)")
        // A mutation OpenSSL still verifies (padding after the DER, say) is accepted: the signature is good. Every
        // accepted file is one whose signature still verifies with the real key, checked again by openssl.
        #expect((outcomes["quarantined"] ?? 0) >= count / 2, "\(outcomes)")
        let chain = try spool.write("kept/chain.pem", try String(contentsOfFile: pki.customs.rootCertificate, encoding: .utf8)
                                        + String(contentsOfFile: pki.customs.intermediateCertificate, encoding: .utf8))
        for file in files where file["outcome"] as? String == "accepted" {
            let name = try #require(file["file"] as? String)
            let signature = kept.appendingPathComponent(name + ".sig").path
            var arguments = ["cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-CAfile", chain.path,
                             "-purpose", "any", "-out", "/dev/null"]
            if !name.hasSuffix(".p7m") { arguments += ["-content", kept.appendingPathComponent(name).path] }
            #expect(throws: Never.self, "\(name) was accepted: openssl must verify its signature too") { try pki.runOpenSSL(arguments) }
        }
        #expect(listing(drop).isEmpty, "nothing left waiting: \(listing(drop))")
        let receipts = listing(spool.url.appendingPathComponent("partners/CARRIERX/pickup"))
        #expect(receipts.filter { $0.hasPrefix("CONTRL-") }.count == outcomes["accepted"] ?? 0, "\(receipts)")
        #expect(receipts.filter { $0.hasPrefix("APERAK-") }.count == outcomes["quarantined"] ?? 0, "\(receipts)")
    }
}

@Suite("signed receipts for partners that require them", .serialized)
struct SignedReceiptTests {
    @Test("sign_outbound: every receipt comes with NAME.p7s that openssl cms -verify accepts; a lax key file is refused")
    func signedReceipts() throws {
        let pki = try TestPKI.get()
        let spool = try Scratch()
        // The gateway's key in the spool, at first readable by others (refused), then 0600.
        let keyFile = try installGatewaySigning(spool, pki, permissions: 0o644)
        let config = withGatewaySigning(signedConfig(pki)) + "sign_outbound = true\n"
        _ = try spool.write("gateway.toml", config)
        try FileManager.default.createDirectory(at: spool.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        let manifest = try cuscar("OUT0001")
        _ = try spool.write("partners/CARRIERX/drop/m.edi.p7s", try pki.signDetached(payload: manifest, with: pki.carrierXRSA))
        _ = try spool.write("partners/CARRIERX/drop/m.edi", manifest)
        let pickup = spool.url.appendingPathComponent("partners/CARRIERX/pickup")

        var run = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.contains("receipt not signed") && run.stderr.contains("signer.key-permissions"), "\(run)")
        #expect(listing(pickup).isEmpty, "nothing unsigned goes out")

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile.path)
        let jobs = try spool.gateway("jobs", "list", "--config", "gateway.toml", "--state", "failed", "--json")
        let list = try #require((try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [String: Any])?["jobs"] as? [[String: Any]])
        let failed = try #require(list.first { $0["kind"] as? String == "process" }?["id"] as? NSNumber)
        run = try spool.gateway("jobs", "rerun", failed.stringValue, "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        let files = listing(pickup)
        let receipt = try #require(files.first { $0.hasPrefix("CONTRL-") && $0.hasSuffix(".edi") }, "\(files)")
        #expect(files == [receipt, receipt + ".p7s"], "\(files)")
        // Only the root as trust: the intermediate travels in the signature.
        try pki.runOpenSSL(["cms", "-verify", "-binary", "-inform", "DER", "-in", pickup.appendingPathComponent(receipt + ".p7s").path,
                            "-content", pickup.appendingPathComponent(receipt).path, "-CAfile", pki.customs.rootCertificate,
                            "-purpose", "any", "-out", "/dev/null"])
    }
}
