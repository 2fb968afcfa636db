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
// Only manifests that a new instruction or a new filing touched since the last sweep, or whose silence window
// closed since it, are read again (the sweep's mark moves with the notices it records).
// Inspection and hold notices are the project's XML (schemas/terminal-notice-1.xsd): which boxes, whose bills,
// which agencies attend or hold. A terminal with `notices = "xml"` gets its releases and cancellations there too;
// one with `ports` is told only about the manifests arriving at one of them.

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
        // One sweep at a time across the nodes (its mark is one row): another node sweeping now sends all of it.
        guard try store.tryTakeSingleton("swg.notice-sweep") else { return ([], []) }
        defer { try? store.releaseSingleton("swg.notice-sweep") }
        let terminals = configuration.partners.filter { $0.role == .terminal }
        let at = now()
        let (verdicts, mark) = try store.verdictsToSweep(now: at, settings: configuration.verdict)
        guard !verdicts.isEmpty else { return ([], try store.recordNotices([], enqueue: [], mark: mark, now: at)) }
        // Each container's state per manifest: the weightiest of the goods in it, with their bills and the
        // agencies inspecting or holding any of them.
        struct Box {
            var state = CombinedState.released
            var bills: [String] = []
            var inspecting: Set<String> = []
            var holding: Set<String> = []
            var released: Set<String> = []
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
                box.released.formUnion(unit.verdict.released)
                boxes[v.manifestId, default: [:]][container] = box
            }
        }
        var headers: [Int64: Manifest?] = [:]
        func header(_ id: Int64) throws -> Manifest? {
            if let known = headers[id] { return known }
            let read = try store.latestHeader(manifestId: id)
            headers[id] = read
            return read
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
                      let model = try header(manifestId) else { continue }
                if let ports = terminal.ports, !ports.contains(model.transport.arrivalPort ?? "") { continue }
                let bills = containers.mapValues { Array(Set($0.bills)).sorted() }
                func entry(_ c: String, agencies: [String]) -> NoticeContainer { NoticeContainer(number: c, bills: bills[c] ?? [], agencies: agencies) }
                func send(_ kind: TerminalNotice.Kind, reference: String, name: String, bytes: [UInt8], containers list: [String]) throws {
                    let coreor = (kind == .release || kind == .cancel) && terminal.notices != .xml
                    let (asked, sha256) = try storedDeliveries(to: terminal, batchId: nil, kind: coreor ? "COREOR" : "NOTICE",
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
                var writer = COREORWriter(directory: terminal.notices.directory ?? .d96A, sender: ourIdentity, recipient: recipient(terminal), segmentSuffix: "\n")
                writer.syntaxIdentifier = .UNOC
                let base = "\(Self.safeName(number))"
                // Cancellations first: a box released and now held gets its cancellation, then its hold notice.
                let xml = terminal.notices == .xml
                for (withdrawn, list) in cancels.sorted(by: { $0.key < $1.key }) {
                    let name = "\(xml ? "RELEASE" : "COREOR")-\(base)-\(Self.safeName(withdrawn))-CANCEL.\(xml ? "xml" : "edi")"
                    let bytes = xml
                        ? try XMLManifestWriter.terminalNotice(reference: withdrawn + "-X", kind: "release-cancellation", manifest: model,
                                                               containers: list.map { entry($0, agencies: []) }, generatedAt: at, cancels: withdrawn)
                        : try writer.interchange([order(.cancel, reference: withdrawn, cancels: withdrawn, model: model, terminal: terminal,
                                                        containers: list, bills: bills, at: at)],
                                                 reference: Self.noticeReference("X", withdrawn), at: Self.edifactDate(at))
                    try send(.cancel, reference: withdrawn, name: name, bytes: bytes, containers: list)
                }
                if !releases.isEmpty {
                    let reference = "R\(manifestId)-\(try store.noticeCount(terminal: terminal.id, manifestId: manifestId, kind: .release) + 1)"
                    let o = order(.release, reference: reference, cancels: nil, model: model, terminal: terminal, containers: releases,
                                  bills: bills, at: at)
                    let name = "\(xml ? "RELEASE" : "COREOR")-\(base)-\(Self.safeName(reference)).\(xml ? "xml" : "edi")"
                    let bytes = xml
                        ? try XMLManifestWriter.terminalNotice(reference: reference, kind: "release", manifest: model,
                                                               containers: releases.map { entry($0, agencies: containers[$0]?.released.sorted() ?? []) },
                                                               generatedAt: at, validUntil: o.expires)
                        : try writer.interchange([o], reference: Self.noticeReference("N", reference), at: Self.edifactDate(at))
                    try send(.release, reference: reference, name: name, bytes: bytes, containers: releases)
                }
                for (kind, list, letter) in [(TerminalNotice.Kind.inspection, inspections, "J"), (.hold, holds, "H")] where !list.isEmpty {
                    let reference = "\(letter)\(manifestId)-\(try store.noticeCount(terminal: terminal.id, manifestId: manifestId, kind: kind) + 1)"
                    let entries = list.map { entry($0, agencies: containers[$0]?.agencies ?? []) }
                    let xmlKind = kind == .hold ? "hold" : entries.contains { $0.agencies.count > 1 } ? "joint-inspection" : "inspection"
                    let bytes = try XMLManifestWriter.terminalNotice(reference: reference, kind: xmlKind, manifest: model,
                                                                     containers: entries, generatedAt: at)
                    try send(kind, reference: reference, name: "\(kind == .hold ? "HOLD" : "INSPECTION")-\(base)-\(Self.safeName(reference)).xml",
                             bytes: bytes, containers: list)
                }
            }
        }
        // Feedback: each consignment's combined state to its carrier and to every agency it was routed to, when it
        // changed since that partner was last told (one status file per partner and manifest); an agency is also
        // told when another agency's position changed (its later results), the state staying the same.
        let told = try store.lastStatuses()
        var reports: [String: (partner: PartnerConfiguration, manifestId: Int64, number: String, entries: [StatusEntry])] = [:]
        for v in verdicts {
            for id in [v.carrier] + Set(v.units.flatMap(\.verdict.routedTo)).sorted() {
                guard let partner = configuration.partner(id: id) else { continue }
                let entry = Self.statusEntry(v, for: partner)
                let last = told["\(id) \(v.manifestId) \(v.billOfLading)"]
                // Pending is told only when the goods fall back to it: at first every consignment is pending.
                guard last?.state != v.state || (last?.detail ?? "") != entry.positionsText, v.state != .pending || last != nil else { continue }
                reports["\(id) \(v.manifestId)", default: (partner, v.manifestId, v.manifest, [])].entries.append(entry)
            }
        }
        var statuses: [StatusNotice] = []
        for (_, r) in reports.sorted(by: { $0.key < $1.key }) {
            let reference = "S\(r.manifestId)-\(try store.statusFileCount(partner: r.partner.id, manifestId: r.manifestId) + 1)"
            let report = StatusReport(reference: reference, entries: r.entries)
            let (name, kind, bytes) = try statusFile(report, to: r.partner, base: Self.safeName(r.number), at: at)
            let (asked, sha256) = try storedDeliveries(to: r.partner, batchId: nil, kind: kind, name: name, bytes: bytes, records: false)
            requests += asked
            for e in r.entries {
                statuses.append(StatusNotice(partner: r.partner.id, manifestId: r.manifestId, billOfLading: e.bill, state: e.state,
                                             detail: e.positions.isEmpty ? nil : e.positionsText, fileName: name, sha256: sha256))
            }
            lines.append(NoticeLine(partner: r.partner.id, file: name, kind: "status", manifest: r.number, reference: reference,
                                    items: CombinedState.allCases.flatMap { state in
                                        r.entries.filter { $0.state == state }.map { "\($0.bill) \(state.rawValue)" }
                                    }))
        }
        if !notices.isEmpty || !statuses.isEmpty { try Durability.syncFileSystems([raw.root]) }
        return (lines, try store.recordNotices(notices, statuses: statuses, enqueue: requests, mark: mark, now: at))
    }

    /// A consignment's state as `partner` is told it: with the agencies' positions for an agency.
    static func statusEntry(_ v: ConsignmentVerdict, for partner: PartnerConfiguration) -> StatusEntry {
        let deciding = v.units.first { $0.verdict.state == v.state }?.verdict
        var positions: [(agency: String, position: String)] = []
        if partner.role == .agency, let deciding {
            let agencies = Set(deciding.routedTo).union(deciding.positions.keys).sorted()
            positions = agencies.map { ($0, deciding.positions[$0]?.rawValue ?? "waiting") }
        }
        return StatusEntry(manifest: v.manifest, bill: v.billOfLading, state: v.state, reason: deciding?.reason,
                           containers: v.units.compactMap { u in u.container.map { ($0, u.verdict.state) } }, positions: positions)
    }

    /// A status file for `partner` in the format it takes: status-1.xsd XML, or CUSRES.
    func statusFile(_ report: StatusReport, to partner: PartnerConfiguration, base: String, at: Date) throws
        -> (name: String, kind: String, bytes: [UInt8])
    {
        let suffix = "\(base)-\(Self.safeName(report.reference))"
        guard let directory = partner.notices.directory else {
            return ("STATUS-\(suffix).xml", "STATUS", try XMLManifestWriter.status(report, generatedAt: at))
        }
        let bytes = try CUSRESWriter(directory: directory, sender: ourIdentity, recipient: recipient(partner), segmentSuffix: "\n")
            .interchange(report, reference: Self.noticeReference("S", report.reference), at: Self.edifactDate(at))
        return ("CUSRES-\(suffix).edi", "CUSRES", bytes)
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
