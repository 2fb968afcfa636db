import EDIFACT
import Foundation
import Testing

@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp, removed by the caller's `defer`.
private func makeTemporaryDirectory(_ label: String = "intake") -> String {
    var template = Array("/tmp/swg-\(label)-XXXXXX".utf8CString)
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(p != nil, "mkdtemp failed")
    return String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

private func removeTree(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

private func write(_ path: String, _ text: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

/// Sets mtime to a whole second `secondsAgo` before a shared reference, so files set alike compare equal.
private let referenceTime = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
private func setModified(_ path: String, secondsAgo: Double) {
    try? FileManager.default.setAttributes([.modificationDate: referenceTime.addingTimeInterval(-secondsAgo)], ofItemAtPath: path)
}

private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// Runs a python3 script (archives are built at test time, never checked in).
private func python(_ script: String, in directory: String) throws {
    let process = Process()
    let candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
        process.executableURL = URL(fileURLWithPath: found)
        process.arguments = ["-c", script]
    } else {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
    }
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "python3 failed building a test archive")
}

private func globs(_ patterns: String...) -> [FilePattern] { patterns.map { try! FilePattern(parsing: $0) } }

/// The configuration's default rename convention: `*.tmp`, `*.part`, `*.filepart` and dotfiles are uploads.
private let renameDrop = ReadinessConvention.rename(ignoring: globs("*.tmp", "*.part", "*.filepart"), ignoreDotfiles: true)
private let markerDrop = ReadinessConvention.doneMarker(suffixes: [".ok", ".done"])

private let edifactComplete = """
UNA:+.? 'UNB+UNOC:3+CARRIER+CUSTOMS+240101:1200+REF1'UNH+1+CUSCAR:D:95B:UN'BGM+85+M1'UNT+3+1'UNZ+1+REF1'\r\n
"""

@Suite("Intake: readiness conventions")
struct IntakeReadinessTests {
    @Test("rename: a .part upload is ignored, then taken once renamed")
    func renameConvention() throws {
        let drop = makeTemporaryDirectory(), work = makeTemporaryDirectory()
        defer { removeTree(drop); removeTree(work) }
        var memory = StabilityMemory()
        write(drop + "/m1.edi.part", edifactComplete)
        write(drop + "/.hidden.edi", edifactComplete)
        write(drop + "/m1.edi.tmp", edifactComplete)
        write(drop + "/m1.edi.filepart", edifactComplete)
        #expect(try DropDirectory.scan(directory: drop, convention: renameDrop, memory: &memory).isEmpty)

        #expect(rename(drop + "/m1.edi.part", drop + "/m1.edi") == 0)
        let ready = try DropDirectory.scan(directory: drop, patterns: globs("*.edi"), convention: renameDrop, memory: &memory)
        #expect(ready.map(\.name) == ["m1.edi"])
        let outcome = try Claim.take(file: ready[0], partner: "carrier1", workDirectory: work)
        guard case .claimed(let claimed) = outcome else { Issue.record("not claimed: \(outcome)"); return }
        #expect(claimed.originalName == "m1.edi")
        #expect(claimed.size == Int64(edifactComplete.utf8.count))
        #expect(claimed.modified == ready[0].modified)
        #expect(claimed.workPath.hasPrefix(work + "/carrier1."))
        #expect(claimed.workPath.hasSuffix(".m1.edi"))
        #expect(exists(claimed.workPath) && !exists(drop + "/m1.edi"))
    }

    @Test("patterns filter; symlinks, directories and FIFOs are skipped; order is mtime then name")
    func filteringAndOrder() throws {
        let drop = makeTemporaryDirectory(), outside = makeTemporaryDirectory()
        defer { removeTree(drop); removeTree(outside) }
        write(drop + "/b.edi", "x"); setModified(drop + "/b.edi", secondsAgo: 100)
        write(drop + "/a.edi", "x"); setModified(drop + "/a.edi", secondsAgo: 100)
        write(drop + "/old.edi", "x"); setModified(drop + "/old.edi", secondsAgo: 500)
        write(drop + "/note.txt", "x")
        write(outside + "/secret.edi", "x")
        #expect(symlink(outside + "/secret.edi", drop + "/link.edi") == 0)
        #expect(mkdir(drop + "/dir.edi", 0o755) == 0)
        #expect(mkfifo(drop + "/fifo.edi", 0o644) == 0)
        var memory = StabilityMemory()
        let ready = try DropDirectory.scan(directory: drop, patterns: globs("*.edi", "*.xml"), convention: renameDrop, memory: &memory)
        #expect(ready.map(\.name) == ["old.edi", "a.edi", "b.edi"])
    }

    @Test("done marker: not ready without name.ok, ready with it, marker consumed by the claim")
    func doneMarkerConvention() throws {
        let drop = makeTemporaryDirectory(), work = makeTemporaryDirectory()
        defer { removeTree(drop); removeTree(work) }
        var memory = StabilityMemory()
        write(drop + "/m2.edi", edifactComplete)
        write(drop + "/orphan.done", "")
        #expect(try DropDirectory.scan(directory: drop, convention: markerDrop, memory: &memory).isEmpty)

        write(drop + "/m2.edi.ok", "")
        let ready = try DropDirectory.scan(directory: drop, convention: markerDrop, memory: &memory)
        #expect(ready.map(\.name) == ["m2.edi"])
        #expect(ready.first?.markers == [drop + "/m2.edi.ok"])
        guard case .claimed(let claimed) = try Claim.take(file: ready[0], partner: "p", workDirectory: work) else {
            Issue.record("not claimed"); return
        }
        #expect(claimed.removedMarkers == [drop + "/m2.edi.ok"])
        #expect(!exists(drop + "/m2.edi.ok") && !exists(drop + "/m2.edi"))
        #expect(exists(drop + "/orphan.done"))  // a marker without data is left for the operator
    }

    @Test("stable: needs two unchanged polls and the minimum age")
    func stableConvention() throws {
        let drop = makeTemporaryDirectory()
        defer { removeTree(drop) }
        write(drop + "/s.xml", "<a>")
        setModified(drop + "/s.xml", secondsAgo: 30)
        var memory = StabilityMemory()
        let convention = ReadinessConvention.stable(minimumAgeSeconds: 10, polls: 2)
        #expect(try DropDirectory.scan(directory: drop, convention: convention, memory: &memory).isEmpty)
        #expect(memory.sightings(of: "s.xml") == 1)
        #expect(try DropDirectory.scan(directory: drop, convention: convention, memory: &memory).map(\.name) == ["s.xml"])

        // A writer appends: the count starts again.
        write(drop + "/s.xml", "<a></a>")
        setModified(drop + "/s.xml", secondsAgo: 30)
        #expect(try DropDirectory.scan(directory: drop, convention: convention, memory: &memory).isEmpty)
        #expect(try DropDirectory.scan(directory: drop, convention: convention, memory: &memory).count == 1)

        // Two unchanged polls but too young: waits until the clock passes the minimum age.
        write(drop + "/young.xml", "<a/>")
        var fresh = StabilityMemory()
        let strict = ReadinessConvention.stable(minimumAgeSeconds: 3600, polls: 2)
        _ = try DropDirectory.scan(directory: drop, patterns: globs("young*"), convention: strict, memory: &fresh)
        #expect(try DropDirectory.scan(directory: drop, patterns: globs("young*"), convention: strict, memory: &fresh).isEmpty)
        var later = FileTime.now(); later.seconds += 3601
        #expect(try DropDirectory.scan(directory: drop, patterns: globs("young*"), convention: strict, memory: &fresh, now: later).count == 1)

        // Files that left the directory are forgotten.
        unlink(drop + "/young.xml")
        _ = try DropDirectory.scan(directory: drop, patterns: globs("young*"), convention: strict, memory: &fresh)
        #expect(fresh.sightings(of: "young.xml") == 0)
    }

    @Test("a name that is not UTF-8 is escaped: printable ASCII kept, every other byte %XX")
    func unreadableNames() {
        #expect(DropDirectory.unreadableNameEscaped([0x61, 0xE4, 0xB8, 0xAD, 0xFF, 0x62]) == "a%E4%B8%AD%FFb")
        // 舱单 in GBK, as a Windows client in China writes it (D5 B5 alone would pass for UTF-8).
        #expect(DropDirectory.unreadableNameEscaped([0xB2, 0xD5, 0xB5, 0xA5] + Array(".edi".utf8)) == "%B2%D5%B5%A5.edi")
        #expect(DropDirectory.unreadableNameEscaped([0x01, 0x25, 0x7F]) == "%01%%7F", "control bytes too; '%' stays")
    }

    @Test("a missing drop directory is an intake.scan error")
    func missingDirectory() {
        var memory = StabilityMemory()
        #expect(throws: IntakeError.self) {
            _ = try DropDirectory.scan(directory: "/nonexistent/swg-drop", convention: renameDrop, memory: &memory)
        }
    }
}

