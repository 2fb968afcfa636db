import EDIFACT
import Foundation
import Jobs

// Issue 6, the routing step of a process job: an accepted file that holds manifests (CUSCAR D95B/D96A, or the
// project's manifest XML) is mapped to the canonical model, filed in the library, and routed: each agency whose
// rule selects something gets its own copy, generated from the model with the gateway as sender, signed when
// the agency asks for signed files, delivered by a deliver job keyed by agency and file name, and recorded with
// the rule that sent it. Mapping and filing refusals are application errors: one APERAK to the carrier naming
// each consignment, segment or element, and byte offset.
//
// Filing needs the library's current state, so it cannot be decided job by job like receipts: the chunk's
// manifests are filed in one transaction after every decision is made (in job order), then each decision is
// finished with its copies and APERAK, and the chunk's commit records them. A crash between the two
// transactions leaves filings without copies; the job runs again, finds its filings (same batch, same model),
// and routes the same copies under the same names and delivery keys. Nothing is sent twice.

/// Manifests a process job found in an accepted file, waiting to be mapped, filed and routed.
struct ManifestWork {
    /// What to map: the stored CUSCAR's path, or the XML document's bytes; nil once mapped (or refused unread).
    enum Input {
        case cuscar(path: String)
        case xml([UInt8])
    }

    var context: GatewayPipeline.Context
    var input: Input?
    var mapped: [Manifest] = []
    /// The CUSCAR directory each mapped manifest came in (nil: XML).
    var sources: [CUSCARDirectory?] = []
    /// Each mapped manifest's library JSON, written here (on any thread) rather than in the filing transaction.
    var modelJSON: [[UInt8]] = []
    /// Each mapped manifest's routing decisions under the configuration's rules (pure, so decided here too).
    var routes: [[RoutingDecision]] = []
    /// Mapping refusals (each names its consignment, segment or element, and byte offset).
    var refusals: [ManifestMappingError] = []
    /// Set when the stored bytes could not be read: the job is retried.
    var readFailure: String?
    /// The process output so far (receipts already asked for), completed when the work is finished.
    var output: ProcessOutput

    /// Maps the input and routes what it maps under `rules` (pure: runs on any thread).
    mutating func map(rules: [RoutingRule]) {
        switch input {
        case .cuscar(let path):
            guard let bytes = GatewayPipeline.readFile(path) else {
                readFailure = "cannot read the stored bytes at \(path)"
                return
            }
            for mapping in CUSCARMapping.map(bytes) {
                if let manifest = mapping.manifest, mapping.errors.isEmpty {
                    mapped.append(manifest)
                    sources.append(mapping.directory)
                } else {
                    refusals += mapping.errors
                }
            }
        case .xml(let bytes):
            switch XMLManifestMapping.manifest(from: bytes) {
            case .success(let manifest): mapped = [manifest]; sources = [nil]
            case .failure(let failure): refusals = Array(failure.errors.prefix(CUSCARMapping.maxErrorsPerMessage))
            }
        case nil:
            break
        }
        input = nil
        routes = mapped.map { Router.route($0, rules: rules) }
        refuseWhatCUSCARCannotCarry()
        modelJSON = mapped.map(LibraryJSON.manifestUTF8)
    }

