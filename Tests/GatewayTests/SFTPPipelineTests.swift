import Foundation
import GRDB
import Testing
import TestSupport

@testable import Gateway

// Partners' drop and pickup directories on an SFTP server (a real OpenSSH sshd on loopback, TestSSHD):
// the carrier uploads with the real `sftp` client, `gateway run --once` picks up over SFTP and delivers
// its receipts back over SFTP; host keys and client keys are checked; sshd killed mid-transfer loses and
// doubles nothing.

/// A spool whose CARRIERX drop and pickup are on `sshd`, as its user `swgw`.
struct RemoteSpool {
    let scratch: Scratch
    let sshd: TestSSHD
    let home: String

    init(sshd: TestSSHD, knownHosts: String? = nil, key: String? = nil, extra: String = "") throws {
        scratch = try Scratch()
        self.sshd = sshd
        let user = sshd.user("swgw")
        home = user.home
        for dir in ["drop", "pickup"] {
            try FileManager.default.createDirectory(atPath: home + "/" + dir, withIntermediateDirectories: true)
            _ = try? Self.shell("chown", "swgw", home + "/" + dir)
        }
        _ = try scratch.write("gateway.toml", """
            [gateway]
            sender_id = "SWGATEWAY"
            sender_qualifier = "ZZZ"
            spool = "."

            [[endpoint]]
            name = "carrier-server"
            host = "127.0.0.1"
            port = \(sshd.port)
            user = "swgw"
            private_key = "\(key ?? user.privateKey)"
            known_hosts = "\(knownHosts ?? sshd.knownHosts)"
            connect_timeout_seconds = 5
            transfer_timeout_seconds = 10

            [[partner]]
            id = "CARRIERX"
            role = "carrier"
            identities = ["CARRIERX:ZZZ"]
            drop = "sftp://carrier-server\(home)/drop"
            pickup = "sftp://carrier-server\(home)/pickup"
            patterns = ["*.edi"]
            \(extra)
            """)
    }

    func run() throws -> CLIRun { try scratch.gateway("run", "--once", "--config", "gateway.toml") }

    /// `gateway run --once` in the background, its output to `output` (for the kill tests).
    func spawnRun(output: URL) throws -> Process {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["run", "--once", "--config", "gateway.toml"]
        process.currentDirectoryURL = scratch.url
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    func remote(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: home + "/" + dir)) ?? []).sorted()
    }

    /// The carrier uploads `text` as `name` with the real sftp client: under NAME.part, then renamed.
    func upload(_ name: String, _ text: String, finish: Bool = true) throws {
        let local = try scratch.write("outgoing-\(name)", text)
        var batch = ["cd drop", "put \(local.path) \(name).part"]
        if finish { batch.append("rename \(name).part \(name)") }
        let result = try sshd.sftpClient("swgw", batch: batch)
        #expect(result.status == 0, "\(result)")
    }

    func ledger<T: DatabaseValueConvertible>(_ sql: String) throws -> [T] {
        let db = try DatabaseQueue(path: scratch.url.appendingPathComponent("state/gateway.sqlite").path)
        return try db.read { try T.fetchAll($0, sql: sql) }
    }

    static func shell(_ arguments: String...) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("Drop and pickup over SFTP (real sshd)", .serialized)
