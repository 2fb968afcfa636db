import Foundation
import Jobs

/// `gateway jobs list` and `gateway jobs show`: what the ledger's jobs are doing, and one job's whole story.
public enum JobsVerbs {
    /// The job states an operator may filter on, in the order help and errors list them.
    public static var stateNames: [String] { JobState.allCases.map(\.rawValue) }

    /// Lists jobs newest first, at most `limit`, filtered by state (one of `stateNames`), partner and kind;
    /// says when more match. Exit status: 0 (an empty listing included), 1 when the ledger cannot be read,
    /// 2 on an unknown state or a configuration error.
    public static func list(
        configPath: String, state stateName: String?, partner: String?, kind: String?, limit: Int, json: Bool,
        out: OutputSink, err: OutputSink
    ) -> OperatorStatus {
        // The command checks the state in `validate()`; this guards other callers with the same words.
        var state: JobState?
        if let stateName {
            guard let known = JobState(rawValue: stateName) else {
                err.line("Invalid --state '\(stateName)': the states are \(stateNames.joined(separator: ", "))")
                err.flush()
                return .usage
            }
            state = known
        }
        return OperatorSession.with(path: configPath, out: out, err: err) { session in
            // One more than asked tells whether the listing was cut short, without a count query.
            let found = try session.store?.jobs(state: state, partner: partner, kind: kind, limit: limit + 1) ?? []
            let jobs = Array(found.prefix(limit))
            let batches = try session.store?.batches(ids: jobs.compactMap(\.batchId)) ?? [:]
            let lines = jobs.map { JobLine($0, batch: $0.batchId.flatMap { batches[$0] }) }
            let more = found.count > limit
            if json {
                out.line(OperatorFormat.json(ListDocument(jobs: lines, limit: limit, more: more)))
                return .success
            }
            if lines.isEmpty {
                var filters: [String] = []
                if let state { filters.append("--state \(state.rawValue)") }
                if let partner { filters.append("--partner \(partner)") }
                if let kind { filters.append("--kind \(kind)") }
                var sentence = filters.isEmpty ? "no jobs" : "no jobs match " + filters.joined(separator: " ")
                if let partner, session.configuration.partner(id: partner) == nil {
                    sentence += " (no partner '\(partner)' is configured)"
                }
                out.line(sentence)
                return .success
            }
            let rows = lines.map { j in
                [String(j.id), j.kind, j.partner ?? "-", j.state, "\(j.attempts)/\(j.maxAttempts)", j.updatedAt,
                 j.batchId.map(String.init) ?? "-", j.fileName ?? "-", j.errorCode ?? "-"]
            }
            for line in OperatorFormat.table(
                ["ID", "KIND", "PARTNER", "STATE", "ATTEMPTS", "UPDATED", "BATCH", "FILE", "ERROR"], rows,
                alignments: [.right, .left, .left, .left, .right, .left, .right, .left, .left])
            {
                out.line(line)
            }
            if more { out.line("more jobs match: showing the newest \(limit) (--limit raises it)") }
            return .success
        }
    }

