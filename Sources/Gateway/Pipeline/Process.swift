import EDIFACT
import Foundation
import Jobs
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What processing one batch decided, before anything is committed.
struct ProcessDecision {
    var result: JobCommit.Result
    var batchState: (Int64, BatchState, String?)?
    var members: (archiveId: Int64, records: [IntakeRecord])?
    var deliveries: [JobRequest] = []
    var line: IntakeFileResult
    /// The signature verdict reached on the way, kept as evidence with the commit.
    var evidence: SignatureVerdictEvidence?
    /// Manifests found in an accepted file, filed and routed once the chunk's decisions are made.
    var manifests: ManifestWork?
    /// What routing them decided and sent, recorded with the commit.
    var routing: [RoutingRecord] = []
    /// Agency instructions read from the file, recorded with the commit as facts.
    var instructions: [InstructionFact] = []
}

/// A chunk of process jobs between the steps `processChunk` runs in turn (and `drain` runs as a pipeline):
/// decided and mapped (`prepareChunk`), filed and planned (`fileAndPlan`), generated and finished
/// (`generateAndFinish`), committed (`commitChunk`).
struct ProcessChunk {
    var decisions: [(JobRecord, ProcessDecision)]
    /// Each decision that found manifests (its index in `decisions`), with what filing and planning made of them.
    var routing: [(index: Int, plan: [GatewayPipeline.Routed])] = []
}

extension GatewayPipeline {
    /// Processes a chunk of leased process jobs: decisions and receipt bytes first (receipts stored without
    /// fsync), then the manifests filed and their copies routed, one syncfs, then one transaction with every
    /// state, member and delivery.
    func processChunk(_ jobs: [JobRecord]) -> [JobRun] {
        var chunk = prepareChunk(jobs)
        var routed: [Int64: [String: String?]] = [:]
        fileAndPlan(&chunk, routed: &routed)
        return completeChunk(chunk).runs
    }

    /// Each job's decision, and the mapping of the manifests it found, on every core: a decision reads its own
    /// batch's bytes and writes only files of its own (receipts in the raw store, its quarantine), and the
    /// pipeline holds no mutable state (Sendable).
    ///
    /// `libraryReady` is called (and may wait) before a decision reads the library: an agency's instructions ask
    /// what it holds, a status request what became of its goods. `drain` prepares a chunk while the chunk before
    /// it is being filed, and makes such a decision wait until that filing is done.
    func prepareChunk(_ jobs: [JobRecord], libraryReady: @escaping @Sendable () -> Void = {}) -> ProcessChunk {
        let batches = (try? store.batches(ids: jobs.compactMap(\.batchId))) ?? [:]
        let rules = routingRules
        let decisions = Stripes.balanced(jobs, threads: ProcessInfo.processInfo.activeProcessorCount) { job in
            let started = Date()
            var decision = self.decide(job, batch: job.batchId.flatMap { batches[$0] }, libraryReady: libraryReady)
            if var work = decision.manifests {
                work.map(rules: rules)
                if let failure = work.readFailure {
                    decision = self.transient(PipelineErrorCode.rawIO, failure, decision.line)
                } else {
                    decision.manifests = work
                }
            }
            GatewayMetrics.jobDuration(kind: JobKind.process, seconds: Date().timeIntervalSince(started))
            return (job, decision)
        }
        return ProcessChunk(decisions: decisions)
    }

    /// Generates and finishes the chunk's routed copies, makes everything durable (one syncfs) and commits the
    /// chunk in one transaction. `committed` is false when nothing was (the jobs run again once their leases
    /// lapse).
    func completeChunk(_ chunk: ProcessChunk) -> (runs: [JobRun], committed: Bool) {
        var chunk = chunk
        generateAndFinish(&chunk)
        return commitChunk(chunk)
    }

