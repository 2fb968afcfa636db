import EDIFACT
import Foundation
import Jobs

// Issue 7, out to the terminal: "one release". After each run's jobs, the combined state of every container is
// derived again from the facts (VerdictMerge), and each terminal is sent what changed since what it was last
// told: one COREOR per manifest releasing every container that became released (one EQD each, the release
// number, the bills in it, an expiry), and one cancelling COREOR per release withdrawn when an agency turned
// to hold or inspect after the release went out. The notices and their deliver jobs are recorded in one
// transaction after the files are durable in the raw store, so a crash before it sends them on the next run
// and a crash after it sends nothing twice (the deliver jobs are keyed by file name).
//
// Only manifests that a new instruction or a new filing touched since the last sweep are read again (the
// sweep's mark moves with the notices it records). Goods routed to no agency and released by silence are
// shown by `gateway verdict` but not yet sent to a terminal.
// Not yet: joint-inspection and hold notices, XML releases for terminals that take XML, per-terminal ports.

/// A release order or cancellation sent in a run, for the report.
public struct NoticeLine: Sendable, Codable, Equatable {
    public var terminal: String
    public var file: String
    /// release or cancel.
    public var kind: String
    public var manifest: String
    public var reference: String
    public var containers: [String]
}

extension GatewayPipeline {
    /// Sends every terminal the releases and cancellations that the current facts call for; returns them and
    /// the deliver jobs enqueued.
    func sendTerminalNotices() throws -> (lines: [NoticeLine], jobs: [Int64]) {
        let terminals = configuration.partners.filter { $0.role == .terminal }
        guard !terminals.isEmpty else { return ([], []) }
        let at = now()
        let (verdicts, mark) = try store.verdictsToSweep(now: at, silence: TimeInterval(configuration.verdict.silenceSeconds))
        guard !verdicts.isEmpty else { return ([], try store.recordNotices([], enqueue: [], mark: mark, now: at)) }
        // Each container's state per manifest: the weightiest of the goods in it, with their bills.
        struct Box { var state: CombinedState; var bills: [String] }
        var boxes: [Int64: [String: Box]] = [:]
        var manifests: [Int64: String] = [:]
        for v in verdicts {
            manifests[v.manifestId] = v.manifest
            for unit in v.units {
                guard let container = unit.container else { continue }
                var box = boxes[v.manifestId]?[container] ?? Box(state: .released, bills: [])
                box.state = max(box.state, unit.verdict.state)
                box.bills.append(v.billOfLading)
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
                let told = { (container: String) in last["\(terminal.id) \(manifestId) \(container)"] }
                let releases = containers.filter { $0.value.state == .released && told($0.key)?.kind != .release }.keys.sorted()
                // A release withdrawn: grouped by the release it cancels.
                var cancels: [String: [String]] = [:]
                for (container, box) in containers where box.state != .released {
                    if let notice = told(container), notice.kind == .release { cancels[notice.reference, default: []].append(container) }
                }
                guard !releases.isEmpty || !cancels.isEmpty, let number = manifests[manifestId],
                      let model = try store.latestModel(manifestId: manifestId) else { continue }
                var orders: [ReleaseOrder] = []
                if !releases.isEmpty {
                    let reference = "R\(manifestId)-\(try store.releaseCount(terminal: terminal.id, manifestId: manifestId) + 1)"
                    orders.append(order(.release, reference: reference, cancels: nil, model: model, terminal: terminal,
                                        containers: releases, at: at))
                }
                for (withdrawn, list) in cancels.sorted(by: { $0.key < $1.key }) {
                    orders.append(order(.cancel, reference: withdrawn, cancels: withdrawn, model: model, terminal: terminal,
                                        containers: list.sorted(), at: at))
                }
                for o in orders {
                    let name = "COREOR-\(Self.safeName(number))-\(Self.safeName(o.reference))" + (o.function == .cancel ? "-CANCEL" : "") + ".edi"
                    var writer = COREORWriter(directory: .d96A, sender: ourIdentity, recipient: recipient(terminal), segmentSuffix: "\n")
                    writer.syntaxIdentifier = .UNOC
                    let bytes = try writer.interchange([o], reference: Self.noticeReference(o), at: Self.edifactDate(at))
                    let (asked, sha256) = try storedDeliveries(to: terminal, batchId: nil, kind: "COREOR", name: name, bytes: bytes,
                                                               records: false)
                    requests += asked
                    for c in o.containers {
                        notices.append(TerminalNotice(terminal: terminal.id, manifestId: manifestId, container: c.number,
                                                      kind: o.function == .release ? .release : .cancel, reference: o.reference,
                                                      fileName: name, sha256: sha256, deliverKey: asked.last?.idempotencyKey ?? name))
                    }
                    lines.append(NoticeLine(terminal: terminal.id, file: name, kind: o.function.rawValue, manifest: number,
                                            reference: o.reference, containers: o.containers.map(\.number)))
                    logger.info("release notice", metadata: ["terminal": "\(terminal.id)", "file": "\(name)", "kind": "\(o.function.rawValue)",
                                                             "manifest": "\(number)", "containers": "\(o.containers.count)"])
                }
            }
        }
        if !notices.isEmpty { try Durability.syncFileSystems([raw.root]) }
        return (lines, try store.recordNotices(notices, enqueue: requests, mark: mark, now: at))
    }

    private func order(_ function: ReleaseOrder.Function, reference: String, cancels: String?, model: Manifest,
                       terminal: PartnerConfiguration, containers: [String], at: Date) -> ReleaseOrder {
        let declared = Dictionary(model.containers.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
        let byContainer = Dictionary(grouping: model.consignments.flatMap { c in c.containerNumbers.map { ($0, c.billOfLading) } }, by: \.0)
        return ReleaseOrder(
            function: function, reference: reference, cancels: function == .cancel ? cancels : nil, manifest: model.documentNumber,
            transport: model.transport, terminal: recipient(terminal).first ?? terminal.id,
            expires: function == .release ? at.addingTimeInterval(TimeInterval(configuration.verdict.releaseValidDays) * 86_400) : nil,
            containers: containers.map { number in
                ReleasedContainer(number: number, sizeType: declared[number]?.sizeType, seals: declared[number]?.seals ?? [],
                                  bills: Array(Set((byContainer[number] ?? []).map(\.1))).sorted())
            })
    }

    /// The notice interchange's reference (an..14): `N` + the order's reference without its separator.
    static func noticeReference(_ order: ReleaseOrder) -> String {
        String(((order.function == .release ? "N" : "X") + order.reference.filter { $0.isLetter || $0.isNumber }).prefix(14))
    }
}
