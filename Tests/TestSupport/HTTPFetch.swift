#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a server answered to one plain HTTP/1.1 request.
public struct HTTPFetchResult: Sendable, CustomStringConvertible {
    /// The status code from the status line (200, 404, ...).
    public var status: Int
    /// The header lines as `(name, value)`, names as sent.
    public var headers: [(String, String)]
    /// The body, as text.
    public var body: String

    /// The value of the first header called `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// Status and body, for test failure messages.
    public var description: String { "HTTP \(status)\n\(body)" }
}

/// A failure to talk to the test server, with the call that failed and its errno.
public struct HTTPFetchError: Error, CustomStringConvertible {
    /// The failing step and the system's words for the error.
    public var description: String
}

/// Sends one request over a real TCP connection to `127.0.0.1:port` and reads the answer to EOF.
///
/// Plain POSIX sockets rather than URLSession: no libcurl, and the request goes byte for byte as
/// written (`Connection: close`, so the server closes and EOF ends the body). Blocks for at most
/// `timeoutSeconds` per read; call it off the cooperative pool's hot path only in tests.
public func httpFetch(port: Int, method: String = "GET", path: String, timeoutSeconds: Int = 5) throws -> HTTPFetchResult {
    func failure(_ step: String) -> HTTPFetchError {
        HTTPFetchError(description: "\(step): \(String(cString: strerror(errno)))")
    }
    #if canImport(Glibc) || canImport(Musl)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw failure("socket") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw failure("connect to 127.0.0.1:\(port)") }

    let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
    var sent = 0
    while sent < request.count {
        let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw failure("send") }
        sent += n
    }

    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { throw failure("recv") }
        if n == 0 { break }
        response.append(contentsOf: chunk[..<n])
    }

    let blank: [UInt8] = Array("\r\n\r\n".utf8)
    guard let end = response.indices.dropLast(3).first(where: { Array(response[$0..<$0 + 4]) == blank }) else {
        throw HTTPFetchError(description: "no header end in: \(String(decoding: response, as: UTF8.self))")
    }
    let text = String(decoding: response, as: UTF8.self)
    let head = String(decoding: response[..<end], as: UTF8.self)
    let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
    let statusWords = lines.first?.split(separator: " ") ?? []
    guard statusWords.count >= 2, let status = Int(statusWords[1]) else {
        throw HTTPFetchError(description: "bad status line in: \(text)")
    }
    let headers = lines.dropFirst().compactMap { line -> (String, String)? in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
    }
    return HTTPFetchResult(status: status, headers: headers, body: String(decoding: response[(end + 4)...], as: UTF8.self))
}