    /// Makes a chunk whose copies are generated durable (one syncfs) and commits it in one transaction.
    /// `committed` is false when nothing was.
    func commitChunk(_ chunk: ProcessChunk) -> (runs: [JobRun], committed: Bool) {
        let decisions = chunk.decisions
        do {
            try Durability.syncFileSystems([raw.root])
        } catch {
            // Nothing committed: the leases lapse and the jobs run again.
            return (commitFailure(decisions.map { ($0.0, $0.1.line) }, "\(error)"), false)
        }
        let commits = decisions.map { job, d in
            var commit = JobCommit(jobId: job.id, leaseOwner: owner, result: d.result, batchState: d.batchState, members: d.members,
                                   enqueue: d.deliveries, evidence: d.evidence)
            commit.routing = d.routing
            commit.instructions = d.instructions
            return commit
        }
        let outcomes: [JobCommitOutcome]
        do {
            outcomes = try store.commit(commits, now: now(), retry: Self.retry)
        } catch {
            return (commitFailure(decisions.map { ($0.0, $0.1.line) }, "\(error)"), false)
        }
        let runs = zip(decisions, outcomes).map { pair, outcome in
            let (job, decision) = pair
            var line = decision.line
            if let error = outcome.error {
                line.outcome = .failed
                line.reason = error
            } else if outcome.state == .retrying || outcome.state == .failed {
                line.outcome = .failed
            }
            if case .failed(let code, _, _, _) = decision.result { GatewayMetrics.failure(code: code) }
            logger.info("processed", metadata: [
                "job": "\(job.id)", "partner": "\(job.partner ?? "")", "batch": "\(job.batchId.map(String.init) ?? "")",
                "file": "\(line.file)", "outcome": "\(line.outcome.rawValue)",
            ])
            return JobRun(jobId: job.id, kind: job.kind, state: outcome.state, line: line, receipt: nil,
                          reason: line.reason, enqueued: outcome.enqueued)
        }
        return (runs, true)
    }

    func commitFailure(_ jobs: [(JobRecord, IntakeFileResult)], _ error: String) -> [JobRun] {
        let reason = error + FileOps.spaceNote(stateDirectory)
        logger.error("chunk not committed; its jobs run again when their leases lapse", metadata: ["error": "\(reason)"])
        return jobs.map { job, line in
            var line = line
            line.outcome = .failed
            line.reason = reason
            return JobRun(jobId: job.id, kind: job.kind, state: nil, line: line, receipt: nil, reason: reason, enqueued: [])
        }
    }

    /// Decides what one process job does with its batch. Never throws: every failure is a decision.
    func decide(_ job: JobRecord, batch prefetched: BatchRecord?, libraryReady: @escaping @Sendable () -> Void = {}) -> ProcessDecision {
        let base = IntakeFileResult(partner: job.partner ?? "-", file: "-", outcome: .failed, batchId: job.batchId)
        guard let batchId = job.batchId, let batch = prefetched ?? (try? store.batch(batchId)) else {
            return transient(PipelineErrorCode.rawIO, "the job's batch \(job.batchId.map(String.init) ?? "none") is not in the ledger", base)
        }
        var line = base
        let input = JobJSON.decode(ProcessInput.self, job.input) ?? ProcessInput(stamp: String(batchId))
        line.file = batch.parentBatchId == nil ? input.name ?? batch.originalName : displayName(member: batch)
        guard let partner = configuration.partner(id: batch.partner) else {
            line.reason = "partner \(batch.partner) is not in the configuration"
            return ProcessDecision(
                result: .failed(code: PipelineErrorCode.unknownPartner, message: line.reason!, disposition: .permanent,
                                output: nil), line: line)
        }
        let replay = input.replay == true
        guard let digest = SHA256Digest(hex: batch.sha256), raw.contains(digest) else {
            return transient(PipelineErrorCode.rawIO, "the stored bytes \(batch.sha256) are missing from the raw store", line)
        }
        var path = raw.path(for: digest)
        let context = Context(job: job, batch: batch, partner: partner, input: input, replay: replay, line: line,
                              libraryReady: libraryReady)

        if let reason = input.incomplete {
            return quarantine(context, code: PipelineErrorCode.incomplete, reason: "incomplete: \(reason)")
        }
        // Signatures first: nothing is judged, let alone routed, before the partner's signature is good.
        // Archive members were covered by their archive's signature.
        var evidence: SignatureVerdictEvidence?
        if batch.parentBatchId == nil && (partner.signature.required || batch.signatureSha256 != nil) {
            let signatureDigest = batch.signatureSha256.flatMap(SHA256Digest.init(hex:))
            if let refusal = tooLarge(context, digest: digest, limit: configuration.maxDocumentBytes, what: "a signed file")
                ?? signatureDigest.flatMap({ tooLarge(context, digest: $0, limit: InMemoryLimits.detachedSignatureBytes,
                                                     what: "a detached signature") }) {
                return refusal
            }
            let content: [UInt8], detached: [UInt8]?
            do {
                content = try raw.open(digest).readAll()
                detached = try signatureDigest.map { try raw.open($0).readAll() }
            } catch {
                return transient(PipelineErrorCode.rawIO, "\(error)", line)
            }
            switch signatures.check(partner: partner, fileName: input.name ?? batch.originalName, content: content,
                                    detachedSignature: detached, receivedAt: batch.receivedAt) {
            case .notRequired:
                break
            case .verified(let verified, let inner):
                evidence = verified
                if let inner {
                    // An enveloping signature: what was signed is judged, never the envelope.
                    do { path = try raw.put(bytes: inner, durable: false).path } catch {
                        return transient(PipelineErrorCode.rawIO, "\(error)", line)
                    }
                }
            case .refused(let refused):
                return quarantine(context, code: refused.code ?? "sig.refused", reason: "signature refused: \(refused.reason)",
                                  partnerReason: refused.partnerReason, evidence: refused)
            case .unavailable(let code, let reason):
                // The trust configuration is broken: an operator fixes it and reruns the job.
                line.reason = "signature not checked: \(reason)"
                return ProcessDecision(result: .failed(code: code, message: line.reason!, disposition: .permanent, output: nil),
                                       line: line)
            }
        }
        var decision = judge(context, path: path)
        decision.evidence = decision.evidence ?? evidence
        if !decision.instructions.isEmpty {
            // An archive member was covered by its archive's signature, checked before it was unpacked.
            let verified = evidence?.valid == true || (batch.parentBatchId != nil && partner.signature.required)
            for i in decision.instructions.indices {
                decision.instructions[i].signer = evidence?.signerFingerprint
                decision.instructions[i].verification = verified ? "verified" : "unsigned"
            }
        }
        if let evidence, evidence.valid, decision.line.outcome != .failed {
            decision.line.reason = ["signature verified (\(evidence.signerSubject ?? "?"), agency \(evidence.trust))",
                                    decision.line.reason].compactMap { $0 }.joined(separator: "; ")
        }
        return decision
    }

