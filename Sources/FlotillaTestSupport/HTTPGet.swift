import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain HTTP/1.0 GET to 127.0.0.1 for tests of /metrics and /healthz:
/// returns the status code and the body. Blocking, on its own thread.
public func httpGet(port: Int, path: String) async throws -> (status: Int, body: String) {
    try await withCheckedThrowingContinuation { done in
        Thread.detachNewThread {
            done.resume(with: Result { try httpGetBlocking(port: port, path: path) })
        }
    }
}

/// A blocking TCP connection to 127.0.0.1:`port`; the caller closes the descriptor.
public func loopbackSocket(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ChildProcessError("socket() failed: \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw ChildProcessError("cannot connect to 127.0.0.1:\(port): errno \(errno)")
    }
    return fd
}

private func httpGetBlocking(port: Int, path: String) throws -> (status: Int, body: String) {
    let fd = try loopbackSocket(port: port)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
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
