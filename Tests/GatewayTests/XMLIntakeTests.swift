import Foundation
import GRDB
import Testing
import TestSupport

@testable import Gateway

// XML documents through `gateway run --once`: well-formed ones are accepted and answered by an APERAK (29),
// malformed and DOCTYPE-carrying ones are quarantined; an XML-DSig-signed one is verified against the agency's CA.


/// A spool whose carrier must sign its XML with XML-DSig, and that carrier's signer (with its own copy of the key,
/// which only it can read, as the signer requires).
private func signedXMLSpool(_ pki: TestPKI) throws -> (Scratch, XMLDSigSigner) {
    let spool = try Scratch()
    _ = try spool.write("gateway.toml", signedConfig(pki, carrierFormats: "[\"xmldsig\"]", patterns: "[\"*.xml\"]"))
    try FileManager.default.createDirectory(at: spool.url.appendingPathComponent("partners/CARRIERX/drop"),
                                            withIntermediateDirectories: true)
    let key = spool.url.appendingPathComponent("carrier.key")
    try FileManager.default.copyItem(atPath: pki.carrierXRSA.privateKey, toPath: key.path)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key.path)
    return (spool, try XMLDSigSigner(keyFile: key.path, certificateFile: pki.carrierXRSA.certificate))
}

private let manifestXML = """
    <?xml version="1.0" encoding="UTF-8"?>
    <Manifest Id="m1" xmlns="urn:swg:manifest:1"><Voyage>MSCA123</Voyage><BillOfLading>MEDUSH123456</BillOfLading></Manifest>

    """