    /// Refuses, before anything is filed, a manifest that a CUSCAR copy its rules select could not carry: an XML
    /// manifest's values may be longer than CUSCAR's elements (a voyage of 35 characters against 8028's an..17,
    /// a seal against 9308's an..10, nine-digit package counts), and a D96A one may have four street lines where
    /// D95B has three. The copy is written once here, as it will be, and discarded; a CUSCAR filed in the same
    /// directory (or in D95B, for a D96A copy) fits by construction and is not written twice. Without this the
    /// manifest was filed and then its customs copy failed, leaving the file without a receipt.
    private mutating func refuseWhatCUSCARCannotCarry() {
        var kept: [Int] = []
        for (i, manifest) in mapped.enumerated() {
            var refusal: ManifestMappingError?
            for decision in routes[i] where decision.selected && refusal == nil {
                let directory: CUSCARDirectory
                switch decision.format {
                case .cuscarD95B: directory = .d95B
                case .cuscarD96A: directory = .d96A
                default: continue
                }
                // Same directory, or D95B into D96A (the same element lengths, one more street line): it fits.
                guard sources[i] != directory && !(sources[i] == .d95B && directory == .d96A) else { continue }
                let writer = CUSCARWriter(directory: directory, sender: ["SWGATEWAY"], recipient: [decision.agency],
                                          syntaxIdentifier: .UNOY, syntaxVersion: 4)
                do throws(ManifestMappingError) {
                    _ = try writer.interchange([manifest], reference: "CHECK", at: EDIFACTDateTime(year: 2000, month: 1, day: 1, hour: 0, minute: 0))
                } catch {
                    refusal = ManifestMappingError(
                        code: error.code, consignment: error.consignment,
                        location: "BGM document \(manifest.documentNumber)",
                        message: "the copy for \(decision.agency) (\(decision.format.rawValue)) cannot carry it: "
                            + CUSCARWriter.modelField(of: error.message))
                }
            }
            if let refusal { refusals.append(refusal) } else { kept.append(i) }
        }
        guard kept.count < mapped.count else { return }
        mapped = kept.map { mapped[$0] }
        routes = kept.map { routes[$0] }
        sources = kept.map { sources[$0] }
    }
}

/// One copy routing decided to send: generated (in parallel with the chunk's others) after the filing.
struct PlannedCopy {
    var rule: RoutingRule
    var agency: PartnerConfiguration
    /// The manifest the copy is cut from, and what the rule selected of it (nil: the manifest as it is).
    var source: Manifest
    var selection: RoutingDecision?
    /// The copy's message function: an agency that never had the manifest gets an original.
    var function: ManifestFunction
    /// Why: the rule's reason with the consignments' reasons.
    var reason: String
    var name: String
    var reference: String

    /// The copy's content. Cut with the copy's generation, on every core, rather than where it is planned, on the
    /// filing thread, which files one chunk at a time: there it was an eighth of that thread's time (perf, a routed
    /// run of 1 000 manifests of 50 consignments).
    func content() -> Manifest {
        var copy = selection.map { Router.copy(of: source, for: $0) } ?? source
        copy.function = function
        return copy
    }
}

extension GatewayPipeline {
    /// The routing rules of every agency in the configuration, in configuration order.
    var routingRules: [RoutingRule] { configuration.partners.compactMap(\.routing) }

    /// Whether manifests are filed and routed at all: only when some agency has a `[partner.routing]` rule.
    /// Without one the gateway is a mailbox that checks syntax and answers receipts (CONTRL, and APERAK for
    /// XML), and judges no manifest content: there is no single window to feed.
    var routesManifests: Bool { configuration.partners.contains { $0.routing != nil } }

    /// The manifest work of an accepted file at `path` when it holds CUSCAR messages (nil otherwise, or when
    /// nothing is routed); mapped later with the chunk.
    func cuscarWork(_ c: Context, path: String, reports: [InterchangeReport], output: ProcessOutput) -> ManifestWork? {
        guard routesManifests, reports.contains(where: { $0.messageTypes.contains("CUSCAR") }) else { return nil }
        if let size = Self.fileSize(path), size > configuration.maxDocumentBytes {
            return ManifestWork(context: c, input: nil, refusals: [ManifestMappingError(
                code: "manifest.too-large", location: "file",
                message: "\(size) bytes is over the \(configuration.maxDocumentBytes) a manifest is mapped in memory")], output: output)
        }
        return ManifestWork(context: c, input: .cuscar(path: path), output: output)
    }