    /// Prints one job's whole story: the job, its batch and archive, conflict, history, receipts and replays.
    /// Exit status: 0 when shown, 1 when there is no such job or the ledger cannot be read, 2 on a configuration error.
    public static func show(configPath: String, jobId: Int64, json: Bool, out: OutputSink, err: OutputSink) -> OperatorStatus {
        OperatorSession.with(path: configPath, out: out, err: err) { session in
            guard let store = session.store, let story = try store.jobStory(jobId) else {
                err.line("job \(jobId) not found")
                return .refused
            }
            var members: [MemberLine] = []
            var claim: String?
            var conflictBatch: BatchRecord?
            if let batch = story.batch {
                claim = batch.claim
                let memberBatches = try store.members(of: batch.id)
                let jobs = try store.jobs(forBatches: memberBatches.map(\.id))
                members = memberBatches.map { MemberLine($0, jobs: jobs[$0.id] ?? []) }
            }
            if let conflict = story.conflict { conflictBatch = try store.batch(conflict.existingBatchId) }
            // Every signature verdict reached for the batch; an archive member was covered by its archive's.
            var signatures: [SignatureLine] = []
            var signaturesOf: Int64?
            if let batch = story.batch {
                signatures = try store.signatureVerdicts(batchId: batch.id).map(SignatureLine.init)
                if signatures.isEmpty, let archive = story.parentBatch {
                    signatures = try store.signatureVerdicts(batchId: archive.id).map(SignatureLine.init)
                    if !signatures.isEmpty { signaturesOf = archive.id }
                }
            }
            let document = ShowDocument(
                job: JobDetail(story.job),
                batch: story.batch.map { BatchDetail($0, claim: claim, raw: session.rawPath(sha256: $0.sha256)) },
                archive: story.parentBatch.map { BatchDetail($0, claim: nil, raw: nil) },
                members: members,
                conflict: story.conflict.map { ConflictDetail($0, existing: conflictBatch) },
                events: story.events.map(EventLine.init),
                receipts: story.receipts.map(ReceiptLine.init),
                replayCount: story.replayCount,
                signatures: signatures,
                signaturesOfArchive: signaturesOf,
                collectedAt: try store.collectedAt(jobId: story.job.id).map { OperatorFormat.time($0) },
                routed: story.job.kind == JobKind.process ? try story.batch.map { try store.routedCopies(batchId: $0.id) } ?? [] : [])
            out.write(json ? OperatorFormat.json(document) + "\n" : document.text())
            return .success
        }
    }

    // MARK: - Documents (the JSON keys are part of the interface: add, never rename)

    /// What `jobs list --json` prints.
    struct ListDocument: Encodable {
        var jobs: [JobLine]
        var limit: Int
        /// Whether more jobs match than were listed.
        var more: Bool
    }

    /// What `jobs show` prints, as JSON or as text.
    struct ShowDocument: Encodable {
        var job: JobDetail
        @Nullable var batch: BatchDetail?
        /// The archive the batch was unpacked from.
        @Nullable var archive: BatchDetail?
        /// The batch's own members, when it is an archive.
        var members: [MemberLine]
        @Nullable var conflict: ConflictDetail?
        var events: [EventLine]
        var receipts: [ReceiptLine]
        var replayCount: Int
        /// Every signature verdict reached for the batch, oldest first, with its evidence.
        var signatures: [SignatureLine]
        /// Set when the verdicts are the archive's (the batch is a member its signature covered).
        @Nullable var signaturesOfArchive: Int64?
        /// A delivery: when the file was noticed gone from the partner's pickup directory (collected).
        @Nullable var collectedAt: String?
        /// A process job: the copies of the batch's manifests routed to agencies, with the rule that sent each.
        var routed: [RoutedCopyRecord]