struct SFTPPipelineTests {
    @Test("a carrier's upload is picked up over SFTP and its CONTRL delivered back over SFTP; an upload in progress waits")
    func pickupAndDeliver() throws {
        let sshd = try TestSSHD.start(users: ["swgw"])
        defer { sshd.stop() }
        let spool = try RemoteSpool(sshd: sshd)

        // Still uploading (NAME.part): not ready.
        try spool.upload("MAN1.edi", sftpInterchange("MAN1"), finish: false)
        var run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(!run.stdout.contains("MAN1.edi"), "\(run)")
        #expect(spool.remote("drop") == ["MAN1.edi.part"])
        #expect(try spool.ledger("SELECT count(*) FROM batch") == [0])

        // Renamed: picked up, recorded, gone from the server; the CONTRL is in the remote pickup.
        let finish = try sshd.sftpClient("swgw", batch: ["cd drop", "rename MAN1.edi.part MAN1.edi"])
        #expect(finish.status == 0)
        try spool.upload("MAN2.edi", sftpInterchange("MAN2"))
        run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX MAN1.edi: accepted — receipt sftp://carrier-server\(spool.home)/pickup/CONTRL-"), "\(run)")
        #expect(run.stdout.contains("CARRIERX MAN2.edi: accepted"), "\(run)")
        #expect(spool.remote("drop").isEmpty, "\(spool.remote("drop"))")
        let receipts = spool.remote("pickup")
        #expect(receipts.count == 2 && receipts.allSatisfy { $0.hasPrefix("CONTRL-") && !$0.hasPrefix(".") }, "\(receipts)")
        // The carrier downloads its receipt with the sftp client.
        let download = spool.scratch.url.appendingPathComponent("got.edi").path
        let got = try sshd.sftpClient("swgw", batch: ["cd pickup", "get \(receipts[0]) \(download)"])
        let text = try String(contentsOfFile: download, encoding: .utf8)
        #expect(got.status == 0 && text.contains("UNH+1+CONTRL:"), "\(got)")
        #expect(try spool.ledger("SELECT original_name FROM batch ORDER BY original_name") == ["MAN1.edi", "MAN2.edi"])
        #expect(try spool.ledger("SELECT count(*) FROM receipt") == [2])

        // Nothing new: nothing happens, nothing is sent twice.
        run = try spool.run()
        #expect(run.status == 0 && !run.stdout.contains(".edi"), "\(run)")
        #expect(spool.remote("pickup") == receipts)
    }

