import Foundation

/// Runs work items on several threads at once, item i on stripe i mod n, results in the items' order: the
/// transfers of one chunk over several SFTP sessions (a session is never shared between threads), and the
/// CPU-bound steps of routing a chunk's manifests (mapping, generating the copies) on every core.
enum Stripes {
    /// Unchecked: each stripe's state and each result slot is touched by exactly one thread.
    private final class Shared<Item, Result>: @unchecked Sendable {
        let items: [Item]
        var results: [Result?]
        let body: (Item, Int) -> Result

        init(_ items: [Item], _ body: @escaping (Item, Int) -> Result) {
            self.items = items
            self.results = Array(repeating: nil, count: items.count)
            self.body = body
        }
    }

    /// `body(item, stripe)` for every item, on `stripes` threads.
    static func run<Item, Result>(_ items: [Item], stripes: Int, _ body: @escaping (Item, Int) -> Result) -> [Result] {
        let stripes = max(1, min(stripes, items.count))
        guard stripes > 1 else { return items.map { body($0, 0) } }
        let shared = Shared(items, body)
        shared.results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: stripes) { stripe in
                for index in stride(from: stripe, to: shared.items.count, by: stripes) {
                    slots[index] = shared.body(shared.items[index], stripe)
                }
            }
        }
        return shared.results.map { $0! }
    }

    /// `body(item, session)` for every item, each stripe on its own session.
    static func run<Item, Result>(_ items: [Item], over sessions: [SFTPSession],
                                  _ body: @escaping (Item, SFTPSession) -> Result) -> [Result] {
        nonisolated(unsafe) let sessions = sessions
        return run(items, stripes: sessions.count) { item, stripe in body(item, sessions[stripe]) }
    }
}