        /// The text `jobs show` prints: labelled sections, one fact per line.
        func text() -> String {
            var lines: [String] = []
            func fact(_ label: String, _ value: String) { lines.append("  " + pad(label, 12) + value) }
            lines.append("job \(job.id)  \(job.kind)  \(job.partner ?? "-")  \(job.state)")
            fact("attempts", "\(job.attempts) of \(job.maxAttempts)")
            fact("created", job.createdAt)
            fact("updated", job.updatedAt)
            if ["queued", "retrying"].contains(job.state) { fact("next run", job.nextRunAt) }
            if let owner = job.leaseOwner { fact("lease", "\(owner) until \(job.leaseExpiresAt ?? "-")") }
            if let code = job.errorCode { fact("error", "\(code): \(OperatorFormat.cell(job.errorMessage ?? ""))") }
            fact("input", OperatorFormat.cell(job.inputText))
            fact("output", job.outputText.map(OperatorFormat.cell) ?? "-")
            if job.kind == JobKind.deliver && job.state == "succeeded" {
                fact("collected", collectedAt.map { "noticed gone from the pickup directory at \($0)" } ?? "not yet (still in the pickup directory)")
            }
            if let batch {
                lines.append("batch \(batch.id)  \(batch.partner)  \(batch.fileName)")
                fact("size", OperatorFormat.count(Int(batch.size), "byte"))
                fact("sha256", batch.sha256)
                if let raw = batch.raw { fact("raw", raw) }
                if let reference = batch.interchangeRef {
                    fact("interchange", reference + (batch.sender.map { " from \($0)" } ?? ""))
                } else if let sender = batch.sender {
                    fact("sender", sender)
                }
                fact("state", batch.state + (batch.reason.map { ": " + OperatorFormat.cell($0) } ?? ""))
                fact("received", batch.receivedAt)
                if let claim = batch.claim { fact("claim", claim) }
                fact("replays", replayCount == 0 ? "none" : "\(OperatorFormat.count(replayCount, "identical copy", plural: "identical copies")) acknowledged since")
            } else {
                lines.append("batch       none (the job is not about a batch)")
            }
            if let archive {
                lines.append("archive \(archive.id)  \(archive.fileName)  \(archive.state)  (this batch is its member '\(batch?.memberName ?? "?")')")
            }
            if !members.isEmpty {
                lines.append("members (\(members.count))")
                let rows = members.map { m in
                    [String(m.batchId), m.name, m.state, String(m.size),
                     m.jobs.isEmpty ? "-" : m.jobs.map { "\($0.id) \($0.kind) \($0.state)" }.joined(separator: ", "),
                     m.reason ?? ""]
                }
                lines += OperatorFormat.table(["BATCH", "NAME", "STATE", "SIZE", "JOBS", "REASON"], rows,
                                              alignments: [.right, .left, .left, .right]).map { "  " + $0 }
            }
            if let conflict {
                var line = "conflict \(conflict.id)  interchange reference '\(conflict.interchangeRef)'"
                if let sender = conflict.sender { line += " from '\(sender)'" }
                line += " first used by batch \(conflict.existingBatchId)"
                if let name = conflict.existingFileName { line += " (\(name))" }
                lines.append(line)
                fact("detected", conflict.detectedAt)
                if let resolvedAt = conflict.resolvedAt {
                    fact("resolved", "\(resolvedAt): \(OperatorFormat.cell(conflict.resolution ?? ""))")
                } else {
                    fact("resolved", "no (open)")
                }
            }
            if batch != nil {
                if signatures.isEmpty {
                    lines.append("signatures  none recorded")
                } else {
                    lines.append("signatures (\(signatures.count))" + (signaturesOfArchive.map { ", of archive \($0)" } ?? ""))
                    for v in signatures {
                        lines.append("  \(v.verifiedAt)  \(v.format)  " + (v.valid ? "valid" : "refused \(v.code ?? "?")")
                                     + "  agency \(v.agency)" + (v.jobId.map { "  job \($0)" } ?? ""))
                        func detail(_ label: String, _ value: String?) {
                            if let value { lines.append("    " + pad(label, 12) + OperatorFormat.cell(value)) }
                        }
                        detail("validated", v.validationTime)
                        detail("reason", v.reason)
                        detail("partner", v.partnerReason)
                        detail("signer", v.signerSubject)
                        detail("issuer", v.signerIssuer)
                        detail("serial", v.signerSerial)
                        detail("fingerprint", v.signerFingerprint)
                        detail("algorithms", v.algorithms)
                        detail("signature", v.signatureSha256.map { "sha256 \($0)" })
                        detail("crl", v.crlSha256.map { "sha256 \($0)" })
                        detail("chain", v.chainPEM.map { _ in "PEM kept (jobs show --json)" })
                    }
                }
            }
            if events.isEmpty {
                lines.append("history     none recorded")
            } else {
                lines.append("history (\(events.count))")
                lines += OperatorFormat.table(
                    ["AT", "FROM", "TO", "WHAT"], events.map { [$0.at, $0.from ?? "-", $0.to, $0.message ?? ""] }
                ).map { "  " + $0 }
            }
            if receipts.isEmpty {
                lines.append("receipts    none written")
            } else {
                lines.append("receipts (\(receipts.count))")
                lines += OperatorFormat.table(
                    ["KIND", "FILE", "SHA256", "WRITTEN"], receipts.map { [$0.kind, $0.fileName, $0.sha256, $0.writtenAt] }
                ).map { "  " + $0 }
            }
            if !routed.isEmpty {
                lines.append("routed (\(routed.count); gateway trace B\(batch?.id ?? 0) tells the whole story)")
                lines += OperatorFormat.table(
                    ["AGENCY", "FILE", "FUNCTION", "CONSIGNMENTS", "RULE"],
                    routed.map { [$0.agency, $0.fileName, $0.function, String($0.bills.count), $0.rule] }
                ).map { "  " + $0 }
            }
            return lines.joined(separator: "\n") + "\n"
        }

