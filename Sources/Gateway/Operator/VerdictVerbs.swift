import Foundation

/// `gateway verdict explain REF` and `gateway verdict list`: the combined state of consignments and containers,
/// derived from the agencies' instructions by the merge rule, with the facts and copies behind it.
public enum VerdictVerbs {
    /// Exit status: 0 when REF names a consignment, 1 when the library holds none (or cannot be read), 2 on a
    /// configuration error.
    public static func explain(reference: String, configPath: String, json: Bool, now: Date = Date(),
                               out: OutputSink, err: OutputSink) -> OperatorStatus {
        OperatorSession.with(path: configPath, out: out, err: err) { session in
            let settings = session.configuration.verdict
            let verdicts = try session.store?.verdicts(matching: reference, now: now, settings: settings) ?? []
            let notices = try session.store?.noticeStory(verdicts) ?? []
            if json {
                out.line(OperatorFormat.json(Document(reference: reference, rule: rule(settings), consignments: verdicts.map(Entry.init),
                                                      notices: notices.map(Notice.init))))
            } else if verdicts.isEmpty {
                err.line("\(reference): no active consignment has this bill of lading, container or manifest number")
            } else {
                out.line("rule: " + rule(settings))
                for v in verdicts {
                    out.line("")
                    out.line("bill of lading \(v.billOfLading) (manifest \(v.manifest), carrier \(v.carrier), filed \(OperatorFormat.time(v.filedAt))): \(v.state.rawValue.uppercased())")
                    for unit in v.units {
                        let verdict = unit.verdict
                        out.line("  " + (unit.container.map { "container \($0)" } ?? "goods in no container") + ": "
                                 + verdict.state.rawValue + " - " + verdict.reason)
                        out.line("    routed to: " + (verdict.routedTo.isEmpty ? "no agency" : verdict.routedTo.joined(separator: ", "))
                                 + "; positions: " + (verdict.positions.isEmpty ? "none yet"
                                     : verdict.positions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.rawValue)" }.joined(separator: ", "))
                                 + (verdict.inspected.isEmpty ? "" : "; inspected by " + verdict.inspected.joined(separator: ", ")))
                    }
                    if v.facts.isEmpty {
                        out.line("  no instruction yet")
                    } else {
                        let rows = v.facts.map { f in
                            [OperatorFormat.time(f.issuedAt), OperatorFormat.time(f.receivedAt), f.agency, f.action.rawValue,
                             "\(f.object.kind.rawValue) \(f.object.reference)", f.reference, f.batchId.map { "B\($0)" } ?? "-",
                             f.verification + (f.signer.map { " " + String($0.prefix(16)) } ?? "")]
                        }
                        for line in OperatorFormat.table(["ISSUED", "RECEIVED", "AGENCY", "ACTION", "OBJECT", "REFERENCE", "BATCH", "SIGNATURE"],
                                                         rows, alignments: []) {
                            out.line("  " + line)
                        }
                    }
                    for f in v.expired {
                        out.line("  not applied: \(f.agency) \(f.action.rawValue) of \(f.object.kind.rawValue) \(f.object.reference) (\(f.reference), "
                                 + "batch \(f.batchId.map(String.init) ?? "-")) arrived \(OperatorFormat.time(f.receivedAt)), more than "
                                 + "\(settings.unknownObjectWaitSeconds) s before these goods were filed")
                    }
                }
                if !notices.isEmpty {
                    out.line("")
                    out.line("sent to terminals:")
                    let rows = notices.map { n in
                        [OperatorFormat.time(n.sentAt), n.terminal, n.kind.rawValue, n.reference, n.fileName, n.containers.joined(separator: " "),
                         n.collectedAt.map { "picked up " + OperatorFormat.time($0) } ?? (n.delivered ? "in its pickup" : "not yet delivered")]
                    }
                    for line in OperatorFormat.table(["SENT", "TERMINAL", "KIND", "REFERENCE", "FILE", "CONTAINERS", "PICKUP"], rows, alignments: []) {
                        out.line("  " + line)
                    }
                }
            }
            return verdicts.isEmpty ? .refused : .success
        }
    }

