import ArgumentParser
import FlotillaProto
import FlotillaTransport
import Foundation

/// `flotillactl drill leader-failover`: the leader is killed (or hands over, `--mode
/// transfer`); another coordinator should lead within the objective with no job lost,
/// none run twice and no running job restarted.
///
/// The coordinator that answers is the one taken away, so flotillactl first learns every
/// coordinator's address from `status` and, with --wait, follows the drill at whichever
/// leads next until that leader records the verdict. A killed leader may die before its
/// answer leaves; the drill is then found in the drill list.
struct LeaderFailoverDrill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leader-failover",
        abstract: "Kill the leader coordinator (or hand leadership over) and measure the failover.",
        discussion: """
            The leader records the drill and then dies by SIGKILL (--mode kill) or hands leadership to the most \
            caught-up voter (--mode transfer). The next leader measures, from the injection, when it was elected, \
            when its term's first entry committed and when it acknowledged the first submission; after the heartbeat \
            timeout it gives workers, it checks that no acknowledged job was lost, none has two live attempts and no \
            running job was restarted. Objectives: a new leader within 1s for a kill, 300ms for a transfer. Refused \
            unless a majority of voters stays reachable without the leader. A killed leader stays down until its \
            supervisor restarts it.
            """ + " " + DrillHelp.discussion)

    @OptionGroup var drill: DrillOptions

    func validate() throws {
        try drill.validate(for: .leaderFailover)
    }

    func run() async throws {
        let request = drill.request(for: .leaderFailover)
        let settings = try await Self.everyCoordinator(drill.connection.resolve())
        let report = try await ClusterSession(settings: settings).using { session in
            let startedAfter = UInt64(Date().timeIntervalSince1970 * 1000)
            var report = try await Self.start(request, session, startedAfter: startedAfter)
            if drill.wait && report.verdict == .running {
                report = try await Self.follow(report.id, session, deadlineMilliseconds: drill.answerDeadlineMilliseconds)
            }
            return report
        }
        if drill.json {
            Console.line(try JSONOutput.line(report))
        } else if report.verdict == .running || report.verdict == .refused || report.verdict == .dryRun {
            Console.line(DrillReportText.summary(report))
            if report.verdict == .running {
                Console.line("\nThe drill runs on at the next leader; see how it ends with `flotillactl drill show \(report.id)`.")
            }
        } else {
            Console.line(DrillReportText.render(report))
        }
        let status = DrillExitStatus.code(for: report, waited: drill.wait)
        if status != .success { throw status }
    }

    /// The given addresses and every coordinator `status` lists, so the session outlives the leader.
    static func everyCoordinator(_ settings: ConnectionSettings) async throws -> ConnectionSettings {
        var settings = settings
        let status = try await ClusterSession(settings: settings).using { session in
            try await session.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
        }
        for coordinator in status.coordinators {
            guard let endpoint = Endpoint(coordinator.address), !settings.endpoints.contains(endpoint) else { continue }
            settings.endpoints.append(endpoint)
        }
        return settings
    }

    /// Sends the request. When the answer is lost with the killed leader, the drill it
    /// started is the newest leader-failover by this certificate since `startedAfter`.
    static func start(_ request: Flotilla_V1_DrillRequest, _ session: ClusterSession,
                      startedAfter: UInt64) async throws -> Flotilla_V1_DrillReport {
        try await session.connect()
        do {
            return try await session.client.request(request, expecting: Flotilla_V1_DrillReport.self)
        } catch let error as FlotillaError where [.unavailable, .deadlineExceeded].contains(error.code) && !request.dryRun {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                var list = Flotilla_V1_ListDrillsRequest()
                list.limit = 5
                if let drills = try? await session.client.request(list, expecting: Flotilla_V1_ListDrillsResponse.self),
                   let started = drills.drills.first(where: {
                       $0.kind == .leaderFailover && $0.startedBy == session.identity.name && $0.startedUnixMs + 5_000 >= startedAfter
                   }) {
                    return started
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            throw CommandFailure("the leader stopped answering and no coordinator lists the drill: \(error)")
        } catch let error as FlotillaError {
            throw ProtocolErrorMessage(session: session).failure(error, request: request, notFound: nil)
        }
    }

    /// Asks for the drill until a leader records its end; an election in between answers
    /// NOT_LEADER or nothing for a moment, which is what the drill is about.
    static func follow(_ id: String, _ session: ClusterSession, deadlineMilliseconds: UInt64) async throws -> Flotilla_V1_DrillReport {
        var get = Flotilla_V1_GetDrillRequest()
        get.id = id
        let deadline = ContinuousClock.now + .milliseconds(Int64(clamping: deadlineMilliseconds))
        var last: Flotilla_V1_DrillReport?
        while ContinuousClock.now < deadline {
            if let report = try? await session.client.request(get, expecting: Flotilla_V1_DrillReport.self) {
                if report.verdict != .running { return report }
                last = report
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        guard let last else { throw CommandFailure("drill \(id) could not be read from any coordinator") }
        return last
    }
}

extension ClusterSession {
    /// Runs `body` and closes the connection afterwards, whether `body` succeeded or not.
    func using<T>(_ body: (ClusterSession) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await close()
            return result
        } catch {
            await close()
            throw error
        }
    }
}
