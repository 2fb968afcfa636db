import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The library keeps every filed manifest as JSON (manifest_version.model_json) and every routing decision
// (routing_decision.decisions_json). Foundation's JSONEncoder took about 1.7 ms for a 50-consignment manifest,
// more than mapping the CUSCAR it came from (route-bench components), so these two shapes are written by hand:
// the same keys the synthesized Codable uses, optional values left out when nil, dates as ISO 8601 UTC to the
// second (what `.iso8601` writes), so `JSONDecoder` with `.iso8601` reads them back to equal values (tested).
// Deterministic: the same model always gives the same text, which is how a rerun finds its own filing.

/// Hand-written JSON for the library's two hot shapes.
public enum LibraryJSON {
    /// The manifest as the library stores it (`manifest_version.model_json`).
    public static func manifest(_ m: Manifest) -> String { String(decoding: manifestUTF8(m), as: UTF8.self) }

    /// `manifest(_:)`'s UTF-8 bytes, as the filing binds them: a 47 KB text made a `String` (checked as UTF-8 and
    /// copied) only to be copied again into SQLite was 1 % of a routed run's CPU time.
    static func manifestUTF8(_ m: Manifest) -> [UInt8] {
        var w = JSONWriter(capacity: 1_024 + 1_024 * m.consignments.count)
        w.object(nil) { w in
            w.array("containers", m.containers) { w, c in container(c, &w) }
            w.array("consignments", m.consignments) { w, c in consignment(c, &w) }
            w.field("documentNumber", m.documentNumber)
            w.field("function", m.function.rawValue)
            w.field("issuedAt", m.issuedAt)
            w.field("sender", m.sender)
            let t = m.transport
            w.object("transport") { w in
                w.field("arrival", t.arrival)
                w.field("arrivalPort", t.arrivalPort)
                w.field("carrier", t.carrier)
                w.field("crewCount", t.crewCount)
                w.field("departure", t.departure)
                w.field("departurePort", t.departurePort)
                w.field("meansId", t.meansId)
                w.field("meansName", t.meansName)
                w.field("mode", t.mode.rawValue)
                w.field("nationality", t.nationality)
                w.field("passengerCount", t.passengerCount)
                w.field("voyage", t.voyage)
            }
        }
        return w.bytes
    }

    private static func container(_ c: Container, _ w: inout JSONWriter) {
        w.object(nil) { w in
            w.field("grossWeightKg", c.grossWeightKg)
            w.field("isFull", c.isFull)
            w.field("number", c.number)
            w.array("seals", c.seals) { w, seal in w.string(seal) }
            w.field("sizeType", c.sizeType)
        }
    }

    private static func consignment(_ c: Consignment, _ w: inout JSONWriter) {
        w.object(nil) { w in
            w.field("billOfLading", c.billOfLading)
            w.field("dischargePort", c.dischargePort)
            w.array("goods", c.goods) { w, g in
                w.object(nil) { w in
                    w.array("containers", g.containers) { w, share in
                        w.object(nil) { w in
                            w.field("container", share.container)
                            w.field("packages", share.packages)
                        }
                    }
                    w.array("dangerousGoods", g.dangerousGoods) { w, d in
                        w.object(nil) { w in
                            w.field("hazardClass", d.hazardClass)
                            w.field("unNumber", d.unNumber)
                        }
                    }
                    w.field("description", g.description)
                    w.field("grossWeightKg", g.grossWeightKg)
                    w.field("hsCode", g.hsCode)
                    w.field("packageType", g.packageType)
                    w.field("packages", g.packages)
                    w.field("sequence", g.sequence)
                }
            }
            w.field("loadingPort", c.loadingPort)
            w.field("masterBillOfLading", c.masterBillOfLading)
            w.array("parties", c.parties) { w, p in
                w.object(nil) { w in
                    w.field("address", p.address)
                    w.field("country", p.country)
                    w.field("id", p.id)
                    w.field("name", p.name)
                    w.field("role", p.role.rawValue)
                }
            }
        }
    }

    /// Every rule's decision as the library stores it (`routing_decision.decisions_json`).
    public static func decisions(_ decisions: [RoutingDecision]) -> String {
        // About 100 bytes a consignment's choice: reserved, so the text is not copied again and again as it grows.
        var w = JSONWriter(capacity: 256 + decisions.reduce(0) { $0 + 128 * $1.consignments.count })
        w.array(nil, decisions) { w, d in
            w.object(nil) { w in
                w.field("agency", d.agency)
                w.array("consignments", d.consignments) { w, c in
                    w.object(nil) { w in
                        w.field("billOfLading", c.billOfLading)
                        w.array("goods", c.goods) { w, g in w.number(g) }
                        w.field("reason", c.reason)
                        w.field("selected", c.selected)
                    }
                }
                w.field("format", d.format.rawValue)
                w.field("reason", d.reason)
                w.field("selected", d.selected)
            }
        }
        return w.text
    }

    /// A list of strings as JSON (the routed copies' bills and containers in the ledger).
    public static func strings(_ values: [String]) -> String {
        var w = JSONWriter()
        w.array(nil, values) { w, value in w.string(value) }
        return w.text
    }
}

/// A JSON writer into one byte buffer: objects, arrays, and the few scalar kinds the library stores (strings
/// and integers as `JSONText` writes them for JSON Lines). Every value writes the comma it needs before it;
/// a key clears that need for its value.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    /// `capacity`: the bytes expected, reserved at once (a manifest's model is tens of kilobytes).
    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// `{...}`, or `"name":{...}` as a field, with `body` writing its members.
    mutating func object(_ name: StaticString?, _ body: (inout JSONWriter) -> Void) {
        if let name { key(name) }
        beginObject()
        body(&self)
        endObject()
    }

    /// `[...]`, or `"name":[...]` as a field, with `element` writing each item.
    mutating func array<S: Sequence>(_ name: StaticString?, _ items: S, _ element: (inout JSONWriter, S.Element) -> Void) {
        if let name { key(name) }
        beginArray()
        for item in items { element(&self, item) }
        endArray()
    }

    /// `"name":`. Names are literals of the library's own shapes: plain ASCII, written as they are, without
    /// the escape scan a value needs (which was half of writing the keys).
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    mutating func field(_ name: StaticString, _ value: Double?) {
        guard let value else { return }
        key(name)
        // Swift's shortest round-trip form ("18250.0", "9999.897"); JSON has no NaN or infinity.
        bytes.append(contentsOf: (value.isFinite ? value.description : "null").utf8)
        needsComma = true
    }

    mutating func field(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    /// ISO 8601 UTC to the second, as JSONEncoder's `.iso8601` writes it.
    mutating func field(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        key(name)
        var seconds = time_t(value.timeIntervalSince1970.rounded(.down))
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        string("\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2))Z")
    }

    mutating func number(_ value: Int) {
        separate()
        JSONText.appendInt(value, to: &bytes)
        needsComma = true
    }

    mutating func string(_ value: String) {
        separate()
        JSONText.appendString(value, to: &bytes)
        needsComma = true
    }
}
