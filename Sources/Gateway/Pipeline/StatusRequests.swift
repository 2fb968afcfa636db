import Foundation

// Issue 7: a status request dropped by a partner (schemas/status-request-1.xsd) is answered with one status file in
// its pickup, made with the job and delivered as the file's receipt. What a partner may see: a carrier the
// consignments of the manifests it filed; an agency the consignments routed to it; a terminal those of the
// manifests arriving at its ports (all, without ports). Anything else it names is "not found", whether the
// library holds it or not, so a request cannot tell one partner what another filed.

extension GatewayPipeline {
    /// Answers a status request: the reply's delivery in `decision`, or an APERAK with the refusals.
    func answerStatusRequest(_ decision: inout ProcessDecision, context c: Context, content: [UInt8], output: inout ProcessOutput) {
        let request: StatusRequest
        switch XMLStatusRequestMapping.request(from: content) {
        case .success(let read): request = read
        case .failure(let failure):
            let reason = "status request refused: " + failure.errors.prefix(3).map(\.description).joined(separator: "; ")
            do {
                if let name = try applicationReceipt(&decision, refusals: failure.errors, context: c) { output.receipts.append(name) }
            } catch let error as RawStoreError {
                // Not stored (a full disk): the file must still be answered, so the job is retried, not closed.
                decision = transient(PipelineErrorCode.rawIO, "APERAK not stored: \(error)", failedLine(c.line, "APERAK not stored: \(error)"))
                return
            } catch {
                decision.line.reason = "no APERAK: \(error)"
            }
            decision.line.outcome = .rejected
            decision.line.reason = ([reason, decision.line.reason].compactMap { $0 }).joined(separator: "; ")
            decision.batchState = (c.batch.id, .rejected, reason)
            output.outcome = IntakeFileOutcome.rejected.rawValue
            output.findings = reason
            decision.result = .succeeded(output: JobJSON.encode(output))
            return
        }
        c.libraryReady()
        do {
            let at = now()
            var entries: [StatusEntry] = []
            var notFound: [InstructionObject] = []
            var answered: Set<String> = []
            var ports: [Int64: String?] = [:]
            for object in request.objects {
                let visible = try store.verdicts(matching: object.reference, now: at, settings: configuration.verdict).filter { v in
                    let named = switch object.kind {
                    case .bill: v.billOfLading == object.reference
                    case .container: v.units.contains { $0.container == object.reference }
                    case .manifest: v.manifest == object.reference
                    }
                    return try named && maySee(c.partner, v) {
                        if let known = ports[v.manifestId] { return known }
                        let port = try store.latestHeader(manifestId: v.manifestId)?.transport.arrivalPort
                        ports[v.manifestId] = port
                        return port
                    }
                }
                if visible.isEmpty { notFound.append(object) }
                for v in visible where answered.insert("\(v.manifestId) \(v.billOfLading)").inserted {
                    entries.append(Self.statusEntry(v, for: c.partner))
                }
            }
            let report = StatusReport(reference: "Q\(c.batch.id)", inReplyTo: request.reference, entries: entries, notFound: notFound)
            let (name, kind, bytes) = try statusFile(report, to: c.partner, base: "REPLY-" + Self.safeName(request.reference), at: at)
            decision.deliveries += try deliveries(kind: kind, name: name, bytes: bytes, context: c)
            output.receipts.append(name)
            decision.line.reason = "status request \(request.reference): \(entries.count) consignment(s)"
                + (notFound.isEmpty ? "" : ", \(notFound.count) reference(s) not found") + "; answered by \(name)"
            decision.result = .succeeded(output: JobJSON.encode(output))
        } catch {
            decision = transient(PipelineErrorCode.rawIO, "status request not answered: \(error)", decision.line)
        }
    }

    /// Whether `partner` may be told the state of a consignment (`arrivalPort`: where its manifest arrives).
    func maySee(_ partner: PartnerConfiguration, _ v: ConsignmentVerdict, arrivalPort: () throws -> String?) rethrows -> Bool {
        switch partner.role {
        case .carrier: v.carrier == partner.id
        case .agency: v.units.contains { $0.verdict.routedTo.contains(partner.id) }
        case .terminal: try partner.ports.map { ports in try arrivalPort().map(ports.contains) ?? false } ?? true
        }
    }
}