    /// Judges the content at `path` (the stored bytes, or what an enveloping signature held).
    func judge(_ context: Context, path: String) -> ProcessDecision {
        let batch = context.batch, line = context.line
        // Archives are recognised by content, never by name.
        do {
            switch try ArchiveUnpacker.unpack(path: path, temporaryDirectory: raw.root + "/tmp") {
            case .refused(let refusal):
                return quarantine(context, code: refusal.code.rawValue, reason: "archive refused: \(refusal)")
            case .unpacked(let kind, let members):
                if batch.parentBatchId != nil {
                    return quarantine(context, code: "archive.nested",
                                      reason: "archive refused: a \(kind.rawValue) inside an archive is not unpacked")
                }
                return unpacked(context, kind: kind, members: members)
            case .notAnArchive:
                break
            }
        } catch {
            return transient(PipelineErrorCode.rawIO, "\(error)", line)
        }
        if Self.looksLikeXML(path: path) { return xmlDocument(context, path: path) }
        let reports: [InterchangeReport]
        do {
            reports = try Self.validate(path: path)
        } catch {
            return transient(PipelineErrorCode.rawIO, "\(error)", line)
        }
        guard let first = reports.first else {
            return quarantine(context, code: PipelineErrorCode.unreadable,
                              reason: "unreadable: not an EDIFACT interchange (no UNB found)")
        }
        if first.sender.first.map({ $0.isEmpty }) ?? true || first.reference.isEmpty {
            let why = first.allDiagnostics.first.map(\.reason) ?? "no UNB sender or interchange reference"
            return quarantine(context, code: PipelineErrorCode.unreadable,
                              reason: "unreadable: \(why); no CONTRL can be addressed")
        }
        return interchanges(context, reports: reports, path: path)
    }

    /// What one decision needs to know, passed along the steps.
    struct Context {
        var job: JobRecord
        var batch: BatchRecord
        var partner: PartnerConfiguration
        var input: ProcessInput
        var replay: Bool
        var line: IntakeFileResult
        /// Called before the decision reads the library (see `prepareChunk`).
        var libraryReady: @Sendable () -> Void = {}
    }

    // MARK: - Interchanges