@Suite("Intake: content completeness")
struct IntakeContentTests {
    func check(_ text: String) -> ContentCompleteness { ContentCompleteness.check(bytes: Array(text.utf8)) }

    @Test("EDIFACT: complete only when the last segment is UNZ")
    func edifact() throws {
        #expect(check(edifactComplete) == .complete(.edifact))
        #expect(check("UNB+UNOA:2+A+B+240101:1200+R'UNH+1+CUSCAR:D:95B:UN'UNT+2+1'UNZ+1+R'") == .complete(.edifact))
        // Two interchanges: the second one is still being written.
        let two = edifactComplete + "UNB+UNOC:3+A+B+240101:1200+R2'UNH+1+CUSCAR:D:95B:UN'"
        guard case .incomplete(let reason) = check(two) else { Issue.record("two: \(check(two))"); return }
        #expect(reason.contains("UNH"))
        // Cut inside a segment, and cut inside UNZ itself.
        if case .incomplete = check(String(edifactComplete.dropLast(6))) {} else { Issue.record("cut in UNZ") }
        if case .incomplete = check("UNB+UNOC:3+A+B+240101:1200+R'UNH+1+X'BGM+85+M?'") {} else { Issue.record("escaped terminator") }
        // Custom delimiters from UNA: segment terminator '!'.
        #expect(check("UNA:+.? !UNB+UNOC:3+A+B+240101:1200+R!UNZ+0+R!\n") == .complete(.edifact))
        #expect(check("UNA:+.? !UNB+UNOC:3+A+B+240101:1200+R!UNZ+0+R'") != .complete(.edifact))
        #expect(check("just a text file\n") == .notRecognized)
        if case .incomplete = check("") {} else { Issue.record("empty file") }
    }

