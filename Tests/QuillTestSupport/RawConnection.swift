import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP connection to a loopback port, for tests that decide when each byte of a request is sent (a slow
/// client, a request in flight when a server is stopped) — what URLSession cannot do.
public final class RawConnection {
    private let socketDescriptor: Int32

    /// Connects to `127.0.0.1:port`.
    public init(port: Int) throws {
        socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(socketDescriptor)
            throw TestSupportError("connect to port \(port) failed: errno \(errno)")
        }
    }

    private var isOpen = true

    deinit { close() }

    /// Closes the connection, as a client that goes away does.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        Glibc.close(socketDescriptor)
    }

    /// Sends `text` (UTF-8) as it is.
    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socketDescriptor, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw TestSupportError("send failed: errno \(errno)") }
            sent += n
        }
    }

    /// What the server sends until it closes the connection or `timeout` seconds pass (or, with `marker`, until
    /// what came contains it).
    public func receive(timeout: Double, until marker: String? = nil) -> String {
        var received = Data()
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var descriptor = pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&descriptor, 1, left) > 0 else { break }
            let n = recv(socketDescriptor, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            received.append(contentsOf: buffer[..<n])
            if let marker, String(decoding: received, as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