    func interchanges(_ c: Context, reports: [InterchangeReport], path: String) -> ProcessDecision {
        var subjects = reports
        let conflict = c.batch.state == .conflict && !c.replay ? (try? store.conflict(batchId: c.batch.id)) ?? nil : nil
        for i in subjects.indices {
            let s = subjects[i]
            let unbSender = EDIFACTIdentity(id: s.sender.first ?? "",
                                            qualifier: s.sender.count > 1 && !s.sender[1].isEmpty ? s.sender[1] : nil)
            if !c.partner.identities.contains(where: { $0.matches(unbSender) }) {
                subjects[i].diagnostics.insert(
                    Diagnostic(code: .unknownSender, level: .interchange,
                               location: Location(byteOffset: s.byteOffset, segmentNumber: s.segmentNumber,
                                                  segmentTag: "UNB", elementPosition: 3),
                               reason: "UNB sender \(unbSender) is not an identity of partner \(c.partner.id)"),
                    at: 0)
            }
            if i == 0, let conflict {
                subjects[i].diagnostics.insert(
                    Diagnostic(code: .duplicate, level: .interchange,
                               location: Location(byteOffset: s.byteOffset, segmentNumber: s.segmentNumber,
                                                  segmentTag: "UNB", elementPosition: 5),
                               reason: "interchange reference '\(s.reference)' was already received in batch "
                                   + "\(conflict.existingBatchId) with different content"),
                    at: 0)
            }
        }
        let accepted = subjects.allSatisfy(\.isAccepted)
        let findings = subjects.filter { !$0.isAccepted }.map(Self.summary).joined(separator: "; ")
        let state: BatchState = conflict != nil ? .conflict : accepted ? .accepted : .rejected
        // One CONTRL file per batch, holding one CONTRL interchange per answered interchange.
        var contrl: [UInt8] = []
        var notes: [String] = []
        let date = Self.edifactDate(now())
        for (i, s) in subjects.enumerated() {
            let wanted: Bool
            switch c.partner.acknowledgement.contrl {
            case .always: wanted = true
            case .onRequest: wanted = !s.isAccepted || s.acknowledgementRequest == "1"
            case .never: wanted = false
            }
            guard wanted else { continue }
            do {
                if let bytes = try ContrlBuilder.makeContrl(
                    for: s, ourIdentity: ourIdentity, reference: Self.replyReference(stamp: c.input.stamp, index: i),
                    at: date, options: ContrlOptions(segmentSuffix: "\n"))
                {
                    contrl += bytes
                }
            } catch {
                notes.append("no CONTRL for interchange \(s.reference): \(error)")
            }
        }
        var decision = ProcessDecision(result: .succeeded(output: nil), line: c.line)
        var receipts: [String] = []
        if !contrl.isEmpty {
            let name = Self.receiptName(kind: "CONTRL", batchId: c.batch.id, reference: subjects[0].reference,
                                        stamp: c.input.stamp)
            do {
                decision.deliveries += try deliveries(kind: ReceiptKind.contrl.rawValue, name: name, bytes: contrl, context: c)
                receipts.append(name)
            } catch let error as SignatureError {
                // Our own key or certificate is unusable: an operator fixes it and reruns the job.
                return ProcessDecision(
                    result: .failed(code: error.code, message: "\(error)", disposition: .permanent, output: nil),
                    line: failedLine(c.line, "receipt not signed: \(error)"))
            } catch {
                return transient(PipelineErrorCode.rawIO, "\(error)", failedLine(c.line, "\(error)"))
            }
        } else if subjects.allSatisfy(\.isControlInterchange) {
            notes.append("a CONTRL: never a receipt for a receipt")
        } else if notes.isEmpty {
            notes.append("no CONTRL: the partner's setting is contrl = \(c.partner.acknowledgement.contrl.rawValue)")
        }
        if subjects.count > 1 { notes.insert("\(subjects.count) interchanges in one file", at: 0) }
        if !findings.isEmpty && state != .accepted { notes.insert(findings, at: 0) }
        let outcome: IntakeFileOutcome = c.replay ? .replay : state == .conflict ? .conflict : accepted ? .accepted : .rejected
        if c.replay { notes.insert("identical replay of batch \(c.batch.id) (\(c.batch.state.rawValue)): answered again, nothing else done", at: 0) }
        decision.line.outcome = outcome
        decision.line.reason = notes.isEmpty ? nil : notes.joined(separator: "; ")
        let output = ProcessOutput(outcome: outcome.rawValue, interchanges: subjects.count, findings: findings.isEmpty ? nil : findings,
                                   receipts: receipts, members: nil)
        decision.result = .succeeded(output: JobJSON.encode(output))
        if !c.replay && state != .conflict {
            decision.batchState = (c.batch.id, state, accepted ? nil : (findings.isEmpty ? "rejected" : findings))
        }
        if accepted && !c.replay && state == .accepted {
            // Manifests inside are filed and routed with the chunk (`fileAndPlan`).
            decision.manifests = cuscarWork(c, path: path, reports: subjects, output: output)
            if holdsInstructions(c, reports: subjects) {
                var output = output
                readInstructions(&decision, context: c, path: path, output: &output)
            }
        }
        return decision
    }