        private func pad(_ s: String, _ width: Int) -> String {
            s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
        }
    }

    /// One row of `jobs list` (and, with the batch's reason, of `quarantine list`).
    struct JobLine: Encodable {
        var id: Int64
        var kind: String
        @Nullable var partner: String?
        var state: String
        var attempts: Int
        var maxAttempts: Int
        var createdAt: String
        var updatedAt: String
        @Nullable var batchId: Int64?
        @Nullable var fileName: String?
        @Nullable var errorCode: String?
        @Nullable var errorMessage: String?

        init(_ job: JobRecord, batch: BatchRecord?) {
            id = job.id
            kind = job.kind
            partner = job.partner
            state = job.state.rawValue
            attempts = job.attempts
            maxAttempts = job.maxAttempts
            createdAt = OperatorFormat.time(job.createdAt)
            updatedAt = OperatorFormat.time(job.updatedAt)
            batchId = job.batchId
            fileName = batch?.originalName
            errorCode = job.errorCode
            errorMessage = job.errorMessage
        }
    }

    /// The job itself in `jobs show`, input and output as JSON values.
    struct JobDetail: Encodable {
        var id: Int64
        var kind: String
        @Nullable var partner: String?
        var state: String
        var attempts: Int
        var maxAttempts: Int
        var createdAt: String
        var updatedAt: String
        var nextRunAt: String
        @Nullable var leaseOwner: String?
        @Nullable var leaseExpiresAt: String?
        @Nullable var idempotencyKey: String?
        @Nullable var errorCode: String?
        @Nullable var errorMessage: String?
        var input: JSONValue
        @Nullable var output: JSONValue?
        /// The stored texts, for the text rendering (printed as stored, not re-serialized).
        var inputText: String
        var outputText: String?

        enum CodingKeys: String, CodingKey {
            case id, kind, partner, state, attempts, maxAttempts, createdAt, updatedAt, nextRunAt, leaseOwner,
                 leaseExpiresAt, idempotencyKey, errorCode, errorMessage, input, output
        }

        init(_ job: JobRecord) {
            id = job.id
            kind = job.kind
            partner = job.partner
            state = job.state.rawValue
            attempts = job.attempts
            maxAttempts = job.maxAttempts
            createdAt = OperatorFormat.time(job.createdAt)
            updatedAt = OperatorFormat.time(job.updatedAt)
            nextRunAt = OperatorFormat.time(job.nextRunAt)
            leaseOwner = job.leaseOwner
            leaseExpiresAt = job.leaseExpiresAt.map(OperatorFormat.time)
            idempotencyKey = job.idempotencyKey
            errorCode = job.errorCode
            errorMessage = job.errorMessage
            input = JSONValue(text: job.input)
            output = job.output.map(JSONValue.init(text:))
            inputText = job.input
            outputText = job.output
        }
    }

    /// A batch in `jobs show`: the job's own, or the archive it came from.
    struct BatchDetail: Encodable {
        var id: Int64
        var partner: String
        var fileName: String
        @Nullable var memberName: String?
        var size: Int64
        var sha256: String
        @Nullable var interchangeRef: String?
        @Nullable var sender: String?
        var state: String
        @Nullable var reason: String?
        var receivedAt: String
        var updatedAt: String
        @Nullable var claim: String?
        /// Where the exact bytes are kept, when the raw store holds them.
        @Nullable var raw: String?

        init(_ batch: BatchRecord, claim: String?, raw: String?) {
            id = batch.id
            partner = batch.partner
            fileName = batch.originalName
            memberName = batch.memberName
            size = batch.size
            sha256 = batch.sha256
            interchangeRef = batch.interchangeRef
            sender = batch.senderId
            state = batch.state.rawValue
            reason = batch.reason
            receivedAt = OperatorFormat.time(batch.receivedAt)
            updatedAt = OperatorFormat.time(batch.updatedAt)
            self.claim = claim
            self.raw = raw
        }
    }

