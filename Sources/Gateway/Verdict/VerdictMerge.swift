import Foundation

// The merge rule (issue 7, DOMAIN.md step 8), derived from the facts every time and never edited by hand:
//   - any hold wins (a failed inspection is a hold);
//   - otherwise any inspect gives one inspection, joint when more than one agency asks;
//   - otherwise a release from every agency the goods were routed to gives one combined release;
//   - goods that no agency was routed are released once no agency has spoken for the silence window;
//   - otherwise the goods wait for the agencies that have not answered.
// An agency's position is its latest instruction (by the time it was issued, then by arrival), so an
// instruction that arrives late does not undo a newer one; a release after its own inspect is that
// inspection's result. An agency that was not routed the goods still counts when it holds or inspects.

/// The combined state of a consignment's goods (in one container, or loose) or of a container.
public enum CombinedState: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Some agency has not answered yet (or the silence window is still open).
    case pending
    /// Released by every agency concerned: the terminal may let the goods go.
    case released
    /// One or more agencies inspect: the box is moved and opened once.
    case inspection
    /// Some agency holds it.
    case held

    /// The precedence a container's state takes from its consignments' (held over inspection over pending
    /// over released).
    var weight: Int {
        switch self {
        case .released: 0
        case .pending: 1
        case .inspection: 2
        case .held: 3
        }
    }

    public static func < (a: CombinedState, b: CombinedState) -> Bool { a.weight < b.weight }
}

/// The merge's answer for one unit of goods, with everything that explains it.
public struct Verdict: Sendable, Hashable, Codable {
    public var state: CombinedState
    /// The agencies the goods were routed to (whose release is needed).
    public var routedTo: [String]
    /// Each agency's position (its latest fact), by agency.
    public var positions: [String: AgencyPosition]
    /// Agencies holding, inspecting, released, and routed agencies not heard from yet.
    public var holding: [String]
    public var inspecting: [String]
    public var released: [String]
    public var waitingFor: [String]
    /// Agencies whose release came after their own inspect: the inspection passed.
    public var inspected: [String]
    /// Set for goods no agency was routed: when they are (or were) released for silence.
    public var silentUntil: Date?
    /// The rule that decided, in plain words.
    public var reason: String
}

public enum VerdictMerge {
    /// The verdict for goods routed to `routedTo`, from every fact that applies to them (any agency, any
    /// object they belong to), at `now`. `firstSeen` is when the goods were filed; `silence` the window after
    /// which goods no agency was routed are released.
    public static func merge(routedTo: [String], facts: [InstructionFact], firstSeen: Date, now: Date,
                             silence: TimeInterval) -> Verdict {
        let routed = Array(Set(routedTo)).sorted()
        var positions: [String: AgencyPosition] = [:]
        var inspected: Set<String> = []
        let ordered = facts.sorted { a, b in
            a.effectiveAt != b.effectiveAt ? a.effectiveAt < b.effectiveAt : (a.receivedAt, a.id ?? 0) < (b.receivedAt, b.id ?? 0)
        }
        for fact in ordered {
            if positions[fact.agency] == .inspecting && fact.action.position != .inspecting { inspected.insert(fact.agency) }
            if fact.action == .passed || fact.action == .failed { inspected.insert(fact.agency) }
            positions[fact.agency] = fact.action.position
        }
        let holding = positions.filter { $0.value == .holding }.map(\.key).sorted()
        let inspecting = positions.filter { $0.value == .inspecting }.map(\.key).sorted()
        let released = positions.filter { $0.value == .released }.map(\.key).sorted()
        let waiting = routed.filter { positions[$0] == nil }
        var verdict = Verdict(state: .pending, routedTo: routed, positions: positions, holding: holding, inspecting: inspecting,
                              released: released, waitingFor: waiting, inspected: inspected.sorted(), silentUntil: nil, reason: "")
        if !holding.isEmpty {
            verdict.state = .held
            verdict.reason = "held: \(holding.joined(separator: ", ")) " + (holding.count == 1 ? "holds it" : "hold it") + " (any hold wins)"
        } else if !inspecting.isEmpty {
            verdict.state = .inspection
            verdict.reason = inspecting.count == 1
                ? "inspection by \(inspecting[0]) alone"
                : "joint inspection by \(inspecting.joined(separator: ", ")) (one box opening for all)"
        } else if routed.isEmpty {
            let until = firstSeen.addingTimeInterval(silence)
            verdict.silentUntil = until
            if now >= until {
                verdict.state = .released
                verdict.reason = "released: no agency was routed these goods and none spoke within \(Int(silence)) s of filing"
            } else {
                verdict.reason = "pending: no agency was routed these goods; released at \(XMLTimestamp.format(until)) unless one speaks"
            }
        } else if waiting.isEmpty {
            verdict.state = .released
            verdict.reason = "released by every agency it was routed to (\(routed.joined(separator: ", ")))"
        } else {
            verdict.reason = "pending: waiting for \(waiting.joined(separator: ", "))"
        }
        return verdict
    }

    /// A container's state from the states of the consignments' goods in it: held over inspection over
    /// pending over released (released only when all are).
    public static func container(_ states: [CombinedState]) -> CombinedState {
        states.max() ?? .pending
    }
}
