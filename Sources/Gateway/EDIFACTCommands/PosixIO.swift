#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An operating-system error captured at the failing call: which file, what was being done, and errno.
public struct InputFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path as the operator gave it.
    public var path: String
    /// What failed, in words: "open", "read".
    public var operation: String
    /// The errno value at the failing call.
    public var errorNumber: Int32

    /// Creates an error from the errno captured at the failing call.
    public init(path: String, operation: String, errorNumber: Int32) {
        self.path = path
        self.operation = operation
        self.errorNumber = errorNumber
    }

    /// The operating system's words for the error, e.g. "No such file or directory".
    public var reason: String { String(cString: strerror(errorNumber)) }

    /// "FILE: cannot open: No such file or directory".
    public var description: String { "\(path): cannot \(operation): \(reason)" }
}

/// Reads a file in fixed-size chunks into one reused buffer, so memory stays flat however large the file.
public enum ChunkedFile {
    /// 64 KiB: large enough for throughput, small enough to keep the resident set flat.
    public static let defaultChunkSize = 65_536

    /// Calls `body` with each chunk of the file at `path` in order; "-" reads standard input.
    /// Returns the number of bytes read.
    @discardableResult
    public static func forEachChunk(
        path: String, chunkSize: Int = defaultChunkSize, _ body: (UnsafeRawBufferPointer) -> Void
    ) throws(InputFileError) -> Int {
        let fd: Int32
        if path == "-" {
            fd = 0
        } else {
            fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
            if fd < 0 { throw InputFileError(path: path, operation: "open", errorNumber: errno) }
        }
        defer { if fd != 0 { _ = close(fd) } }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        while true {
            let n = retryingEINTR { read(fd, buffer.baseAddress, chunkSize) }
            if n < 0 { throw InputFileError(path: path, operation: "read", errorNumber: errno) }
            if n == 0 { return total }
            total += n
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}

/// Repeats a system call interrupted by a signal (EINTR), the one retry rule every call site needs.
@inline(__always)
func retryingEINTR<T: FixedWidthInteger>(_ call: () -> T) -> T {
    while true {
        let r = call()
        if r >= 0 || errno != EINTR { return r }
    }
}

/// write(2) under a name the sink's own `write` methods do not shadow.
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }

/// A buffered writer on a file descriptor (standard output or error): commands print through it so
/// that a listing of millions of segments costs one system call per 64 KiB, not one per line.
public final class OutputSink {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let limit: Int

    /// A sink writing to a file descriptor, flushed when `limit` bytes are pending.
    public init(fileDescriptor: Int32, limit: Int = 65_536) {
        self.fd = fileDescriptor
        self.limit = limit
        buffer.reserveCapacity(limit)
    }

    /// Standard output.
    public static func standardOutput() -> OutputSink { OutputSink(fileDescriptor: 1) }
    /// Standard error; flushed after every line so that it interleaves sensibly with standard output.
    public static func standardError() -> OutputSink { OutputSink(fileDescriptor: 2, limit: 0) }

    deinit { flush() }

    /// Appends text.
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= limit { flush() }
    }

    /// Appends text and a line break.
    public func line(_ text: String) {
        write(text)
        write("\n")
    }

    /// Appends bytes unchanged.
    public func write(bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= limit { flush() }
    }

    /// Writes out everything pending; a closed pipe or full disk drops the rest (the process exit tells).
    public func flush() {
        var done = 0
        buffer.withUnsafeBytes { raw in
            while done < raw.count {
                let n = retryingEINTR { posixWrite(fd, raw.baseAddress! + done, raw.count - done) }
                if n <= 0 { return }
                done += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