    @Test("XML: complete only when the root closes; trailing comments and blanks are ignored")
    func xml() throws {
        let doc = "\u{FEFF}<?xml version=\"1.0\"?>\n<!-- manifest -->\n<!DOCTYPE m [<!ENTITY x \"y\">]>\n<ns:Manifest xmlns:ns=\"urn:x\"><Item>1</Item></ns:Manifest>"
        #expect(check(doc) == .complete(.xml))
        #expect(check(doc + "\n<!-- written by X -->\n<?pi done?>\r\n") == .complete(.xml))
        #expect(check("<root attr='1'/>\n") == .complete(.xml))
        #expect(check("<root></root >") == .complete(.xml))
        guard case .incomplete(let reason) = check(String(doc.dropLast(5))) else { Issue.record("truncated"); return }
        #expect(reason.contains("<ns:Manifest>"))
        if case .incomplete = check("<root><child/>") {} else { Issue.record("open root") }
        if case .incomplete = check("<?xml version=\"1.0\"?><roo") {} else { Issue.record("cut start tag") }
        if case .incomplete = check("<root></rootX>") {} else { Issue.record("other closing name") }
    }

    @Test("a file past the deadline that is still incomplete is expired; a complete one is not")
    func expiry() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        write(dir + "/cut.edi", "UNB+UNOC:3+A+B+240101:1200+R'UNH+1+X'")
        setModified(dir + "/cut.edi", secondsAgo: 7200)
        write(dir + "/ok.edi", edifactComplete)
        setModified(dir + "/ok.edi", secondsAgo: 7200)
        guard case .expired(let reason) = try ContentCompleteness.check(path: dir + "/cut.edi", deadlineSeconds: 3600) else {
            Issue.record("not expired"); return
        }
        #expect(reason.contains("not closed"))
        if case .incomplete = try ContentCompleteness.check(path: dir + "/cut.edi", deadlineSeconds: 86_400) {} else {
            Issue.record("expired too early")
        }
        #expect(try ContentCompleteness.check(path: dir + "/ok.edi", deadlineSeconds: 3600) == .complete(.edifact))
    }

    @Test("a large file is judged from its head and tail only")
    func largeFile() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        var body = "UNB+UNOC:3+A+B+240101:1200+R'UNH+1+CUSCAR:D:95B:UN'"
        body += String(repeating: "FTX+AAA+++SOME FREE TEXT'", count: 20_000)
        write(dir + "/big.edi", body)
        if case .incomplete = try ContentCompleteness.check(path: dir + "/big.edi") {} else { Issue.record("big open") }
        write(dir + "/big.edi", body + "UNT+20002+1'UNZ+1+R'\n")
        #expect(try ContentCompleteness.check(path: dir + "/big.edi") == .complete(.edifact))
    }
}