    /// Files the manifests the chunk's decisions mapped, in job order and in one transaction, and plans each
    /// filed manifest's copies. `routed` holds the copies planned for each manifest by earlier chunks whose
    /// commit may not have happened yet (and by earlier manifests of this chunk): an amendment in a later file
    /// is planned against what they send, not only against what the library has committed.
    func fileAndPlan(_ chunk: inout ProcessChunk, routed: inout [Int64: [String: String?]]) {
        let indices = chunk.decisions.indices.filter { chunk.decisions[$0].1.manifests != nil }
        guard !indices.isEmpty else { return }
        var items: [ManifestFilingItem] = []
        for i in indices {
            let work = chunk.decisions[i].1.manifests!
            items += zip(work.mapped, work.modelJSON).map {
                ManifestFilingItem(manifest: $0, partner: work.context.partner.id, batchId: work.context.batch.id, modelJSON: $1)
            }
        }
        let filings: [Result<ManifestFiling, ManifestFilingError>]
        do {
            filings = try store.fileAll(items, now: now())
        } catch {
            for i in indices {
                chunk.decisions[i].1 = transient(PipelineErrorCode.rawIO, "the library could not file the manifests: \(error)",
                                                 chunk.decisions[i].1.line)
            }
            return
        }
        // Plan every copy in job order: an earlier manifest changes who holds a copy.
        var next = 0
        for i in indices {
            let work = chunk.decisions[i].1.manifests!
            var entries: [Routed] = []
            for (manifest, routes) in zip(work.mapped, work.routes) {
                var entry = Routed(manifest: manifest, filing: filings[next])
                next += 1
                if case .success(var filing) = entry.filing {
                    // Copies routed before count as held (a cancellation as withdrawn: nil).
                    for (agency, format) in routed[filing.manifestId] ?? [:] { filing.priorRecipients[agency] = format }
                    (entry.decisions, entry.copies) = plan(manifest, routes: routes, filing: filing, context: work.context)
                    for copy in entry.copies {
                        routed[filing.manifestId, default: [:]][copy.agency.id] = .some(copy.function == .cancel ? nil : copy.rule.format.rawValue)
                    }
                    entry.filing = .success(filing)
                }
                entries.append(entry)
            }
            chunk.routing.append((i, entries))
        }
    }

    /// Generates every planned copy of the chunk at once, then finishes each decision that found manifests
    /// with its copies and deliveries, routing records, APERAK, line and output.
    func generateAndFinish(_ chunk: inout ProcessChunk) {
        guard !chunk.routing.isEmpty else { return }
        let stripes = ProcessInfo.processInfo.activeProcessorCount
        let planned = chunk.routing.flatMap { $0.plan.flatMap(\.copies) }
        let at = now()
        // Each copy is also put in the raw store here, on every core (not durably: the chunk's syncfs makes
        // it so before the commit); only signing stays in job order.
        var generated = Stripes.balanced(planned, threads: stripes) { copy in
            let manifest = copy.content()
            let bytes = Result { try self.generate(copy, manifest, at: at) }
            return GeneratedCopy(bytes: bytes, stored: (try? bytes.get()).map { bytes in
                Result { () throws(RawStoreError) in try self.raw.put(bytes: bytes, durable: false).digest.hex }
            }, bills: manifest.consignments.map(\.billOfLading),
               containers: Array(Set(manifest.containers.map(\.number) + manifest.consignments.flatMap(\.containerNumbers))).sorted())
        }[...]
        // The ledger's record of every rule's decision, also on every core.
        var decisionsJSON = Stripes.balanced(chunk.routing.flatMap { $0.plan.map(\.decisions) }, threads: stripes) { decisions in
            LibraryJSON.decisions(decisions)
        }[...]
        for (i, plan) in chunk.routing {
            var plan = plan
            for e in plan.indices {
                plan[e].bytes = Array(generated.prefix(plan[e].copies.count))
                generated = generated.dropFirst(plan[e].copies.count)
                plan[e].decisionsJSON = decisionsJSON.popFirst()!
            }
            chunk.decisions[i].1 = finish(chunk.decisions[i].1, work: chunk.decisions[i].1.manifests!, routed: plan)
        }
        chunk.routing = []
    }

    /// One filed (or refused) manifest of a work, with what routing planned and generated for it.
    struct Routed {
        var manifest: Manifest
        var filing: Result<ManifestFiling, ManifestFilingError>
        var decisions: [RoutingDecision] = []
        var copies: [PlannedCopy] = []
        var bytes: [GeneratedCopy] = []
        var decisionsJSON = ""
    }

    /// A planned copy's bytes (or why the agency's format cannot carry it), its digest once stored, and the
    /// bills of lading and containers it names, for the ledger.
    struct GeneratedCopy {
        var bytes: Result<[UInt8], Error>
        var stored: Result<String, RawStoreError>?
        var bills: [String]
        var containers: [String]
    }

