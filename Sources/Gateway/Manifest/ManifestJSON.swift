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
    public static func manifest(_ m: Manifest) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("containers")
        w.beginArray()
        for c in m.containers { container(c, &w) }
        w.endArray()
        w.key("consignments")
        w.beginArray()
        for c in m.consignments { consignment(c, &w) }
        w.endArray()
        w.field("documentNumber", m.documentNumber)
        w.field("function", m.function.rawValue)
        w.field("issuedAt", m.issuedAt)
        w.field("sender", m.sender)
        let t = m.transport
        w.key("transport")
        w.beginObject()
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
        w.endObject()
        w.endObject()
        return w.text
    }

    private static func container(_ c: Container, _ w: inout JSONWriter) {
        w.beginObject()
        w.field("grossWeightKg", c.grossWeightKg)
        w.field("isFull", c.isFull)
        w.field("number", c.number)
        w.key("seals")
        w.beginArray()
        for seal in c.seals { w.string(seal) }
        w.endArray()
        w.field("sizeType", c.sizeType)
        w.endObject()
    }

    private static func consignment(_ c: Consignment, _ w: inout JSONWriter) {
        w.beginObject()
        w.field("billOfLading", c.billOfLading)
        w.field("dischargePort", c.dischargePort)
        w.key("goods")
        w.beginArray()
        for g in c.goods {
            w.beginObject()
            w.key("containers")
            w.beginArray()
            for share in g.containers {
                w.beginObject()
                w.field("container", share.container)
                w.field("packages", share.packages)
                w.endObject()
            }
            w.endArray()
            w.key("dangerousGoods")
            w.beginArray()
            for d in g.dangerousGoods {
                w.beginObject()
                w.field("hazardClass", d.hazardClass)
                w.field("unNumber", d.unNumber)
                w.endObject()
            }
            w.endArray()
            w.field("description", g.description)
            w.field("grossWeightKg", g.grossWeightKg)
            w.field("hsCode", g.hsCode)
            w.field("packageType", g.packageType)
            w.field("packages", g.packages)
            w.field("sequence", g.sequence)
            w.endObject()
        }
        w.endArray()
        w.field("loadingPort", c.loadingPort)
        w.field("masterBillOfLading", c.masterBillOfLading)
        w.key("parties")
        w.beginArray()
        for p in c.parties {
            w.beginObject()
            w.field("address", p.address)
            w.field("country", p.country)
            w.field("id", p.id)
            w.field("name", p.name)
            w.field("role", p.role.rawValue)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    /// Every rule's decision as the library stores it (`routing_decision.decisions_json`).
    public static func decisions(_ decisions: [RoutingDecision]) -> String {
        var w = JSONWriter()
        w.beginArray()
        for d in decisions {
            w.beginObject()
            w.field("agency", d.agency)
            w.key("consignments")
            w.beginArray()
            for c in d.consignments {
                w.beginObject()
                w.field("billOfLading", c.billOfLading)
                w.key("goods")
                w.beginArray()
                for g in c.goods { w.number(g) }
                w.endArray()
                w.field("reason", c.reason)
                w.field("selected", c.selected)
                w.endObject()
            }
            w.endArray()
            w.field("format", d.format.rawValue)
            w.field("reason", d.reason)
            w.field("selected", d.selected)
            w.endObject()
        }
        w.endArray()
        return w.text
    }
}

/// A JSON writer into one byte buffer: objects, arrays, and the few scalar kinds the library stores (strings
/// and integers as `JSONText` writes them for JSON Lines). Every value writes the comma it needs before it;
/// a key clears that need for its value.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

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

    mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func field(_ name: String, _ value: Int?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    mutating func field(_ name: String, _ value: Double?) {
        guard let value else { return }
        key(name)
        // Swift's shortest round-trip form ("18250.0", "9999.897"); JSON has no NaN or infinity.
        bytes.append(contentsOf: (value.isFinite ? value.description : "null").utf8)
        needsComma = true
    }

    mutating func field(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    /// ISO 8601 UTC to the second, as JSONEncoder's `.iso8601` writes it.
    mutating func field(_ name: String, _ value: Date?) {
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