@Suite("XML documents through gateway run --once", .serialized)
struct XMLIntakeTests {
    @Test("well-formed XML is accepted with an APERAK 29; malformed and DOCTYPE XML are quarantined, no file read")
    func plainXML() throws {
        let spool = try Scratch()
        _ = try spool.write("gateway.toml", runOnceConfig.replacingOccurrences(of: "patterns = [\"*.edi\"]", with: "patterns = [\"*.xml\"]"))
        try FileManager.default.createDirectory(at: spool.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        _ = try spool.write("partners/CARRIERX/drop/good.xml", manifestXML)
        _ = try spool.write("partners/CARRIERX/drop/broken.xml", "<Manifest><Voyage>MSCA123</Manifest>\n")
        _ = try spool.write("partners/CARRIERX/drop/entity.xml", """
            <?xml version="1.0"?>
            <!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>
            <m>&x;</m>

            """)
        let run = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX good.xml: accepted — receipt partners/CARRIERX/pickup/APERAK-"), "\(run)")
        #expect(run.stdout.contains("CARRIERX broken.xml: quarantined"), "\(run)")
        #expect(run.stdout.contains("CARRIERX entity.xml: quarantined"), "\(run)")
        let pickup = spool.url.appendingPathComponent("partners/CARRIERX/pickup")
        let aperaks = try listing(pickup).map { try String(contentsOf: pickup.appendingPathComponent($0), encoding: .utf8) }
        let good = try #require(aperaks.first { $0.contains("RFF+ACE:good.xml'") })
        #expect(good.range(of: "BGM\\+963\\+B[0-9]+\\+29'", options: .regularExpression) != nil && !good.contains("ERC+"), "\(good)")
        let broken = try #require(aperaks.first { $0.contains("RFF+ACE:broken.xml'") })
        #expect(broken.contains("BGM+963+") && broken.contains("+27'") && broken.contains("ERC+SWG-XML'"), "\(broken)")
        #expect(broken.contains("not well-formed XML"), "\(broken)")
        let entity = try #require(aperaks.first { $0.contains("RFF+ACE:entity.xml'") })
        #expect(entity.contains("DOCTYPE") && !entity.contains("root:"), "\(entity)")
        let db = try spool.openStore()
        let codes = try db.read { try Row.fetchAll($0, sql: """
            SELECT b.original_name AS name, b.state, j.error_code AS code FROM batch b
            JOIN job j ON j.batch_id = b.id AND j.kind = 'process' ORDER BY b.id
            """) }
        let byName = Dictionary(uniqueKeysWithValues: codes.map { ($0["name"] as String, $0) })
        #expect(byName["good.xml"]?["state"] == "accepted")
        #expect(byName["broken.xml"]?["code"] == "xml.malformed")
        #expect(byName["entity.xml"]?["code"] == "xml.unsafe")
    }

    @Test("an XML-DSig-signed manifest is verified against the agency's CA; a tampered one is refused")
    func signedXML() throws {
        let pki = try TestPKI.get()
        let (spool, signer) = try signedXMLSpool(pki)
        let signed = try signer.sign(Array(manifestXML.utf8))
        _ = try spool.write("partners/CARRIERX/drop/signed.xml", signed)
        let text = String(decoding: signed, as: UTF8.self)
        _ = try spool.write("partners/CARRIERX/drop/tampered.xml", text.replacingOccurrences(of: "MEDUSH123456", with: "MEDUSH999999"))
        _ = try spool.write("partners/CARRIERX/drop/unsigned.xml", manifestXML)

        let run = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX signed.xml: accepted") && run.stdout.contains("signature verified"), "\(run)")
        #expect(run.stdout.contains("CARRIERX tampered.xml: quarantined"), "\(run)")
        #expect(run.stdout.contains("CARRIERX unsigned.xml: quarantined"), "\(run)")
        let db = try spool.openStore()
        let rows = try db.read { try Row.fetchAll($0, sql: """
            SELECT b.original_name AS name, v.valid, v.code, v.format FROM batch b JOIN signature_verdict v ON v.batch_id = b.id
            ORDER BY b.id
            """) }
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as String, $0) })
        #expect(byName["signed.xml"]?["valid"] == 1 && byName["signed.xml"]?["format"] == "xmldsig", "\(rows)")
        #expect(byName["tampered.xml"]?["code"] == "sig.bad-signature", "\(rows)")
        #expect(byName["unsigned.xml"]?["code"] == "sig.missing", "\(rows)")
    }
    @Test("over [gateway] max_document_mib: an XML document and a signed file are quarantined as intake.too-large, unread")
    func tooLarge() throws {
        let pki = try TestPKI.get()
        // Just over 1 MiB of well-formed XML from an unsigned partner; a signed EDIFACT file just over
        // 1 MiB with its good signature from a signing one.
        let filler = String(repeating: "<Item>0123456789</Item>", count: 1_048_576 / 23 + 1)
        var edifact = "UNA:+.? 'UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+260601:1200+BIG1'UNH+1+CUSCAR:D:95B:UN'BGM+85+BIG1+9'"
        while edifact.utf8.count <= 1_048_576 { edifact += "FTX+AAA+++\(String(repeating: "X", count: 60))'" }
        edifact += "UNT+\(edifact.components(separatedBy: "'").count - 2)+1'UNZ+1+BIG1'"
        let cases: [(config: String, files: [(String, [UInt8])])] = [
            (runOnceConfig.replacingOccurrences(of: "patterns = [\"*.edi\"]", with: "patterns = [\"*.xml\"]"),
             [("big.xml", Array("<?xml version=\"1.0\"?><Manifest>\(filler)</Manifest>\n".utf8))]),
            (signedConfig(pki), [("big.edi.p7s", try pki.signDetached(payload: Array(edifact.utf8), with: pki.carrierXRSA)),
                                 ("big.edi", Array(edifact.utf8))]),
        ]
        for (config, files) in cases {
            let name = files.last!.0
            let spool = try Scratch()
            _ = try spool.write("gateway.toml", config.replacingOccurrences(of: "spool = \".\"", with: "spool = \".\"\nmax_document_mib = 1"))
            try FileManager.default.createDirectory(at: spool.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                    withIntermediateDirectories: true)
            for (file, bytes) in files { _ = try spool.write("partners/CARRIERX/drop/\(file)", bytes) }

            let run = try spool.gateway("run", "--once", "--config", "gateway.toml")
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout.contains("CARRIERX \(name): quarantined"), "\(run)")
            let pickup = spool.url.appendingPathComponent("partners/CARRIERX/pickup")
            let aperaks = try listing(pickup).map { try String(contentsOf: pickup.appendingPathComponent($0), encoding: .utf8) }
            let aperak = try #require(aperaks.first { $0.contains("RFF+ACE:\(name)'") }, "\(name): \(aperaks)")
            #expect(aperak.contains("ERC+SWG-SIZE'") && aperak.contains("too large?: ") && aperak.contains("may be at most 1.0"), "\(aperak)")
            let db = try spool.openStore()
            let row = try db.read { try Row.fetchOne($0, sql: """
                SELECT b.state, j.error_code AS code, j.error_message AS message FROM batch b
                JOIN job j ON j.batch_id = b.id AND j.kind = 'process' WHERE b.original_name = ?
                """, arguments: [name]) }
            #expect(row?["code"] == "intake.too-large", "\(String(describing: row))")
            let message: String = row?["message"] ?? ""
            #expect(message.contains("is over the 1.0 MiB checked in memory"), "\(String(describing: row))")
        }
    }

    @Test("mutated XML-DSig signatures reach xmlsec: never a crash, every file answered or waiting, nothing accepted that xmlsec1 refuses")
    func mutatedXMLSignatures() throws {
        let pki = try TestPKI.get()
        let (spool, signer) = try signedXMLSpool(pki)
        /// What the xmlsec1 command says of a document: the reference every acceptance is checked against.
        func xmlsecVerifies(_ document: [UInt8]) throws -> Bool {
            let file = try spool.write("check.xml", document)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["xmlsec1", "--verify", "--trusted-pem", pki.customs.rootCertificate, "--trusted-pem",
                                 pki.customs.intermediateCertificate, "--id-attr:Id", "Manifest", file.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        var random = SplitMix64(state: 0xD516_2026)
        let count = 60
        var dropped: [String: [UInt8]] = [:]
        for i in 0..<count {
            var b = try signer.sign(Array(manifestXML.replacingOccurrences(of: "MEDUSH123456", with: "MEDUSH\(100_000 + i)").utf8))
            if i == 0 { #expect(try xmlsecVerifies(b), "the reference check accepts an untouched signature") }
            let text = String(decoding: b, as: UTF8.self)
            let signature = text.range(of: "<ds:Signature").map { text.utf8.distance(from: text.utf8.startIndex, to: $0.lowerBound.samePosition(in: text.utf8)!) } ?? 0
            switch random.int(0...3) {
            case 0: for _ in 0..<random.int(1...3) { b[random.int(signature...(b.count - 1))] ^= UInt8(random.int(1...127)) }
            case 1: b[random.int(0...(b.count - 1))] ^= UInt8(random.int(1...127))
            case 2: b = Array(b.prefix(random.int(signature...(b.count - 1))))
            default:
                // A base64 character of the signature or a digest swapped for another.
                let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
                let spots = b.indices.filter { $0 > signature && alphabet.contains(b[$0]) }
                if let at = spots.isEmpty ? nil : spots[random.int(0...(spots.count - 1))] { b[at] = alphabet[random.int(0...63)] }
            }
            dropped["m\(i).xml"] = b
            _ = try spool.write("partners/CARRIERX/drop/m\(i).xml", b)
        }
        let (files, outcomes) = try mutantsRun(spool, count: count)
        #expect(Set(outcomes.keys).isSubset(of: ["accepted", "quarantined", "rejected", "waiting"]), "\(outcomes)")
        #expect((outcomes["quarantined"] ?? 0) >= count / 3, "\(outcomes)")
        // A document cut (or damaged) before its root closes looks like an upload in progress: it waits, until the
        // incomplete deadline, and is then taken and refused. Nothing else is left behind.
        let waiting = files.filter { $0["outcome"] as? String == "waiting" }
        for file in waiting { #expect((file["reason"] as? String ?? "").contains("is not closed at the end of the file"), "\(file)") }
        #expect(listing(spool.url.appendingPathComponent("partners/CARRIERX/drop")) == waiting.compactMap { $0["file"] as? String }.sorted())
        for file in files where file["outcome"] as? String == "accepted" {
            let name = try #require(file["file"] as? String)
            #expect(try xmlsecVerifies(try #require(dropped[name])), "\(name) was accepted: xmlsec1 must verify it too")
        }
    }
}
