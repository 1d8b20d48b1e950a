import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain HTTP/1.0 GET to `host` (an IPv4 address; 127.0.0.1 unless given) for tests of
/// /metrics and /healthz: returns the status code and the body. Blocking, on its own thread.
/// Connecting gives up after 3 s (an address cut off the network drops the SYN silently).
public func httpGet(host: String = "127.0.0.1", port: Int, path: String) async throws -> (status: Int, body: String) {
    try await withCheckedThrowingContinuation { done in
        Thread.detachNewThread {
            done.resume(with: Result { try httpGetBlocking(host: host, port: port, path: path) })
        }
    }
}

/// A blocking TCP connection to 127.0.0.1:`port`; the caller closes the descriptor.
public func loopbackSocket(port: Int) throws -> Int32 {
    try tcpSocket(host: "127.0.0.1", port: port)
}

/// A blocking TCP connection to `host`:`port` (IPv4), giving up after `connectTimeout`
/// seconds; the caller closes the descriptor.
public func tcpSocket(host: String, port: Int, connectTimeout: Int = 3) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ChildProcessError("socket() failed: \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
        close(fd)
        throw ChildProcessError("not an IPv4 address: \(host)")
    }
    address.sin_port = UInt16(port).bigEndian
    // On Linux a send timeout bounds connect() too; reads and writes set their own below.
    var timeout = timeval(tv_sec: connectTimeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        let error = errno
        close(fd)
        throw ChildProcessError("cannot connect to \(host):\(port): errno \(error)")
    }
    var unbounded = timeval(tv_sec: 0, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &unbounded, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

private func httpGetBlocking(host: String, port: Int, path: String) throws -> (status: Int, body: String) {
    let fd = try tcpSocket(host: host, port: port)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n".utf8)
    guard write(fd, request, request.count) == request.count else { throw ChildProcessError("short write") }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = read(fd, &buffer, buffer.count)
        if count <= 0 { break }
        response.append(contentsOf: buffer[0..<count])
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let statusLine = text.split(separator: "\r\n").first,
          let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
        throw ChildProcessError("not an HTTP response: \(text.prefix(200))")
    }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}