@Suite("Intake: claim")
struct IntakeClaimTests {
    /// The header the claim records (sender and reference, for duplicate detection) read as the whole
    /// validator reads it, which the claim did before it stopped reading at the first UNB.
    static func validatorsHeader(_ bytes: [UInt8]) -> [String?]? {
        guard let first = EDIFACTValidator.validate(bytes).first else { return nil }
        let sender = first.sender.first.flatMap { $0.isEmpty || $0.count > 35 ? nil : $0 }
        let reference = first.reference.isEmpty || first.reference.count > 14 ? nil : first.reference
        return sender == nil && reference == nil ? nil : [sender, reference]
    }

    @Test("the claim's header read stops at UNB and agrees with the validator on every fixture, cut anywhere")
    func headerAgreesWithValidator() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let engine = root.deletingLastPathComponent().appendingPathComponent("EDIFACTTests/Fixtures")
        var files = [root.appendingPathComponent("Fixtures/manifest/realistic-d95b.edi"),
                     root.appendingPathComponent("Fixtures/manifest/realistic-d96a.edi")]
        for folder in ["valid", "invalid"] {
            let directory = engine.appendingPathComponent(folder)
            files += try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".edi") }.sorted()
                .map { directory.appendingPathComponent($0) }
        }
        #expect(files.count > 30)
        var compared = 0, withHeader = 0
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: file))
            for cut in Set([0, 1, 9, 20, 40, 60, 80, 120, 200, bytes.count / 2, bytes.count]) where cut <= bytes.count {
                let head = Array(bytes.prefix(cut))
                let read = head.withUnsafeBytes { GatewayPipeline.interchangeHeader(bytes: $0) }.map { [$0.sender, $0.reference] }
                #expect(read == Self.validatorsHeader(head), "\(file.lastPathComponent) cut at \(cut)")
                compared += 1
                if read != nil { withHeader += 1 }
                // Every valid interchange, whole, names its sender and reference: the comparison is not only of nils.
                if cut == bytes.count && !file.path.contains("/invalid/") {
                    #expect(read?.compactMap { $0 }.count == 2, "\(file.lastPathComponent)")
                }
            }
        }
        #expect(withHeader > compared / 3)
        // Hostile heads: random bytes, and a UNB whose values are over the syntax's maxima.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let noise = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let read = noise.withUnsafeBytes { GatewayPipeline.interchangeHeader(bytes: $0) }.map { [$0.sender, $0.reference] }
            #expect(read == Self.validatorsHeader(noise))
        }
        let long = Array("UNB+UNOC:3+\(String(repeating: "S", count: 40))+GW+240101:1200+\(String(repeating: "7", count: 20))'".utf8)
        #expect(long.withUnsafeBytes { GatewayPipeline.interchangeHeader(bytes: $0) } == nil)
        #expect(Self.validatorsHeader(long) == nil)
    }

    @Test("two claims of the same file: exactly one wins, the other sees alreadyTaken")
    func race() async throws {
        let drop = makeTemporaryDirectory(), work = makeTemporaryDirectory()
        defer { removeTree(drop); removeTree(work) }
        for i in 0..<50 { write(drop + "/f\(i).edi", edifactComplete) }
        var memory = StabilityMemory()
        let ready = try DropDirectory.scan(directory: drop, convention: renameDrop, memory: &memory)
        #expect(ready.count == 50)
        // Two pollers claim every file at the same time.
        let results = try await withThrowingTaskGroup(of: [Bool].self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try ready.map { file in
                        if case .claimed = try Claim.take(file: file, partner: "p", workDirectory: work, syncDirectories: false) {
                            return true
                        }
                        return false
                    }
                }
            }
            var all: [[Bool]] = []
            for try await r in group { all.append(r) }
            return all
        }
        for i in 0..<50 { #expect((results[0][i] ? 1 : 0) + (results[1][i] ? 1 : 0) == 1, "file \(i)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: work).count == 50)
        #expect(try Claim.take(file: ready[0], partner: "p", workDirectory: work) == .alreadyTaken)
    }

    @Test("a work area on another file system is refused with an operator message")
    func crossDevice() throws {
        var a = stat(), b = stat()
        guard stat("/tmp", &a) == 0, stat("/dev/shm", &b) == 0, a.st_dev != b.st_dev else {
            return  // /dev/shm is missing or on the same file system as /tmp here: nothing to prove.
        }
        let drop = makeTemporaryDirectory()
        var template = Array("/dev/shm/swg-work-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else { return }
        let work = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { removeTree(drop); removeTree(work) }
        write(drop + "/x.edi", edifactComplete)
        var memory = StabilityMemory()
        let ready = try DropDirectory.scan(directory: drop, convention: renameDrop, memory: &memory)
        do {
            _ = try Claim.take(file: ready[0], partner: "p", workDirectory: work)
            Issue.record("claim across file systems succeeded")
        } catch {
            #expect(error.code == "claim.cross_device")
            #expect(error.message.contains("must be on the drop's file system"))
            #expect(exists(drop + "/x.edi"))  // nothing moved, nothing lost
        }
    }

    @Test("a missing work directory is an error, not a lost race")
    func missingWorkDirectory() throws {
        let drop = makeTemporaryDirectory()
        defer { removeTree(drop) }
        write(drop + "/x.edi", "x")
        var memory = StabilityMemory()
        let ready = try DropDirectory.scan(directory: drop, convention: renameDrop, memory: &memory)
        #expect(throws: IntakeError.self) { try Claim.take(file: ready[0], partner: "p", workDirectory: drop + "/nowork") }
    }
}