    // MARK: - Archives

    func unpacked(_ c: Context, kind: ArchiveKind, members: [ArchiveMember]) -> ProcessDecision {
        var line = c.line
        if c.replay {
            line.outcome = .replay
            line.reason = "identical replay of archive batch \(c.batch.id): its members were answered then; nothing sent again"
            return ProcessDecision(result: .succeeded(output: JobJSON.encode(ProcessOutput(
                outcome: "replay", interchanges: nil, findings: nil, receipts: [], members: nil))), line: line)
        }
        if c.batch.state == .unpacked {
            // A rerun: the members were recorded the first time (they are batches with jobs of their own).
            line.outcome = .accepted
            line.reason = "archive already unpacked into its member batches; each member's job is rerun on its own"
            return ProcessDecision(result: .succeeded(output: JobJSON.encode(ProcessOutput(
                outcome: "unpacked", interchanges: nil, findings: nil, receipts: [], members: members.map(\.name)))),
                line: line)
        }
        var records: [IntakeRecord] = []
        defer {
            for m in members { if case .file(let path) = m.content { unlink(path) } }
        }
        do {
            for m in members {
                let object: RawObject
                var header: (sender: String?, reference: String?)?
                switch m.content {
                case .bytes(let bytes):
                    object = try raw.put(bytes: bytes, durable: false)
                    header = Array(bytes.prefix(65_536)).withUnsafeBytes { Self.interchangeHeader(bytes: $0) }
                case .file(let path):
                    // The unpacker's own temporary: linked into the store like a claimed file, not copied.
                    object = try raw.adopt(fileAt: path) { header = Self.interchangeHeader(bytes: $0) }
                }
                let process = { (replay: Bool) in
                    JobRequest(kind: JobKind.process, partner: c.partner.id,
                               input: JobJSON.encode(ProcessInput(stamp: c.input.stamp, replay: replay ? true : nil)),
                               retry: Self.retry)
                }
                records.append(IntakeRecord(
                    partner: c.partner.id, originalName: m.name, size: object.size, mtime: c.batch.mtime,
                    digest: object.digest, interchangeRef: header?.reference, senderId: header?.sender,
                    receivedAt: c.batch.receivedAt, memberName: m.name,
                    jobOnNew: process(false), jobOnConflict: process(false), jobOnReplay: process(true)))
            }
        } catch {
            return ProcessDecision(
                result: .failed(code: PipelineErrorCode.rawIO, message: "\(error)", disposition: .transient, output: nil),
                line: failedLine(line, "\(error)"))
        }
        line.outcome = .accepted
        line.reason = "\(kind.rawValue) archive unpacked: \(members.count) member\(members.count == 1 ? "" : "s")"
        return ProcessDecision(
            result: .succeeded(output: JobJSON.encode(ProcessOutput(
                outcome: "unpacked", interchanges: nil, findings: nil, receipts: [], members: members.map(\.name)))),
            batchState: (c.batch.id, .unpacked, nil), members: (c.batch.id, records), line: line)
    }

    // MARK: - XML

    /// Accepts an XML document of a kind the gateway reads (the line, the job's output, the batch accepted) and
    /// returns the output to fill; nil for an identical replay, answered before: `replay` says what is not done again.
    private func acceptXML(_ decision: inout ProcessDecision, _ c: Context, replay: String, reason: String? = nil) -> ProcessOutput? {
        decision.line.outcome = c.replay ? .replay : .accepted
        decision.line.reason = c.replay ? "identical replay: answered before, \(replay)" : reason
        let output = ProcessOutput(outcome: decision.line.outcome.rawValue, interchanges: nil, findings: nil, receipts: [], members: nil)
        decision.result = .succeeded(output: JobJSON.encode(output))
        if c.replay { return nil }
        decision.batchState = (c.batch.id, .accepted, nil)
        return output
    }

