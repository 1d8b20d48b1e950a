import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A private IPv4 network of Linux network namespaces, for tests that cut a process off
/// the network (Linux, as root). Every member gets a namespace `flt<tag>-<member>` whose
/// `eth0` (10.X.Y.N/24, N from 1) is one end of a veth pair; the other end,
/// `flt<tag>h<N>`, is a port of the bridge `flt<tag>br` (10.X.Y.254/24) in the root
/// namespace, so processes in the root namespace reach every member and members reach
/// each other through the bridge. X.Y and the four-character tag are drawn per network.
///
/// `cut(_:)` takes the member's bridge port down, which drops everything it sends or is
/// sent, from the other members and from the root namespace alike, without resetting a
/// connection; `heal(_:)` brings it back. Run a member's processes under `exec(_:)`
/// (`ip netns exec NS`, which execs: the child's pid is the process itself).
///
/// `with(members:_:)` removes the veths, the namespaces and the bridge whatever the body's
/// outcome; the caller kills the processes inside first (a namespace lives as long as a
/// process in it). The bridge's alias names the test process, so that a later run can
/// remove what a crashed one left (`removeLeftovers()`).
public final class NamespaceNetwork: @unchecked Sendable {
    public let tag: String
    public let members: [String]
    /// The first three octets, e.g. "10.213.7".
    public let subnet: String
    public let ip: URL

    public var bridge: String { "flt\(tag)br" }
    public var gateway: String { "\(subnet).254" }
    public func namespace(_ member: String) -> String { "flt\(tag)-\(member)" }
    public func hostLink(_ member: String) -> String { "flt\(tag)h\(number(member))" }
    public func address(_ member: String) -> String { "\(subnet).\(number(member))" }
    /// The command prefix that runs a program inside the member's namespace.
    public func exec(_ member: String) -> [String] { [ip.path, "netns", "exec", namespace(member)] }

    private func number(_ member: String) -> Int {
        guard let index = members.firstIndex(of: member) else { preconditionFailure("\(member) is not a member of this network") }
        return index + 1
    }

    private static let aliasPrefix = "flotilla-test pid "

    private init(members: [String], ip: URL, existing: String) {
        precondition(!members.isEmpty && members.count < 254, "1 to 253 members")
        var random = SplitMix64(seed: UInt64.random(in: 1...UInt64.max))
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var subnet = ""
        for _ in 0..<20 {
            subnet = "10.\(random.int(in: 100...249)).\(random.int(in: 0...255))"
            if !existing.contains("\(subnet).") { break }
        }
        self.tag = String((0..<4).map { _ in letters[random.below(letters.count)] })
        self.members = members
        self.subnet = subnet
        self.ip = ip
    }

    // MARK: Availability