@Suite("Intake: archives")
struct IntakeArchiveTests {
    func refusal(_ result: ArchiveUnpackResult) -> ArchiveRefusal? {
        if case .refused(let r) = result { return r }
        return nil
    }

    @Test("a good zip and a good tar.gz with three members unpack, detected by content")
    func goodArchives() throws {
        let dir = makeTemporaryDirectory("arch")
        defer { removeTree(dir) }
        try python("""
            import zipfile, tarfile, io
            members = {"a.edi": b"UNB+1'", "sub/b.xml": b"<b/>", "c.txt": b"c" * 1000}
            with zipfile.ZipFile("good.bin", "w", zipfile.ZIP_DEFLATED) as z:
                for n, d in members.items(): z.writestr(n, d)
            with tarfile.open("good.tgz.dat", "w:gz") as t:
                for n, d in members.items():
                    i = tarfile.TarInfo(n); i.size = len(d); t.addfile(i, io.BytesIO(d))
            with tarfile.open("plain.tar", "w") as t:
                for n, d in members.items():
                    i = tarfile.TarInfo(n); i.size = len(d); t.addfile(i, io.BytesIO(d))
            """, in: dir)
        for (file, kind) in [("good.bin", ArchiveKind.zip), ("good.tgz.dat", .tarGzip), ("plain.tar", .tar)] {
            let result = try ArchiveUnpacker.unpack(path: dir + "/" + file, temporaryDirectory: dir)
            guard case .unpacked(let k, let members) = result else { Issue.record("\(file): \(result)"); continue }
            #expect(k == kind)
            #expect(members.map(\.name) == ["a.edi", "sub/b.xml", "c.txt"])
            #expect(members.map(\.size) == [6, 4, 1000])
            #expect(members[0].content == .bytes(Array("UNB+1'".utf8)))
        }
        write(dir + "/plain.zip", edifactComplete)  // named like an archive, but it is not one
        #expect(try ArchiveUnpacker.unpack(path: dir + "/plain.zip") == .notAnArchive)
    }