    /// An XML document: parsed safely (no network, no DTD, no entities); well-formed is accepted and answered
    /// by an APERAK (29), since CONTRL answers EDIFACT only. Its content is mapped by the manifest mapping.
    func xmlDocument(_ c: Context, path: String) -> ProcessDecision {
        if let refusal = tooLarge(c, size: Self.fileSize(path), limit: configuration.maxDocumentBytes, what: "an XML document") {
            return refusal
        }
        guard let content = Self.readFile(path) else {
            return transient(PipelineErrorCode.rawIO, "cannot read the stored bytes at \(path)", c.line)
        }
        let root: String?
        do {
            let document = try XMLDSigXMLDocument.parse(content)
            root = withExtendedLifetime(document) { document.root.flatMap { $0.pointee.name.map { String(cString: $0) } } }
        } catch {
            let unsafe = error.code == .unsafeXML
            return quarantine(c, code: unsafe ? "xml.unsafe" : "xml.malformed", reason: "XML refused: \(error.operatorReason)",
                              partnerReason: unsafe ? error.partnerReason : "The file is not well-formed XML: \(error.operatorReason)")
        }
        var decision = ProcessDecision(result: .succeeded(output: nil), line: c.line)
        if root == "Manifest" && routesManifests {
            // A manifest: validated against manifest-1.xsd and mapped; filed, routed and answered with the chunk.
            guard let output = acceptXML(&decision, c, replay: "nothing routed again", reason: "manifest XML") else { return decision }
            decision.manifests = ManifestWork(context: c, input: .xml(content), output: output)
            return decision
        }
        if root == "Instruction" && c.partner.role == .agency {
            // An agency's instruction: validated against instruction-1.xsd, kept as facts with the commit.
            guard var output = acceptXML(&decision, c, replay: "nothing recorded again") else { return decision }
            let reading: InstructionReading
            switch XMLInstructionMapping.instruction(from: content) {
            case .success(let instruction): reading = InstructionReading(instruction: instruction, errors: [], location: "/Instruction")
            case .failure(let failure): reading = InstructionReading(instruction: nil, errors: failure.errors, location: "/Instruction")
            }
            recordInstructions(&decision, context: c, readings: [reading], what: "instruction", output: &output)
            return decision
        }
        if root == "StatusRequest" {
            // A partner asks for the state of its goods: answered by a status file, made with the job.
            guard var output = acceptXML(&decision, c, replay: "not answered again") else { return decision }
            answerStatusRequest(&decision, context: c, content: content, output: &output)
            return decision
        }
        var receipts: [String] = []
        var notes = ["XML document well-formed" + (root.map { " (\($0), not a manifest: nothing routed)" } ?? "")]
        if c.partner.acknowledgement.aperak == .always {
            let name = Self.receiptName(kind: "APERAK", batchId: c.batch.id, reference: "", stamp: c.input.stamp)
            do {
                let aperak = try AperakBuilder.fileAperak(
                    fileName: c.input.name ?? c.batch.originalName, errors: [], ourIdentity: ourIdentity,
                    recipient: recipient(c.partner), syntax: c.partner.characterSet,
                    reference: Self.replyReference(stamp: c.input.stamp, index: 0), documentNumber: "B\(c.batch.id)",
                    at: Self.edifactDate(now()), options: AperakOptions(segmentSuffix: "\n"))
                decision.deliveries += try deliveries(kind: ReceiptKind.aperak.rawValue, name: name, bytes: aperak, context: c)
                receipts.append(name)
            } catch let error as RawStoreError {
                // Not stored (a full disk): the file must still be answered, so the job is retried, not closed.
                return transient(PipelineErrorCode.rawIO, "APERAK not stored: \(error)", failedLine(c.line, "APERAK not stored: \(error)"))
            } catch {
                notes.append("no APERAK: \(error)")
            }
        }
        decision.line.outcome = c.replay ? .replay : .accepted
        decision.line.reason = notes.joined(separator: "; ")
        decision.result = .succeeded(output: JobJSON.encode(ProcessOutput(
            outcome: decision.line.outcome.rawValue, interchanges: nil, findings: nil, receipts: receipts, members: nil)))
        if !c.replay { decision.batchState = (c.batch.id, .accepted, nil) }
        return decision
    }

    /// Whether the file's first byte after blanks (and a UTF-8 byte-order mark) is '<'.
    static func looksLikeXML(path: String) -> Bool {
        (try? FileOps.readHead(path: path, count: 512)).map(looksLikeXML) ?? false
    }