    /// The `ip` command, if installed.
    public static let ipCommand: URL? = executableOnPath("ip")
        ?? ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].map { URL(fileURLWithPath: $0) }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    /// Why namespaces cannot be used here (not root, no `ip`, no veth or bridge support),
    /// or nil when they can: creates and deletes a namespace, a veth pair and a bridge.
    public static let unavailableReason: String? = probe()

    public static var isAvailable: Bool { unavailableReason == nil }

    private static func probe() -> String? {
        #if os(Linux)
        guard let ip = ipCommand else { return "no `ip` command (iproute2)" }
        let tag = String(format: "%04x", UInt32(getpid()) & 0xffff)
        let namespace = "fltprobe\(tag)", veth = "fltp\(tag)a", bridge = "fltp\(tag)br"
        defer {
            _ = runSync(ip, ["link", "del", veth])
            _ = runSync(ip, ["link", "del", bridge])
            _ = runSync(ip, ["netns", "del", namespace])
        }
        for step in [["netns", "add", namespace], ["link", "add", veth, "type", "veth", "peer", "name", "fltp\(tag)b"],
                     ["link", "add", bridge, "type", "bridge"], ["netns", "exec", namespace, ip.path, "link", "set", "lo", "up"]] {
            let (status, output) = runSync(ip, step)
            if status != 0 { return "`ip \(step.joined(separator: " "))` failed (\(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines)); needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)" }
        }
        return nil
        #else
        return "network namespaces are Linux only"
        #endif
    }

    /// Runs `ip` to completion on this thread; for the probe and cleanup of leftovers.
    private static func runSync(_ ip: URL, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = ip
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    // MARK: Lifetime

    /// Creates the network, runs `body`, and removes the network whatever happened; a
    /// failure to remove it fails a body that succeeded.
    public static func with<T>(members: [String], _ body: (NamespaceNetwork) async throws -> T) async throws -> T {
        guard let ip = ipCommand, isAvailable else {
            throw ChildProcessError("network namespaces unavailable: \(unavailableReason ?? "no ip command")")
        }
        removeLeftovers()
        let existing = runSync(ip, ["-o", "-4", "addr", "show"]).output + runSync(ip, ["-4", "route", "show"]).output
        let network = NamespaceNetwork(members: members, ip: ip, existing: existing)
        let result: T
        do {
            try await network.create()
            result = try await body(network)
        } catch {
            _ = await network.remove()
            throw error
        }
        if let left = await network.remove() { throw ChildProcessError("the test network was not removed: \(left)") }
        return result
    }

    private func run(_ arguments: [String]) async throws {
        let result = try await runProcess(ip, arguments: arguments, timeout: .seconds(20))
        guard result.status == 0, !result.timedOut else {
            throw ChildProcessError("`ip \(arguments.joined(separator: " "))` failed (\(result.status)): \(result.stderr)\(result.stdout)")
        }
    }

    private func create() async throws {
        // The bridge first: it carries the owner's pid, so leftovers can always be found from it.
        try await run(["link", "add", bridge, "type", "bridge"])
        try await run(["link", "set", bridge, "alias", "\(Self.aliasPrefix)\(getpid())"])
        // Bridged frames need not pass the host's iptables (a FORWARD policy of DROP would eat them).
        _ = try? await run(["link", "set", bridge, "type", "bridge", "nf_call_iptables", "0"])
        try await run(["addr", "add", "\(gateway)/24", "dev", bridge])
        try await run(["link", "set", bridge, "up"])
        for member in members {
            let namespace = namespace(member), host = hostLink(member), peer = "flt\(tag)n\(number(member))"
            try await run(["netns", "add", namespace])
            try await run(["link", "add", host, "type", "veth", "peer", "name", peer])
            try await run(["link", "set", peer, "netns", namespace])
            try await run(["-n", namespace, "link", "set", peer, "name", "eth0"])
            try await run(["-n", namespace, "addr", "add", "\(address(member))/24", "dev", "eth0"])
            try await run(["-n", namespace, "link", "set", "eth0", "up"])
            try await run(["-n", namespace, "link", "set", "lo", "up"])
            try await run(["link", "set", host, "master", bridge])
            try await run(["link", "set", host, "up"])
        }
    }

    /// Deletes the veths (both ends go at once, even while a dying process still holds its
    /// namespace), the namespaces and the bridge; returns what is still there, if anything.
    @discardableResult
    public func remove() async -> String? {
        for member in members {
            _ = try? await run(["link", "del", hostLink(member)])
            _ = try? await run(["netns", "del", namespace(member)])
        }
        _ = try? await run(["link", "del", bridge])
        let links = (try? await runProcess(ip, arguments: ["-o", "link", "show"]).stdout) ?? ""
        let namespaces = (try? await runProcess(ip, arguments: ["netns", "list"]).stdout) ?? ""
        let left = (links + namespaces).split(separator: "\n").filter { $0.contains("flt\(tag)") }
        return left.isEmpty ? nil : left.joined(separator: "\n")
    }

    // MARK: Cutting

    /// Takes the member's bridge port down: nothing reaches it or leaves it.
    public func cut(_ member: String) async throws {
        try await run(["link", "set", hostLink(member), "down"])
    }

    /// Brings the member's bridge port back up.
    public func heal(_ member: String) async throws {
        try await run(["link", "set", hostLink(member), "up"])
    }

    /// Removes the networks of test processes that are gone (found by their bridge's alias),
    /// and namespaces of ours with no bridge and no process inside.
    public static func removeLeftovers() {
        guard let ip = ipCommand else { return }
        var live: Set<String> = []
        let bridges = runSync(ip, ["-o", "link", "show", "type", "bridge"]).output
        for line in bridges.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let name = fields[1].trimmingCharacters(in: CharacterSet(charactersIn: ":")).split(separator: "@").first.map(String.init) ?? ""
            guard name.hasPrefix("flt"), name.hasSuffix("br"), name.count == 9 else { continue }
            let tag = String(name.dropFirst(3).dropLast(2))
            guard let range = line.range(of: aliasPrefix), let pid = Int32(line[range.upperBound...].prefix { $0.isNumber }) else { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                for namespace in namespaces(ip) where namespace.hasPrefix("flt\(tag)-") { _ = runSync(ip, ["netns", "del", namespace]) }
                for link in runSync(ip, ["-o", "link", "show"]).output.split(separator: "\n") {
                    let linkName = link.split(separator: " ").dropFirst().first.map { String($0.split(separator: "@").first ?? "").trimmingCharacters(in: CharacterSet(charactersIn: ":")) } ?? ""
                    if linkName.hasPrefix("flt\(tag)h") { _ = runSync(ip, ["link", "del", linkName]) }
                }
                _ = runSync(ip, ["link", "del", name])
            } else {
                live.insert(tag)
            }
        }
        for namespace in namespaces(ip) where namespace.hasPrefix("flt") && namespace.contains("-") {
            let tag = String(namespace.dropFirst(3).prefix { $0 != "-" })
            guard tag.count == 4, !live.contains(tag) else { continue }
            if runSync(ip, ["netns", "pids", namespace]).output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                _ = runSync(ip, ["netns", "del", namespace])
            }
        }
    }

    private static func namespaces(_ ip: URL) -> [String] {
        runSync(ip, ["netns", "list"]).output.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }
}