    /// Finishes one decision whose manifests were filed (or refused).
    private func finish(_ decision: ProcessDecision, work: ManifestWork, routed: [Routed]) -> ProcessDecision {
        var decision = decision
        decision.manifests = nil
        let c = work.context
        var refusals = work.refusals
        var notes: [String] = []
        var routedNames: [String] = []
        for entry in routed {
            let manifest = entry.manifest
            switch entry.filing {
            case .failure(let error):
                refusals.append(ManifestMappingError(code: error.code, location: "BGM document \(manifest.documentNumber)",
                                                     message: error.message))
            case .success(let filing):
                do {
                    let (record, requests, names) = try deliver(entry, filing: filing, context: c)
                    decision.deliveries += requests
                    decision.routing.append(record)
                    routedNames += names
                    let verb = filing.alreadyFiled ? "already filed as" : "filed as"
                    notes.append("manifest \(manifest.documentNumber) (\(manifest.function.rawValue), \(manifest.consignments.count) consignment(s)) "
                                 + "\(verb) version \(filing.version); "
                                 + (record.copies.isEmpty ? "no agency selected it" : "routed to " + record.copies.map(\.agency).joined(separator: ", ")))
                } catch let error as SignatureError {
                    // The gateway's own key is unusable: nothing is routed unsigned; an operator fixes it and reruns.
                    return ProcessDecision(
                        result: .failed(code: error.code, message: "\(error)", disposition: .permanent, output: nil),
                        line: failedLine(c.line, "copy of manifest \(manifest.documentNumber) not signed: \(error)"))
                } catch let error as CopyNotWritable {
                    // A copy the model cannot be written into (a value the agency's format refuses): retried would
                    // not help; the operator sees which agency and why.
                    return ProcessDecision(
                        result: .failed(code: "route.unwritable", message: "\(error)", disposition: .permanent, output: nil),
                        line: failedLine(c.line, "copy of manifest \(manifest.documentNumber) not written: \(error)"))
                } catch {
                    // Storing the copy failed (a full disk, an I/O error): nothing was committed; retried with backoff.
                    return transient(PipelineErrorCode.rawIO, "copy of manifest \(manifest.documentNumber) not stored: \(error)",
                                     failedLine(c.line, "copy of manifest \(manifest.documentNumber) not stored: \(error)"))
                }
            }
        }
        var output = work.output
        let filed = routed.filter { if case .success = $0.filing { true } else { false } }.count
        if !refusals.isEmpty {
            notes.append("\(refusals.count) manifest error(s): "
                         + refusals.prefix(3).map(\.description).joined(separator: "; ") + (refusals.count > 3 ? "; ..." : ""))
        }
        do {
            if let name = try applicationReceipt(&decision, refusals: refusals, context: c) { output.receipts.append(name) }
        } catch let error as RawStoreError {
            // Not stored (a full disk): the file must still be answered, so the job is retried, not closed.
            return transient(PipelineErrorCode.rawIO, "APERAK not stored: \(error)", failedLine(c.line, "APERAK not stored: \(error)"))
        } catch {
            notes.append("no APERAK: \(error)")
        }
        decision.line.routed = routedNames.isEmpty ? nil : routedNames
        decision.line.reason = ([decision.line.reason] + notes).compactMap { $0 }.joined(separator: "; ")
        if filed == 0 && !refusals.isEmpty && !c.replay {
            // Nothing of the file reached the library: the file is rejected by its content.
            let reason = "manifest refused: " + refusals.prefix(3).map(\.description).joined(separator: "; ")
            decision.line.outcome = .rejected
            decision.batchState = (c.batch.id, .rejected, reason)
            output.outcome = IntakeFileOutcome.rejected.rawValue
            output.findings = reason
        }
        output.routed = routedNames.isEmpty ? nil : routedNames
        decision.result = .succeeded(output: JobJSON.encode(output))
        return decision
    }

    /// The APERAK answering a file's content, when the partner's `aperak` setting wants one (always, or on
    /// rejection when there are refusals), added to the decision's deliveries; returns its name.
    func applicationReceipt(_ decision: inout ProcessDecision, refusals: [ManifestMappingError], context c: Context) throws -> String? {
        let wanted = c.partner.acknowledgement.aperak == .always
            || (c.partner.acknowledgement.aperak == .onRejection && !refusals.isEmpty)
        guard wanted && !c.replay else { return nil }
        let name = Self.receiptName(kind: "APERAK", batchId: c.batch.id, reference: "", stamp: c.input.stamp)
        let bytes = try AperakBuilder.fileAperak(
            fileName: c.input.name ?? c.batch.originalName,
            errors: refusals.prefix(99).map { error in
                ApplicationError(code: "SWG-MAN", text: error.description, reference: error.consignment.map { ("BM", $0) })
            },
            ourIdentity: ourIdentity, recipient: recipient(c.partner), syntax: c.partner.characterSet,
            reference: Self.replyReference(stamp: c.input.stamp, index: 0), documentNumber: "B\(c.batch.id)",
            at: Self.edifactDate(now()), options: AperakOptions(segmentSuffix: "\n"))
        decision.deliveries += try deliveries(kind: ReceiptKind.aperak.rawValue, name: name, bytes: bytes, context: c)
        return name
    }

