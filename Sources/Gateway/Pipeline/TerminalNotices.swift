import EDIFACT
import Foundation
import Jobs

// Issue 7, out to the terminal: "one release". After each run's jobs, the combined state of every container is
// derived again from the facts (VerdictMerge), and each terminal is sent what changed since what it was last
// told: one COREOR per manifest releasing every container that became released (one EQD each, the release
// number, the bills in it, an expiry), and one cancelling COREOR per release withdrawn when an agency turned
// to hold or inspect after the release went out; "one inspection": one notice per manifest of the boxes that
// went to inspection, listing every agency that will attend (joint when more than one), and one of the boxes
// held, with who holds them. The notices and their deliver jobs are recorded in one
// transaction after the files are durable in the raw store, so a crash before it sends them on the next run
// and a crash after it sends nothing twice (the deliver jobs are keyed by file name).
//
// Only manifests that a new instruction or a new filing touched since the last sweep are read again (the
// sweep's mark moves with the notices it records). Goods routed to no agency and released by silence are
// shown by `gateway verdict` but not yet sent to a terminal.
// Inspection and hold notices are the project's XML (schemas/terminal-notice-1.xsd): which boxes, whose bills,
// which agencies attend or hold. Not yet: XML releases for terminals that take XML, per-terminal ports.

/// A notice sent in a run, for the report: to a terminal (release, cancel, inspection, hold: `items` are
/// containers) or a status to a carrier or an agency (status: `items` are bills of lading).
public struct NoticeLine: Sendable, Codable, Equatable {
    public var partner: String
    public var file: String
    public var kind: String
    public var manifest: String
    public var reference: String
    public var items: [String]
}