    /// One member of an archive, with the jobs about it.
    struct MemberLine: Encodable {
        /// A member's job, enough to `jobs show` it.
        struct Job: Encodable {
            var id: Int64
            var kind: String
            var state: String
        }
        var batchId: Int64
        var name: String
        var state: String
        var size: Int64
        var sha256: String
        @Nullable var reason: String?
        var jobs: [Job]

        init(_ batch: BatchRecord, jobs: [JobRecord]) {
            batchId = batch.id
            name = batch.memberName ?? batch.originalName
            state = batch.state.rawValue
            size = batch.size
            sha256 = batch.sha256
            reason = batch.reason
            self.jobs = jobs.map { Job(id: $0.id, kind: $0.kind, state: $0.state.rawValue) }
        }
    }

    /// The conflict a batch is part of, with the file that used the reference first.
    struct ConflictDetail: Encodable {
        var id: Int64
        var interchangeRef: String
        @Nullable var sender: String?
        var existingBatchId: Int64
        @Nullable var existingFileName: String?
        var detectedAt: String
        @Nullable var resolvedAt: String?
        @Nullable var resolution: String?

        init(_ conflict: ConflictRecord, existing: BatchRecord?) {
            id = conflict.id
            interchangeRef = conflict.interchangeRef
            sender = conflict.senderId
            existingBatchId = conflict.existingBatchId
            existingFileName = existing?.originalName
            detectedAt = OperatorFormat.time(conflict.detectedAt)
            resolvedAt = conflict.resolvedAt.map(OperatorFormat.time)
            resolution = conflict.resolution
        }
    }

    /// One state change in a job's history.
    struct EventLine: Encodable {
        var at: String
        @Nullable var from: String?
        var to: String
        @Nullable var message: String?

        init(_ event: JobEventRecord) {
            at = OperatorFormat.time(event.at)
            from = event.fromState
            to = event.toState
            message = event.message
        }
    }

    /// One signature verdict and its evidence, as the ledger keeps it.
    struct SignatureLine: Encodable {
        var id: Int64
        @Nullable var jobId: Int64?
        var verifiedAt: String
        var format: String
        var valid: Bool
        @Nullable var code: String?
        var reason: String
        var partnerReason: String
        @Nullable var signerSubject: String?
        @Nullable var signerIssuer: String?
        @Nullable var signerSerial: String?
        @Nullable var signerFingerprint: String?
        /// The agency whose anchors were used (the agencies named, when no signature came).
        var agency: String
        var validationTime: String
        @Nullable var crlSha256: String?
        @Nullable var signatureSha256: String?
        @Nullable var algorithms: String?
        /// The chain from the signer to the anchor, PEM (JSON only: too long for the text).
        @Nullable var chainPEM: String?

        init(_ record: SignatureVerdictRecord) {
            let e = record.evidence
            id = record.id
            jobId = record.jobId
            verifiedAt = OperatorFormat.time(record.verifiedAt)
            format = e.format
            valid = e.valid
            code = e.code
            reason = e.reason
            partnerReason = e.partnerReason
            signerSubject = e.signerSubject
            signerIssuer = e.signerIssuer
            signerSerial = e.signerSerial
            signerFingerprint = e.signerFingerprint
            agency = e.trust
            validationTime = OperatorFormat.time(e.validationTime)
            crlSha256 = e.crlSha256
            signatureSha256 = e.signatureSha256
            algorithms = e.algorithms.flatMap { $0.isEmpty ? nil : $0 }
            chainPEM = e.chainPEM
        }
    }

    /// One receipt written for the batch.
    struct ReceiptLine: Encodable {
        var kind: String
        var fileName: String
        var sha256: String
        var writtenAt: String

        init(_ receipt: ReceiptRecord) {
            kind = receipt.kind.rawValue
            fileName = receipt.fileName
            sha256 = receipt.sha256
            writtenAt = OperatorFormat.time(receipt.writtenAt)
        }
    }
}