    /// The copies of one filed manifest: one per agency its rules select (or that must hear of a cancellation),
    /// with every rule's decision for the ledger. `routes` is what `Router` decided for it while it was mapped.
    private func plan(_ manifest: Manifest, routes: [RoutingDecision], filing: ManifestFiling, context c: Context)
        -> ([RoutingDecision], [PlannedCopy])
    {
        let rules = routingRules
        var decisions = routes
        var copies: [(rule: RoutingRule, source: Manifest, selection: RoutingDecision?, function: ManifestFunction, reason: String)] = []
        switch manifest.function {
        case .cancel:
            // Whoever had a copy hears of the cancellation, and no one else: a bare cancellation of the number.
            for rule in rules where filing.priorRecipients[rule.agency] != nil {
                copies.append((rule, Self.bareCancellation(manifest), nil, .cancel, "cancellation of a manifest it was sent"))
            }
            decisions = decisions.map { d in
                var d = d
                d.selected = filing.priorRecipients[d.agency] != nil
                d.reason = d.selected ? "cancellation: it was sent an earlier version" : "cancellation: it was never sent a copy"
                d.consignments = []
                return d
            }
        case .original, .replace, .change:
            for (rule, decision) in zip(rules, decisions) {
                if decision.selected {
                    // An agency that never had this manifest gets what it now needs as an original.
                    let function = filing.priorRecipients[rule.agency] == nil ? .original : manifest.function
                    let why = decision.consignments.filter(\.selected).prefix(3).map { "\($0.billOfLading): \($0.reason)" }
                    copies.append((rule, manifest, decision, function, ([decision.reason] + why).joined(separator: "; ")
                                   + (decision.consignments.filter(\.selected).count > 3 ? "; ..." : "")))
                } else if manifest.function == .replace && filing.priorRecipients[rule.agency] != nil {
                    // The replacement no longer selects it: what it had is withdrawn.
                    copies.append((rule, Self.bareCancellation(manifest), nil, .cancel, "the replacement no longer selects it: " + decision.reason))
                }
            }
        }
        let planned = copies.enumerated().compactMap { index, copy -> PlannedCopy? in
            guard let agency = configuration.partner(id: copy.rule.agency) else { return nil }
            return PlannedCopy(rule: copy.rule, agency: agency, source: copy.source, selection: copy.selection, function: copy.function,
                               reason: copy.reason,
                               name: Self.copyName(format: copy.rule.format, partner: c.partner.id, manifest: manifest, version: filing.version),
                               reference: Self.copyReference(batchId: c.batch.id, index: index))
        }
        return (decisions, planned)
    }

    /// Stores a manifest's generated copies and asks for their deliveries (signed where the agency asks);
    /// returns the routing record, the delivery requests and the copies' `AGENCY/name`s.
    private func deliver(_ entry: Routed, filing: ManifestFiling, context c: Context) throws -> (RoutingRecord, [JobRequest], [String]) {
        var requests: [JobRequest] = []
        var records: [RoutedCopyRecord] = []
        var names: [String] = []
        for (copy, generated) in zip(entry.copies, entry.bytes) {
            let bytes: [UInt8]
            do { bytes = try generated.bytes.get() } catch { throw CopyNotWritable(agency: copy.agency.id, file: copy.name, reason: "\(error)") }
            var target = c
            target.partner = copy.agency
            target.replay = false
            let (asked, sha256) = try storedDeliveries(kind: copy.rule.format.deliveryKind, name: copy.name, bytes: bytes,
                                                       stored: try generated.stored?.get(), context: target)
            requests += asked
            records.append(RoutedCopyRecord(
                agency: copy.agency.id, format: copy.rule.format.rawValue, function: copy.function.rawValue, rule: copy.reason,
                bills: generated.bills, containers: generated.containers,
                fileName: copy.name, sha256: sha256,
                signed: copy.agency.signature.signOutbound, deliverKey: asked.last?.idempotencyKey ?? copy.name))
            names.append("\(copy.agency.id)/\(copy.name)")
        }
        let record = RoutingRecord(manifestId: filing.manifestId, version: filing.version,
                                   decisionsJSON: entry.decisionsJSON, copies: records)
        return (record, requests, names)
    }