    @Test("a changed host key or a wrong client key is refused: nothing taken from the server, nothing recorded")
    func refusedConnections() throws {
        let sshd = try TestSSHD.start(users: ["swgw", "other"])
        defer { sshd.stop() }
        for (label, spool) in [("host key", try RemoteSpool(sshd: sshd, knownHosts: try sshd.wrongKnownHosts())),
                               ("client key", try RemoteSpool(sshd: sshd, key: sshd.user("other").privateKey))] {
            try spool.upload("MAN9.edi", sftpInterchange("MAN9"))
            let run = try spool.run()
            let expected = label == "host key" ? "sftp.host-key" : "auth"
            #expect(run.stdout.contains("CARRIERX -: failed") || run.stdout.contains("failed"), "\(label): \(run)")
            #expect((run.stdout + run.stderr).lowercased().contains(expected.lowercased())
                    || (run.stdout + run.stderr).contains("carrier-server"), "\(label): \(run)")
            #expect(spool.remote("drop") == ["MAN9.edi"], "\(label)")
            #expect(try spool.ledger("SELECT count(*) FROM batch") == [0], "\(label)")
            _ = try sshd.sftpClient("swgw", batch: ["rm drop/MAN9.edi"])
        }
    }

    @Test("sshd killed in the middle of a download and of deliveries, then restarted: every file recorded once, every receipt delivered once")
    func killedServer() throws {
        let sshd = try TestSSHD.start(users: ["swgw"])
        defer { sshd.stop() }
        let spool = try RemoteSpool(sshd: sshd)
        var cut: [String] = []
        func killedRun(_ label: String, when: () -> Bool) throws {
            let output = spool.scratch.url.appendingPathComponent("killed-\(label).txt")
            let process = try spool.spawnRun(output: output)
            let deadline = Date().addingTimeInterval(30)
            while !when() && process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
            sshd.kill()
            process.waitUntilExit()
            try sshd.restart()
            cut.append(try String(contentsOf: output, encoding: .utf8))
        }
        /// The largest partial download in the work area.
        func downloading() -> Int {
            let work = spool.scratch.url.appendingPathComponent("work").path
            let names = (try? FileManager.default.subpathsOfDirectory(atPath: work)) ?? []
            return names.filter { $0.hasSuffix(".part") }.compactMap {
                (try? FileManager.default.attributesOfItem(atPath: work + "/" + $0))?[.size] as? Int
            }.max() ?? 0
        }

        // 1. A 40 MB file, sshd killed once 2 MB of it are down.
        try spool.upload("BIG.edi", sftpInterchange("BIG", padding: 40_000_000))
        try killedRun("download") { downloading() > 2_000_000 }
        #expect(cut[0].contains("cannot download") && cut[0].contains("BIG.edi"), "\(cut[0])")
        #expect(try spool.ledger("SELECT count(*) FROM batch") == [0], "nothing recorded from a cut download")
        #expect(spool.remote("drop").contains { $0.hasPrefix(".swg-claim.") && $0.hasSuffix(".BIG.edi") }, "\(spool.remote("drop"))")

        // 2. Sixty small files picked up, sshd killed once their receipts start arriving.
        let names = (1...60).map { String(format: "M%03d.edi", $0) }
        for name in names { try spool.upload(name, sftpInterchange(String(name.prefix(4)))) }
        try killedRun("delivery") { spool.remote("pickup").filter { $0.hasPrefix("CONTRL-") }.count > 2 }
        #expect(cut[1].contains("receipt not delivered"), "\(cut[1])")

        // Runs until everything is through: deliveries cut by the kill are retried after their backoff (5 s).
        for _ in 0..<8 {
            let run = try spool.run()
            #expect(run.status == 0 || run.status == 1, "\(run)")
            if spool.remote("drop").isEmpty && spool.remote("pickup").filter({ $0.hasPrefix("CONTRL-") }).count >= names.count + 1 { break }
            Thread.sleep(forTimeInterval: 5.5)
        }
        #expect(spool.remote("drop").isEmpty, "\(spool.remote("drop"))")
        let batches: [String] = try spool.ledger("SELECT original_name FROM batch ORDER BY original_name")
        #expect(batches == (["BIG.edi"] + names).sorted(), "\(batches)")
        let receipts = spool.remote("pickup")
        #expect(receipts.filter { $0.hasPrefix("CONTRL-") }.count == names.count + 1, "\(receipts)")
        #expect(try spool.ledger("SELECT count(*) FROM receipt") == [names.count + 1])
        // No temporary upload left behind once everything is delivered.
        #expect(receipts.filter { $0.hasPrefix(".") }.isEmpty, "\(receipts)")
    }

    @Test("a delivery cut inside the server's rename (link, then unlink) left both names: the retry records the file and removes the temporary")
    func cutRename() throws {
        let sshd = try TestSSHD.start(users: ["swgw"])
        defer { sshd.stop() }
        let spool = try RemoteSpool(sshd: sshd)
        let pickup = spool.home + "/pickup"
        // First attempt: the pickup directory is missing, so the CONTRL's upload fails and is retried.
        try FileManager.default.removeItem(atPath: pickup)
        try spool.upload("CUT.edi", sftpInterchange("CUT"))
        let first = try spool.run()
        #expect((first.stdout + first.stderr).contains("receipt not delivered"), "\(first)")
        let jobs: [Row] = try {
            let db = try DatabaseQueue(path: spool.scratch.url.appendingPathComponent("state/gateway.sqlite").path)
            return try db.read { try Row.fetchAll($0, sql: "SELECT id, input, state FROM job WHERE kind = 'deliver'") }
        }()
        try #require(jobs.count == 1 && jobs[0]["state"] as String == "retrying", "\(jobs)")
        let id: Int64 = jobs[0]["id"]
        let input = try JSONDecoder().decode(DeliverInput.self, from: Data((jobs[0]["input"] as String).utf8))

        // What sftp-server leaves when it dies between link() and unlink(): the final name and the temporary
        // one, the same complete file.
        try FileManager.default.createDirectory(atPath: pickup, withIntermediateDirectories: true)
        _ = try RemoteSpool.shell("chown", "swgw", pickup)
        let stored = spool.scratch.url.appendingPathComponent("state/raw/sha256/\(input.sha256.prefix(2))/\(input.sha256)")
        let bytes = try Data(contentsOf: stored)
        let final = pickup + "/" + input.file, temporary = pickup + "/.swg-up.\(id).\(input.file)"
        try bytes.write(to: URL(fileURLWithPath: final))
        #expect(link(final, temporary) == 0)
        _ = try RemoteSpool.shell("chown", "swgw", final)

        Thread.sleep(forTimeInterval: 5.5)  // the retry's backoff
        let second = try spool.run()
        #expect(second.status == 0, "\(second)")
        #expect(spool.remote("pickup") == [input.file], "the temporary name is gone, the file is there once")
        #expect(try Data(contentsOf: URL(fileURLWithPath: final)) == bytes)
        let after: [String] = try spool.ledger("SELECT state || ' ' || output FROM job WHERE id = \(id)")
        #expect(after.count == 1 && after[0].hasPrefix("succeeded ") && after[0].contains("\"alreadyThere\":true"), "\(after)")
        #expect(try spool.ledger("SELECT count(*) FROM receipt") == [1])
    }

    @Test("a pickup claim cut inside the server's rename left the file under both names: recorded once, answered once")
    func cutClaim() throws {
        let sshd = try TestSSHD.start(users: ["swgw"])
        defer { sshd.stop() }
        let spool = try RemoteSpool(sshd: sshd)
        let drop = spool.home + "/drop"
        try spool.upload("HALF.edi", sftpInterchange("HALF"))
        #expect(link(drop + "/HALF.edi", drop + "/.swg-claim.1795997888372978985.k3x9.HALF.edi") == 0)
        // Beside it, a claim left by a crash whose original name holds another file: both are the partner's.
        try spool.upload("TWO.edi", sftpInterchange("TWO1"))
        _ = try RemoteSpool.shell("mv", drop + "/TWO.edi", drop + "/.swg-claim.1795997888372978986.p2q7.TWO.edi")
        try spool.upload("TWO.edi", sftpInterchange("TWO2"))

        let run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(spool.remote("drop").isEmpty, "\(spool.remote("drop"))")
        let batches: [String] = try spool.ledger("SELECT original_name FROM batch ORDER BY original_name")
        #expect(batches == ["HALF.edi", "TWO.edi", "TWO.edi"], "\(batches)")
        #expect(spool.remote("pickup").filter { $0.hasPrefix("CONTRL-") }.count == 3, "\(spool.remote("pickup"))")
        #expect(try spool.ledger("SELECT count(*) FROM receipt") == [3])
    }

    @Test("processed_directory: a picked-up file is moved there under its claim stamp; a move cut inside the server's rename is finished")
    func processedDirectory() throws {
        let sshd = try TestSSHD.start(users: ["swgw"])
        defer { sshd.stop() }
        let done = sshd.user("swgw").home + "/done"
        let spool = try RemoteSpool(sshd: sshd, extra: "[partner.remote]\nprocessed_directory = \"\(done)\"")
        try FileManager.default.createDirectory(atPath: done, withIntermediateDirectories: true)
        _ = try RemoteSpool.shell("chown", "swgw", done)
        try spool.upload("KEEP.edi", sftpInterchange("KEEP"))
        #expect(try spool.run().status == 0)
        #expect(spool.remote("drop").isEmpty, "\(spool.remote("drop"))")
        let kept = spool.remote("done")
        #expect(kept.count == 1 && kept[0].hasSuffix(".KEEP.edi") && !kept[0].hasPrefix("."), "\(kept)")

        // The move fails (the account may not write there): the file is recorded and its claim waits.
        _ = try RemoteSpool.shell("chown", "root", done)
        try spool.upload("LATE.edi", sftpInterchange("LATE"))
        #expect(try spool.run().status == 0)
        let claim = try #require(spool.remote("drop").first { $0.hasPrefix(".swg-claim.") && $0.hasSuffix(".LATE.edi") })
        // What a move cut between the server's link() and unlink() leaves: the file in both places.
        #expect(link(spool.home + "/drop/" + claim, done + "/" + claim.dropFirst(".swg-claim.".count)) == 0)
        _ = try RemoteSpool.shell("chown", "swgw", done)
        #expect(try spool.run().status == 0)
        #expect(spool.remote("drop").isEmpty, "\(spool.remote("drop"))")
        #expect(spool.remote("done").count == 2, "\(spool.remote("done"))")
        #expect(try spool.ledger("SELECT original_name FROM batch ORDER BY original_name") == ["KEEP.edi", "LATE.edi"])
    }

    @Test("a remote file whose name is not UTF-8 is renamed on the server to its %XX form, picked up and answered")
    func unreadableRemoteName() throws {
        let sshd = try TestSSHD.start(users: ["swgw"])
        defer { sshd.stop() }
        let spool = try RemoteSpool(sshd: sshd)
        try writeFile(named: [0xB2, 0xD5, 0xB5, 0xA5] + Array(".edi".utf8), in: spool.home + "/drop", sftpInterchange("GBK1"))
        _ = try RemoteSpool.shell("chown", "-R", "swgw", spool.home + "/drop")
        let run = try spool.run()
        #expect(run.status == 0 && run.stdout.contains("CARRIERX %B2%D5%B5%A5.edi: accepted"), "\(run)")
        #expect(spool.remote("drop").isEmpty, "\(spool.remote("drop"))")
        #expect(try spool.ledger("SELECT original_name FROM batch") == ["%B2%D5%B5%A5.edi"])
    }

    @Test("check-config --probe tries every SFTP directory and reports its steps, rename semantics and clock skew")
    func probe() throws {
        let sshd = try TestSSHD.start(users: ["swgw"])
        defer { sshd.stop() }
        let spool = try RemoteSpool(sshd: sshd)
        var check = try spool.scratch.gateway("check-config", "--probe", "--config", "gateway.toml")
        #expect(check.status == 0, "\(check)")
        for dir in ["drop", "pickup"] {
            let line = check.stdout.split(separator: "\n").first { $0.hasPrefix("probe sftp://carrier-server\(spool.home)/\(dir): ok (") }
            #expect(line?.contains("rename onto an existing file: refused") == true, "\(check)")
            #expect(line?.contains("server clock") == true, "\(check)")
        }
        #expect(spool.remote("drop").isEmpty && spool.remote("pickup").isEmpty, "the probe leaves nothing behind")
        let json = try spool.scratch.gateway("check-config", "--probe", "--json", "--config", "gateway.toml")
        #expect(json.status == 0 && json.stdout.contains("\"renameReplacesExisting\" : false") || json.stdout.contains("\"renameReplacesExisting\": false"), "\(json)")

        // A directory the account may not write into: the probe names the step that failed; the check fails.
        _ = try RemoteSpool.shell("chown", "root", spool.home + "/pickup")
        _ = try RemoteSpool.shell("chmod", "755", spool.home + "/pickup")
        check = try spool.scratch.gateway("check-config", "--probe", "--config", "gateway.toml")
        #expect(check.status == 1, "\(check)")
        #expect(check.stdout.contains("probe sftp://carrier-server\(spool.home)/pickup: FAILED at "), "\(check)")
        #expect(check.stderr.contains("1 SFTP probe(s) failed"), "\(check)")
    }

    @Test("signed files over SFTP: a file and its .p7s are claimed together; a signature left claimed without its file is given back and joins it")
    func signedOverSFTP() throws {
        let pki = try TestPKI.get()
        let sshd = try TestSSHD.start(users: ["swgw"])
        defer { sshd.stop() }
        let spool = try RemoteSpool(sshd: sshd)
        let home = spool.home
        let config = signedConfig(pki).replacingOccurrences(of: "drop = \"partners/CARRIERX/drop\"", with: "drop = \"sftp://carrier-server\(home)/drop\"")
            .replacingOccurrences(of: "pickup = \"partners/CARRIERX/pickup\"", with: "pickup = \"sftp://carrier-server\(home)/pickup\"")
        let endpoint = try String(contentsOf: spool.scratch.url.appendingPathComponent("gateway.toml"), encoding: .utf8)
        let table = endpoint[endpoint.range(of: "[[endpoint]]")!.lowerBound..<endpoint.range(of: "[[partner]]")!.lowerBound]
        _ = try spool.scratch.write("gateway.toml", config + "\n" + table)
        func put(_ name: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: home + "/drop/" + name))
            _ = try RemoteSpool.shell("chown", "swgw", home + "/drop/" + name)
        }
        let a = Array(sftpInterchange("SIGA").utf8), b = Array(sftpInterchange("SIGB").utf8)
        try put("A.edi.p7s", try pki.signDetached(payload: a, with: pki.carrierXRSA))
        try put("A.edi", a)
        // A crash between the two claim renames: the signature is claimed, its file is not.
        try put(".swg-claim.1795000000000000000.abc.B.edi.p7s", try pki.signDetached(payload: b, with: pki.carrierXRSA))
        try put("B.edi", b)

        let run = try spool.run()
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX A.edi: accepted") && run.stdout.contains("CARRIERX B.edi: accepted"), "\(run)")
        #expect(spool.remote("drop").isEmpty, "\(spool.remote("drop"))")
        let signed: [String] = try spool.ledger("SELECT original_name FROM batch WHERE signature_sha256 IS NOT NULL ORDER BY original_name")
        #expect(signed == ["A.edi", "B.edi"])
        let verdicts: [Int] = try spool.ledger("SELECT count(*) FROM signature_verdict WHERE valid = 1")
        #expect(verdicts == [2])
    }
}