    @Test("a member over the in-memory threshold spills to a temporary file")
    func spill() throws {
        let dir = makeTemporaryDirectory("arch")
        defer { removeTree(dir) }
        try python("""
            import zipfile, os
            with zipfile.ZipFile("big.zip", "w", zipfile.ZIP_STORED) as z: z.writestr("big.bin", os.urandom(300000))
            """, in: dir)
        var limits = ArchiveLimits()
        limits.inMemoryMemberBytes = 100_000
        guard case .unpacked(_, let members) = try ArchiveUnpacker.unpack(path: dir + "/big.zip", limits: limits, temporaryDirectory: dir),
              case .file(let path) = members.first?.content else { Issue.record("no spill"); return }
        #expect(members[0].size == 300_000)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 300_000)
    }

    @Test("hostile archives are refused with a stable code and the member at fault", arguments: [
        ("traversal.zip", "archive.traversal", "../evil"),
        ("traversal.tar", "archive.traversal", "ok/../../evil"),
        ("absolute.tar", "archive.absolute", "/etc/passwd"),
        ("absolute.zip", "archive.absolute", "/etc/passwd"),
        ("symlink.tgz", "archive.link", "innocent.edi"),
        ("hardlink.tar", "archive.link", "second.edi"),
        ("device.tar", "archive.special", "null"),
        ("bomb.zip", "archive.bomb.ratio", "zeros.edi"),
    ])
    func hostile(file: String, code: String, member: String) throws {
        let dir = makeTemporaryDirectory("hostile")
        defer { removeTree(dir) }
        try python(Self.hostileScript, in: dir)
        let result = try ArchiveUnpacker.unpack(path: dir + "/" + file, temporaryDirectory: dir)
        let r = refusal(result)
        #expect(r?.code.rawValue == code, "\(file): \(result)")
        #expect(r?.member == member)
        #expect(!(r?.reason.isEmpty ?? true))
        if code == "archive.bomb.ratio", let reason = r?.reason, let open = reason.firstIndex(of: "(") {
            // Stopped early: a few MB expanded, not the member's 50 MB.
            let expanded = Int(reason[reason.index(after: open)...].prefix(while: \.isNumber)) ?? .max
            #expect(expanded < 8 << 20, "\(reason)")
        }
        // No temporary member file is left behind after a refusal.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".swg-member") }.isEmpty)
    }