    /// The copy's bytes in the agency's format (`manifest`: its content); EDIFACT enveloped from the gateway to the agency.
    private func generate(_ copy: PlannedCopy, _ manifest: Manifest, at date: Date) throws -> [UInt8] {
        let (format, agency, reference) = (copy.rule.format, copy.agency, copy.reference)
        switch format {
        case .cuscarD95B, .cuscarD96A:
            // The agency's repertoire (its `character_set`); names it cannot carry (Chinese in UNOC) are sent in
            // UNOY, syntax version 4, rather than not at all: ISO 9735 v4 is what Unicode text needs.
            let syntax = agency.characterSet
            let version = syntax == .UNOW || syntax == .UNOX || syntax == .UNOY ? 4 : 3
            var writer = CUSCARWriter(directory: format == .cuscarD95B ? .d95B : .d96A, sender: ourIdentity, recipient: recipient(agency),
                                      syntaxIdentifier: syntax, syntaxVersion: version, segmentSuffix: "\n")
            do {
                return try writer.interchange([manifest], reference: reference, at: Self.edifactDate(date))
            } catch {
                guard syntax != .UNOY, error.message.contains("repertoire") else { throw error }
                writer.syntaxIdentifier = .UNOY
                writer.syntaxVersion = 4
                return try writer.interchange([manifest], reference: reference, at: Self.edifactDate(date))
            }
        case .manifestXML: return try XMLManifestWriter.manifest(manifest)
        case .ciqXML: return try XMLManifestWriter.ciqCopy(manifest, generatedAt: date)
        case .borderXML: return try XMLManifestWriter.borderCopy(manifest, generatedAt: date)
        }
    }

    /// A cancellation that says only which manifest is withdrawn: number, function, transport.
    static func bareCancellation(_ manifest: Manifest) -> Manifest {
        var copy = manifest
        copy.function = .cancel
        copy.consignments = []
        copy.containers = []
        return copy
    }

    /// UNB S003 for a partner: its first identity (id, qualifier), else its id.
    func recipient(_ partner: PartnerConfiguration) -> [String] {
        partner.identities.first.map { [$0.id] + ($0.qualifier.map { [$0] } ?? []) } ?? [partner.id]
    }

    /// `<FORMAT>-<carrier>-<document number>-v<version>.<edi|xml>`: one name per manifest version and agency
    /// directory, the same on a rerun.
    static func copyName(format: RoutedFormat, partner: String, manifest: Manifest, version: Int) -> String {
        let ext = format.deliveryKind.hasPrefix("CUSCAR") ? "edi" : "xml"
        return "\(format.deliveryKind)-\(safeName(partner))-\(safeName(manifest.documentNumber))-v\(version).\(ext)"
    }

    /// A partner's text made safe inside a file name: letters, digits, '-' and '_' (others become '_'), 35 at most.
    static func safeName(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(35))
    }

    /// The copy's interchange reference (an..14): `R` + the batch in base 36 + the copy's index.
    static func copyReference(batchId: Int64, index: Int) -> String {
        String(("R" + String(batchId, radix: 36) + "X" + String(index, radix: 36)).uppercased().prefix(14))
    }
}

extension RoutedFormat {
    /// The deliver job's kind, and the copy's file name prefix.
    var deliveryKind: String {
        switch self {
        case .cuscarD95B, .cuscarD96A: "CUSCAR"
        case .manifestXML: "MANIFEST"
        case .ciqXML: "CIQ"
        case .borderXML: "BORDER"
        }
    }
}

/// A copy the agency's format cannot carry (the writer refused a value): an operator's matter, not retried.
struct CopyNotWritable: Error, CustomStringConvertible {
    var agency: String
    var file: String
    var reason: String
    var description: String { "\(file) for \(agency): \(reason)" }
}