    /// Whether the first byte after blanks (and a UTF-8 byte-order mark) is '<'.
    static func looksLikeXML(_ head: some Collection<UInt8>) -> Bool {
        head.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) } == UInt8(ascii: "<")
    }

    // MARK: - Quarantine

    /// Sets the batch aside with a stable code: the job is quarantined (an operator releases or discards it),
    /// the batch says why, and the partner gets an APERAK in plain words (unless its setting is `never`).
    /// `partnerReason` is what the APERAK says when the operator's reason must not reach the partner (trust-store
    /// details of a refused signature); `evidence` is kept with the verdict.
    /// A quarantine decision when the stored object `digest` (or a file of `size` bytes) is over `limit`.
    func tooLarge(_ c: Context, digest: SHA256Digest, limit: Int64, what: String) -> ProcessDecision? {
        tooLarge(c, size: Self.fileSize(raw.path(for: digest)), limit: limit, what: what)
    }

    func tooLarge(_ c: Context, size: Int64?, limit: Int64, what: String) -> ProcessDecision? {
        guard let size, size > limit else { return nil }
        let mib = { (bytes: Int64) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return quarantine(c, code: PipelineErrorCode.tooLarge,
                          reason: "\(what) of \(size) bytes (\(mib(size))) is over the \(mib(limit)) checked in memory",
                          partnerReason: "The file is too large: \(what) may be at most \(mib(limit)).")
    }

    /// A file's size by stat; nil when it cannot be read (the read that follows reports that).
    static func fileSize(_ path: String) -> Int64? {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : nil
    }

    func quarantine(_ c: Context, code: String, reason: String, partnerReason: String? = nil,
                    evidence: SignatureVerdictEvidence? = nil) -> ProcessDecision {
        var decision = ProcessDecision(result: .succeeded(output: nil), line: c.line, evidence: evidence)
        var receipts: [String] = []
        var notes = [reason]
        if c.partner.acknowledgement.aperak != .never {
            let name = Self.receiptName(kind: "APERAK", batchId: c.batch.id, reference: "", stamp: c.input.stamp)
            do {
                let bytes = try AperakBuilder.fileAperak(
                    fileName: c.batch.parentBatchId == nil ? c.input.name ?? c.batch.originalName : c.line.file,
                    errors: [ApplicationError(code: Self.aperakCode(code),
                                              text: "\(c.line.file): \(partnerReason ?? reason) (\(code))")],
                    ourIdentity: ourIdentity, recipient: recipient(c.partner), syntax: c.partner.characterSet,
                    reference: Self.replyReference(stamp: c.input.stamp, index: 0),
                    documentNumber: "B\(c.batch.id)", at: Self.edifactDate(now()),
                    options: AperakOptions(segmentSuffix: "\n"))
                decision.deliveries += try deliveries(kind: ReceiptKind.aperak.rawValue, name: name, bytes: bytes, context: c)
                receipts.append(name)
            } catch let error as RawStoreError {
                // Not stored (a full disk): the file must still be answered, so the job is retried, not closed.
                return transient(PipelineErrorCode.rawIO, "APERAK not stored: \(error)", failedLine(c.line, "APERAK not stored: \(error)"))
            } catch {
                notes.append("no APERAK: \(error)")
            }
        } else {
            notes.append("no APERAK: the partner's setting is aperak = never")
        }
        let output = JobJSON.encode(ProcessOutput(outcome: c.replay ? "replay" : "quarantined", interchanges: nil,
                                                  findings: reason, receipts: receipts, members: nil))
        if c.replay {
            // The original batch is quarantined already; this arrival is answered again and nothing else.
            decision.line.outcome = .replay
            decision.line.reason = "identical replay of quarantined batch \(c.batch.id): " + notes.joined(separator: "; ")
            decision.result = .succeeded(output: output)
            return decision
        }
        decision.line.outcome = .quarantined
        decision.line.reason = notes.joined(separator: "; ")
        decision.result = .failed(code: code, message: reason, disposition: .quarantine, output: output)
        decision.batchState = (c.batch.id, .quarantined, "[\(code)] \(reason)")
        return decision
    }

    // MARK: - Helpers

    /// Stores a receipt's bytes (no fsync: the chunk's syncfs covers it) and describes its delivery, keyed so
    /// that running this job again never enqueues a second delivery of the same receipt. For a partner that
    /// requires signed files from us, the receipt's detached signature `NAME.p7s` is delivered first, so it is
    /// there when the receipt appears (a partner using the done-marker habit of waiting for the signature).
    func deliveries(kind: String, name: String, bytes: [UInt8], context c: Context) throws -> [JobRequest] {
        try storedDeliveries(kind: kind, name: name, bytes: bytes, context: c).requests
    }

    /// `deliveries`, with the stored file's SHA-256 (hex); `stored` is that digest when the caller has already
    /// put `bytes` in the raw store (not durably: the chunk's syncfs does that).
    func storedDeliveries(kind: String, name: String, bytes: [UInt8], stored: String? = nil, context c: Context) throws
        -> (requests: [JobRequest], sha256: String)
    {
        try storedDeliveries(to: c.partner, batchId: c.batch.id, kind: kind, name: name, bytes: bytes, stored: stored, records: !c.replay)
    }

    /// The deliver jobs that put `bytes` in `partner`'s pickup as `name` (and its `.p7s` first when we sign for
    /// it), the bytes put in the raw store (not durably); `records` makes the delivery a receipt of `batchId`.
    func storedDeliveries(to partner: PartnerConfiguration, batchId: Int64?, kind: String, name: String, bytes: [UInt8],
                          stored: String? = nil, records: Bool) throws -> (requests: [JobRequest], sha256: String) {
        func request(_ kind: String, _ name: String, _ bytes: [UInt8], records: Bool, stored: String? = nil) throws -> (JobRequest, String) {
            let digest = try stored ?? raw.put(bytes: bytes, durable: false).digest.hex
            return (JobRequest(
                kind: JobKind.deliver, partner: partner.id, batchId: batchId,
                input: DeliverInput(kind: kind, file: name, sha256: digest, records: records).json,
                retry: Self.retry, idempotencyKey: "deliver:\(partner.id):\(name)"), digest)
        }
        var requests: [JobRequest] = []
        if partner.signature.signOutbound {
            requests.append(try request("SIGNATURE", name + ".p7s", try signatures.signOutbound(bytes), records: false).0)
        }
        let (main, digest) = try request(kind, name, bytes, records: records, stored: stored)
        requests.append(main)
        return (requests, digest)
    }

    /// A failure that clears by itself (I/O): the job is retried with backoff.
    func transient(_ code: String, _ message: String, _ line: IntakeFileResult) -> ProcessDecision {
        var line = line
        line.reason = message
        return ProcessDecision(result: .failed(code: code, message: message, disposition: .transient, output: nil),
                               line: line)
    }

    func failedLine(_ line: IntakeFileResult, _ reason: String) -> IntakeFileResult {
        var line = line
        line.outcome = .failed
        line.reason = reason
        return line
    }

    func displayName(member batch: BatchRecord) -> String {
        let parent = batch.parentBatchId.flatMap { try? store.batch($0) }
        return (parent?.originalName ?? "archive") + "/" + (batch.memberName ?? batch.originalName)
    }

    /// Streams the file through the validator in 64 KiB chunks.
    static func validate(path: String) throws -> [InterchangeReport] {
        let validator = EDIFACTValidator()
        try ChunkedFile.forEachChunk(path: path) { validator.feed($0) }
        validator.finish()
        return validator.takeReports()
    }

    /// `<KIND>-<batch>-<interchange ref>-<claim stamp>.edi`: unique per arrival, and the same on a rerun.
    static func receiptName(kind: String, batchId: Int64, reference: String, stamp: String) -> String {
        let safe = String(reference.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(35))
        return "\(kind)-\(batchId)-\(safe.isEmpty ? "none" : safe)-\(stamp).edi"
    }

    /// Our reply's interchange reference (at most 14 characters): the claim time in base 36, plus the
    /// interchange's index in its file when there are several.
    static func replyReference(stamp: String, index: Int) -> String {
        let nanos = UInt64(stamp.split(separator: ".").first ?? "") ?? UInt64(FileTime.now().epochNanoseconds)
        let base = String(nanos, radix: 36).uppercased()
        return index == 0 ? base : String((base + String(index, radix: 36).uppercased()).suffix(14))
    }

    /// ERC 9321 (an..8, gateway-defined in D95B/D96A) for a stable pipeline code.
    static func aperakCode(_ code: String) -> String {
        switch code {
        case PipelineErrorCode.unreadable: "SWG-UNRD"
        case PipelineErrorCode.incomplete: "SWG-INCM"
        case "xml.malformed", "xml.unsafe": "SWG-XML"
        case PipelineErrorCode.tooLarge: "SWG-SIZE"
        default: code.hasPrefix("archive.") ? "SWG-ARCH" : code.hasPrefix("sig.") || code.hasPrefix("xml.") ? "SWG-SIG" : "SWG-ERR"
        }
    }

    static func summary(_ report: InterchangeReport) -> String {
        report.allDiagnostics.prefix(3).map { "[\($0.code.rawValue)] \($0.reason)" }.joined(separator: "; ")
    }

    /// UTC calendar fields by gmtime_r (a Foundation Calendar per receipt cost more than building the receipt).
    static func edifactDate(_ date: Date) -> EDIFACTDateTime {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var fields = tm()
        gmtime_r(&seconds, &fields)
        return EDIFACTDateTime(year: Int(fields.tm_year) + 1900, month: Int(fields.tm_mon) + 1, day: Int(fields.tm_mday),
                               hour: Int(fields.tm_hour), minute: Int(fields.tm_min))
    }
}