    @Test("member count, per-member and total caps")
    func caps() throws {
        let dir = makeTemporaryDirectory("caps")
        defer { removeTree(dir) }
        try python("""
            import zipfile, tarfile, io, os
            with tarfile.open("many.tgz", "w:gz") as t:
                for n in range(10001):
                    i = tarfile.TarInfo("m%05d.edi" % n); i.size = 1; t.addfile(i, io.BytesIO(b"x"))
            with zipfile.ZipFile("large.zip", "w", zipfile.ZIP_STORED) as z:
                z.writestr("small.edi", b"ok")
                z.writestr("large.bin", os.urandom(2 * 1024 * 1024))
            with zipfile.ZipFile("total.zip", "w", zipfile.ZIP_STORED) as z:
                for n in range(4): z.writestr("part%d.bin" % n, os.urandom(700 * 1024))
            """, in: dir)
        let many = refusal(try ArchiveUnpacker.unpack(path: dir + "/many.tgz"))
        #expect(many?.code == .members)
        #expect(many?.member == "m10000.edi")

        var limits = ArchiveLimits()
        limits.maxMemberBytes = 1 << 20
        let large = refusal(try ArchiveUnpacker.unpack(path: dir + "/large.zip", limits: limits))
        #expect(large?.code == .memberSize)
        #expect(large?.member == "large.bin")

        limits = ArchiveLimits()
        limits.maxTotalBytes = 2 << 20
        let total = refusal(try ArchiveUnpacker.unpack(path: dir + "/total.zip", limits: limits))
        #expect(total?.code == .totalSize)
        #expect(total?.member == "part2.bin")
    }

    @Test("a gzip that holds no tar, and a truncated zip, are malformed archives")
    func malformed() throws {
        let dir = makeTemporaryDirectory("bad")
        defer { removeTree(dir) }
        try python("""
            import gzip, zipfile
            with gzip.open("single.gz", "wb") as g: g.write(b"UNB+UNOC:3+A+B+240101:1200+R'UNZ+0+R'")
            with zipfile.ZipFile("full.zip", "w", zipfile.ZIP_DEFLATED) as z: z.writestr("a.edi", bytes(range(256)) * 400)
            data = open("full.zip", "rb").read()
            open("cut.zip", "wb").write(data[: len(data) // 2])
            """, in: dir)
        #expect(refusal(try ArchiveUnpacker.unpack(path: dir + "/single.gz"))?.code == .malformed)
        #expect(refusal(try ArchiveUnpacker.unpack(path: dir + "/cut.zip"))?.code == .malformed)
    }

    static let hostileScript = """
        import zipfile, tarfile, io
        def tar(name, mode, infos):
            with tarfile.open(name, mode) as t:
                for info, data in infos:
                    t.addfile(info, io.BytesIO(data) if data is not None else None)
        def reg(n, d=b"x"):
            i = tarfile.TarInfo(n); i.size = len(d); return (i, d)
        with zipfile.ZipFile("traversal.zip", "w") as z:
            z.writestr("good.edi", b"x"); z.writestr("../evil", b"x")
        tar("traversal.tar", "w", [reg("good.edi"), reg("ok/../../evil")])
        tar("absolute.tar", "w", [reg("/etc/passwd")])
        with zipfile.ZipFile("absolute.zip", "w") as z:
            z.writestr("/etc/passwd", b"x")
        l = tarfile.TarInfo("innocent.edi"); l.type = tarfile.SYMTYPE; l.linkname = "/etc/shadow"
        tar("symlink.tgz", "w:gz", [reg("first.edi"), (l, None)])
        h = tarfile.TarInfo("second.edi"); h.type = tarfile.LNKTYPE; h.linkname = "first.edi"
        tar("hardlink.tar", "w", [reg("first.edi"), (h, None)])
        d = tarfile.TarInfo("null"); d.type = tarfile.CHRTYPE; d.devmajor = 1; d.devminor = 3
        tar("device.tar", "w", [(d, None)])
        with zipfile.ZipFile("bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.writestr("readme.edi", b"x")
            z.writestr("zeros.edi", bytes(50 * 1024 * 1024))
        """
}