    /// Exit status: 0 (an empty list included), 1 when the ledger cannot be read, 2 on a configuration error.
    public static func list(state: CombinedState?, limit: Int, configPath: String, json: Bool, now: Date = Date(),
                            out: OutputSink, err: OutputSink) -> OperatorStatus {
        OperatorSession.with(path: configPath, out: out, err: err) { session in
            let settings = session.configuration.verdict
            let all = try session.store?.allVerdicts(now: now, settings: settings, limit: limit) ?? []
            let shown = all.filter { state == nil || $0.state == state }
            if json {
                out.line(OperatorFormat.json(Document(reference: nil, rule: rule(settings), consignments: shown.map(Entry.init), notices: nil)))
            } else if shown.isEmpty {
                out.line(state.map { "no consignment is \($0.rawValue)" } ?? "no consignment in the library")
            } else {
                let rows = shown.map { v in
                    [v.manifest, v.billOfLading, v.state.rawValue, v.units.compactMap(\.container).joined(separator: " "),
                     v.units.first(where: { $0.verdict.state == v.state })?.verdict.reason ?? ""]
                }
                for line in OperatorFormat.table(["MANIFEST", "BILL", "STATE", "CONTAINERS", "WHY"], rows, alignments: []) { out.line(line) }
                out.line(OperatorFormat.count(shown.count, "consignment"))
            }
            return .success
        }
    }

    static func rule(_ settings: VerdictSettings) -> String {
        "any hold wins; any inspect gives one inspection (joint when several agencies ask); a release from every agency "
            + "the goods were routed to releases them; goods routed to no agency are released \(settings.silenceSeconds) s after filing "
            + "when no agency spoke; an agency's latest instruction (by issue time) is its position; an instruction that "
            + "arrived more than \(settings.unknownObjectWaitSeconds) s before the goods were filed does not apply to them"
    }

    struct Document: Encodable {
        @Nullable var reference: String?
        var rule: String
        var consignments: [Entry]
        /// explain only: what the terminals were sent about these goods, and whether they picked it up.
        var notices: [Notice]?
    }

    struct Notice: Encodable {
        var terminal: String
        var kind: String
        var reference: String
        var file: String
        var containers: [String]
        var sentAt: String
        var delivered: Bool
        @Nullable var pickedUpAt: String?

        init(_ n: NoticeStory) {
            terminal = n.terminal
            kind = n.kind.rawValue
            reference = n.reference
            file = n.fileName
            containers = n.containers
            sentAt = OperatorFormat.time(n.sentAt)
            delivered = n.delivered
            pickedUpAt = n.collectedAt.map(OperatorFormat.time)
        }
    }

    struct Entry: Encodable {
        var manifest: String
        var carrier: String
        var billOfLading: String
        var state: String
        var filedAt: String
        var units: [Unit]
        var facts: [Fact]
        /// Facts that arrived more than the unknown-object wait before the goods were filed: not applied.
        var expired: [Fact]

        struct Unit: Encodable {
            @Nullable var container: String?
            var state: String
            var reason: String
            var routedTo: [String]
            var positions: [String: String]
            var holding: [String]
            var inspecting: [String]
            var released: [String]
            var waitingFor: [String]
            var inspected: [String]
            @Nullable var silentUntil: String?
        }

        struct Fact: Encodable {
            var agency: String
            var action: String
            var objectKind: String
            var object: String
            @Nullable var manifest: String?
            var reference: String
            @Nullable var issuedAt: String?
            var receivedAt: String
            @Nullable var batchId: Int64?
            var verification: String
            @Nullable var signerSha256: String?
            @Nullable var note: String?
        }

        init(_ v: ConsignmentVerdict) {
            manifest = v.manifest
            carrier = v.carrier
            billOfLading = v.billOfLading
            state = v.state.rawValue
            filedAt = OperatorFormat.time(v.filedAt)
            units = v.units.map { u in
                let x = u.verdict
                return Unit(container: u.container, state: x.state.rawValue, reason: x.reason, routedTo: x.routedTo,
                            positions: x.positions.mapValues(\.rawValue), holding: x.holding, inspecting: x.inspecting,
                            released: x.released, waitingFor: x.waitingFor, inspected: x.inspected,
                            silentUntil: x.silentUntil.map(OperatorFormat.time))
            }
            facts = v.facts.map(Fact.init)
            expired = v.expired.map(Fact.init)
        }
    }
}

extension VerdictVerbs.Entry.Fact {
    init(_ f: InstructionFact) {
        self.init(agency: f.agency, action: f.action.rawValue, objectKind: f.object.kind.rawValue, object: f.object.reference,
                  manifest: f.object.manifest, reference: f.reference, issuedAt: f.issuedAt.map(OperatorFormat.time),
                  receivedAt: OperatorFormat.time(f.receivedAt), batchId: f.batchId, verification: f.verification,
                  signerSha256: f.signer, note: f.note)
    }
}