extension GatewayPipeline {
    /// Sends every terminal the releases, cancellations, inspection and hold notices that the current facts
    /// call for, and every carrier and agency the consignments' changed statuses; returns them and the deliver
    /// jobs enqueued.
    func sendNotices() throws -> (lines: [NoticeLine], jobs: [Int64]) {
        let terminals = configuration.partners.filter { $0.role == .terminal }
        let at = now()
        let (verdicts, mark) = try store.verdictsToSweep(now: at, silence: TimeInterval(configuration.verdict.silenceSeconds))
        guard !verdicts.isEmpty else { return ([], try store.recordNotices([], enqueue: [], mark: mark, now: at)) }
        // Each container's state per manifest: the weightiest of the goods in it, with their bills and the
        // agencies inspecting or holding any of them.
        struct Box {
            var state = CombinedState.released
            var bills: [String] = []
            var inspecting: Set<String> = []
            var holding: Set<String> = []
            /// Who the terminal must be told about for this state (inspecting or holding agencies).
            var agencies: [String] { (state == .held ? holding : inspecting).sorted() }
        }
        var boxes: [Int64: [String: Box]] = [:]
        var manifests: [Int64: String] = [:]
        for v in verdicts {
            manifests[v.manifestId] = v.manifest
            for unit in v.units {
                guard let container = unit.container else { continue }
                var box = boxes[v.manifestId]?[container] ?? Box()
                box.state = max(box.state, unit.verdict.state)
                box.bills.append(v.billOfLading)
                box.inspecting.formUnion(unit.verdict.inspecting)
                box.holding.formUnion(unit.verdict.holding)
                boxes[v.manifestId, default: [:]][container] = box
            }
        }
        var last: [String: TerminalNotice] = [:]
        for notice in try store.lastNotices() { last["\(notice.terminal) \(notice.manifestId) \(notice.container)"] = notice }

        var notices: [TerminalNotice] = []
        var requests: [JobRequest] = []
        var lines: [NoticeLine] = []
        for terminal in terminals {
            for (manifestId, containers) in boxes.sorted(by: { $0.key < $1.key }) {
                // What changed since the terminal was last told about each box: a release once it is released;
                // a cancellation of its release when it stops being released; an inspection notice when it goes
                // to inspection (again when other agencies join); a hold notice when it is held.
                var releases: [String] = [], inspections: [String] = [], holds: [String] = []
                var cancels: [String: [String]] = [:]
                for (container, box) in containers.sorted(by: { $0.key < $1.key }) {
                    let told = last["\(terminal.id) \(manifestId) \(container)"]
                    if box.state == .released {
                        if told?.kind != .release { releases.append(container) }
                        continue
                    }
                    if let told, told.kind == .release { cancels[told.reference, default: []].append(container) }
                    let agencies = box.agencies.joined(separator: ",")
                    if box.state == .inspection && (told?.kind != .inspection || told?.agencies != agencies) { inspections.append(container) }
                    if box.state == .held && (told?.kind != .hold || told?.agencies != agencies) { holds.append(container) }
                }
                guard !(releases.isEmpty && cancels.isEmpty && inspections.isEmpty && holds.isEmpty), let number = manifests[manifestId],
                      let model = try store.latestHeader(manifestId: manifestId) else { continue }
                let bills = containers.mapValues { Array(Set($0.bills)).sorted() }
                func send(_ kind: TerminalNotice.Kind, reference: String, name: String, bytes: [UInt8], containers list: [String]) throws {
                    let (asked, sha256) = try storedDeliveries(to: terminal, batchId: nil, kind: kind == .release || kind == .cancel ? "COREOR" : "NOTICE",
                                                               name: name, bytes: bytes, records: false)
                    requests += asked
                    for c in list {
                        let agencies = kind == .inspection || kind == .hold ? containers[c]?.agencies.joined(separator: ",") : nil
                        notices.append(TerminalNotice(terminal: terminal.id, manifestId: manifestId, container: c, kind: kind,
                                                      reference: reference, agencies: agencies, fileName: name, sha256: sha256,
                                                      deliverKey: asked.last?.idempotencyKey ?? name))
                    }
                    lines.append(NoticeLine(partner: terminal.id, file: name, kind: kind.rawValue, manifest: number, reference: reference,
                                            items: list))
                    logger.info("terminal notice", metadata: ["terminal": "\(terminal.id)", "file": "\(name)", "kind": "\(kind.rawValue)",
                                                              "manifest": "\(number)", "containers": "\(list.count)"])
                }
                var writer = COREORWriter(directory: .d96A, sender: ourIdentity, recipient: recipient(terminal), segmentSuffix: "\n")
                writer.syntaxIdentifier = .UNOC
                let base = "\(Self.safeName(number))"
                // Cancellations first: a box released and now held gets its cancellation, then its hold notice.
                for (withdrawn, list) in cancels.sorted(by: { $0.key < $1.key }) {
                    let o = order(.cancel, reference: withdrawn, cancels: withdrawn, model: model, terminal: terminal, containers: list,
                                  bills: bills, at: at)
                    try send(.cancel, reference: withdrawn, name: "COREOR-\(base)-\(Self.safeName(withdrawn))-CANCEL.edi",
                             bytes: try writer.interchange([o], reference: Self.noticeReference("X", withdrawn), at: Self.edifactDate(at)),
                             containers: list)
                }
                if !releases.isEmpty {
                    let reference = "R\(manifestId)-\(try store.noticeCount(terminal: terminal.id, manifestId: manifestId, kind: .release) + 1)"
                    let o = order(.release, reference: reference, cancels: nil, model: model, terminal: terminal, containers: releases,
                                  bills: bills, at: at)
                    try send(.release, reference: reference, name: "COREOR-\(base)-\(Self.safeName(reference)).edi",
                             bytes: try writer.interchange([o], reference: Self.noticeReference("N", reference), at: Self.edifactDate(at)),
                             containers: releases)
                }
                for (kind, list, letter) in [(TerminalNotice.Kind.inspection, inspections, "J"), (.hold, holds, "H")] where !list.isEmpty {
                    let reference = "\(letter)\(manifestId)-\(try store.noticeCount(terminal: terminal.id, manifestId: manifestId, kind: kind) + 1)"
                    let entries = list.map { c in NoticeContainer(number: c, bills: bills[c] ?? [], agencies: containers[c]?.agencies ?? []) }
                    let xmlKind = kind == .hold ? "hold" : entries.contains { $0.agencies.count > 1 } ? "joint-inspection" : "inspection"
                    let bytes = try XMLManifestWriter.terminalNotice(reference: reference, kind: xmlKind, manifest: model,
                                                                     containers: entries, generatedAt: at)
                    try send(kind, reference: reference, name: "\(kind == .hold ? "HOLD" : "INSPECTION")-\(base)-\(Self.safeName(reference)).xml",
                             bytes: bytes, containers: list)
                }
            }
        }
        // Feedback: each consignment's combined state to its carrier and to every agency it was routed to, when it
        // changed since that partner was last told (one CUSRES per partner and manifest, a message per state).
        let told = try store.lastStatuses()
        var reports: [String: (partner: PartnerConfiguration, manifestId: Int64, number: String, bills: [CombinedState: [String]])] = [:]
        for v in verdicts where v.state != .pending {
            for id in [v.carrier] + Set(v.units.flatMap(\.verdict.routedTo)).sorted() {
                guard told["\(id) \(v.manifestId) \(v.billOfLading)"] != v.state, let partner = configuration.partner(id: id) else { continue }
                reports["\(id) \(v.manifestId)", default: (partner, v.manifestId, v.manifest, [:])].bills[v.state, default: []].append(v.billOfLading)
            }
        }
        var statuses: [StatusNotice] = []
        for (_, r) in reports.sorted(by: { $0.key < $1.key }) {
            let reference = "S\(r.manifestId)-\(try store.statusFileCount(partner: r.partner.id, manifestId: r.manifestId) + 1)"
            let name = "CUSRES-\(Self.safeName(r.number))-\(Self.safeName(reference)).edi"
            let bytes = try CUSRESWriter(directory: .d96A, sender: ourIdentity, recipient: recipient(r.partner), segmentSuffix: "\n")
                .interchange(StatusReport(reference: reference, manifest: r.number, bills: r.bills),
                             reference: Self.noticeReference("S", reference), at: Self.edifactDate(at))
            let (asked, sha256) = try storedDeliveries(to: r.partner, batchId: nil, kind: "CUSRES", name: name, bytes: bytes, records: false)
            requests += asked
            for (state, bills) in r.bills {
                for bill in bills {
                    statuses.append(StatusNotice(partner: r.partner.id, manifestId: r.manifestId, billOfLading: bill, state: state,
                                                 fileName: name, sha256: sha256))
                }
            }
            lines.append(NoticeLine(partner: r.partner.id, file: name, kind: "status", manifest: r.number, reference: reference,
                                    items: CombinedState.allCases.flatMap { state in (r.bills[state] ?? []).map { "\($0) \(state.rawValue)" } }))
        }
        if !notices.isEmpty || !statuses.isEmpty { try Durability.syncFileSystems([raw.root]) }
        return (lines, try store.recordNotices(notices, statuses: statuses, enqueue: requests, mark: mark, now: at))
    }

    /// A release order (or its cancellation) of `containers`, from the manifest's header (`model` has no
    /// consignments) and the bills whose goods are in each box.
    private func order(_ function: ReleaseOrder.Function, reference: String, cancels: String?, model: Manifest,
                       terminal: PartnerConfiguration, containers: [String], bills: [String: [String]], at: Date) -> ReleaseOrder {
        let declared = Dictionary(model.containers.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
        return ReleaseOrder(
            function: function, reference: reference, cancels: function == .cancel ? cancels : nil, manifest: model.documentNumber,
            transport: model.transport, terminal: recipient(terminal).first ?? terminal.id,
            expires: function == .release ? at.addingTimeInterval(TimeInterval(configuration.verdict.releaseValidDays) * 86_400) : nil,
            containers: containers.map { number in
                ReleasedContainer(number: number, sizeType: declared[number]?.sizeType, seals: declared[number]?.seals ?? [],
                                  bills: bills[number] ?? [])
            })
    }

    /// A notice interchange's reference (an..14): a letter and the notice's reference without its separator.
    static func noticeReference(_ letter: String, _ reference: String) -> String {
        String((letter + reference.filter { $0.isLetter || $0.isNumber }).prefix(14))
    }
}
