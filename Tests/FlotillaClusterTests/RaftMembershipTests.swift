import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// Membership changes through real processes and the real `flotillactl operator raft`
    /// (README, "Replicated coordinators (Raft)", "Replacing a dead member"), with a submitter
    /// running all along.
    ///
    /// Every name in `raft.peers` is a bootstrap voter (`openReplica` bootstraps
    /// `Membership(voters: peers)`), and a member reaches the others only at the addresses in its
    /// own `raft.peers` (RaftTransport is built from it at start; it is not reloaded). So the
    /// group is bootstrapped with c1..c3 listing only themselves, and "its name in every
    /// member's raft.peers" means restarting the survivors with c4 listed: after the removal,
    /// whose log entry then holds the membership, so the longer list does not bootstrap c4 as a
    /// voter on them.
    @Suite struct RaftMembershipTests {
        typealias Info = Flotilla_V1_CoordinatorInfo

        /// `raft.peers` naming `members`, at the harness's addresses.
        static func peers(_ members: [String], _ cluster: RaftClusterHarness) -> String {
            "[" + members.map { "{name: \($0), address: \"\(cluster.address($0))\"}" }.joined(separator: ", ") + "]"
        }

        /// `flotillactl operator raft ARGUMENTS --addr MEMBER` under the operator's admin certificate.
        static func raft(_ arguments: [String], via member: String, _ cluster: RaftClusterHarness) async throws -> ProcessResult {
            let tls = try cluster.pki.node(.admin, "operator")
            let binary = productURL("flotillactl")
            try #require(FileManager.default.isExecutableFile(atPath: binary.path), "flotillactl is not built at \(binary.path)")
            return try await runProcess(
                binary,
                arguments: ["operator", "raft"] + arguments
                    + ["--addr", cluster.address(member), "--cacert", tls.caCertificate.path,
                       "--cert", tls.certificate.path, "--key", tls.privateKey.path],
                timeout: .seconds(30))
        }

        /// `list-peers --json` through MEMBER (it follows NOT_LEADER), until `done` holds.
        static func waitForPeers(via member: String, _ cluster: RaftClusterHarness, timeout: Duration = .seconds(20),
                                 _ what: String, until done: ([Info]) -> Bool) async throws -> [Info] {
            let deadline = ContinuousClock.now + timeout
            var last = "(no answer)"
            while ContinuousClock.now < deadline {
                let result = try await raft(["list-peers", "--json"], via: member, cluster)
                if result.status == 0 {
                    let members = try Flotilla_V1_RaftMembershipResponse(jsonString: result.stdout).members
                    if done(members) { return members }
                    last = describe(members)
                } else {
                    last = "exit \(result.status): \(result.stderr)"
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw ChildProcessError("list-peers never showed \(what) within \(timeout); last: \(last)\n\(cluster.tails(15))")
        }

        static func describe(_ members: [Info]) -> String {
            members.map { "\($0.name)(\($0.state), voter \($0.voter), reachable \($0.reachable), match \($0.matchIndex), commit \($0.commitIndex))" }
                .joined(separator: " ")
        }

        /// The rows of `list-peers`'s table: name → its columns (ROLE, VOTER, MATCH, ...).
        static func table(_ text: String) -> [String: [String]] {
            var rows: [String: [String]] = [:]
            for line in text.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                if let name = columns.first { rows[name] = columns }
            }
            return rows
        }

        /// Waits until MEMBERS have one leader and every other one is a caught-up follower of it.
        static func waitForGroup(_ members: [String], _ cluster: RaftClusterHarness,
                                 timeout: Duration = .seconds(20)) async throws -> String {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                var said: [String: String] = [:]
                for name in members { said[name] = await cluster.readiness(name) ?? "down" }
                let leaders = members.filter { said[$0] == "leader" }
                if leaders.count == 1,
                   members.allSatisfy({ $0 == leaders[0] || said[$0] == "follower of \(leaders[0]), caught up" }) {
                    return leaders[0]
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw ChildProcessError("\(members) did not settle: \(await cluster.describeReadiness())\n\(cluster.tails(15))")
        }

        /// A refused change: a non-zero exit, one `flotillactl:` line that says why, and no output.
        static func expectRefused(_ result: ProcessResult, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status != 0, "expected a refusal: \(result.stdout)", sourceLocation: sourceLocation)
            #expect(result.stderr.hasPrefix("flotillactl: "), "\(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(reason), "\(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stdout.isEmpty, "\(result.stdout)", sourceLocation: sourceLocation)
        }

        @Test("replacing a dead member as the README says: remove-peer, restart with it listed, join, add-peer --learner, catch up, promote, transfer; refused changes; no acknowledged job lost")
        func replaceDeadMember() async throws {
            try await RaftClusterHarness.withCluster(count: 4) { cluster in
                let began = ContinuousClock.now
                func step(_ what: String) { print("membership: +\(ContinuousClock.now - began) \(what)") }

                // Bootstrap c1..c3: each lists the three of them (c4 listed too would be a voter).
                cluster.coordinatorSettings = ["raft.peers": Self.peers(["c1", "c2", "c3"], cluster)]
                for name in ["c1", "c2", "c3"] { try await cluster.startCoordinator(name) }
                _ = try await Self.waitForGroup(["c1", "c2", "c3"], cluster)
                try await cluster.startWorker("w1", gpus: 4, models: RaftRecoveryTests.zero)
                let submitter = RaftFailoverTests.Submitter(client: try cluster.client(.client, "submitter"), model: "zero")
                var members = try await Self.waitForPeers(via: "c1", cluster, "three voters") { members in
                    members.map(\.name) == ["c1", "c2", "c3"] && members.allSatisfy(\.voter)
                        && members.filter { $0.state == .leader }.count == 1 && members.allSatisfy(\.reachable)
                }
                step("bootstrapped: \(Self.describe(members))")

                // c3 dies. Once an election timeout passes without word, list-peers says so.
                await cluster.kill("c3")
                var leader = try await Self.waitForGroup(["c1", "c2"], cluster)
                var follower = leader == "c1" ? "c2" : "c1"
                members = try await Self.waitForPeers(via: follower, cluster, "c3 unreachable") { members in
                    members.first { $0.name == "c3" }.map { !$0.reachable && $0.voter } == true
                }
                let beforeRemoval = try await Self.raft(["list-peers"], via: follower, cluster)
                #expect(beforeRemoval.status == 0, "\(beforeRemoval.stderr)")
                #expect(Self.table(beforeRemoval.stdout)["c3"]?[2] == "UNREACHABLE", "\(beforeRemoval.stdout)")
                step("c3 killed; \(leader) leads")

                // Refused changes, each a clear non-zero exit that changes nothing.
                Self.expectRefused(try await Self.raft(["add-peer", "c4", "--learner"], via: leader, cluster),
                                   "INVALID_ARGUMENT: c4 is not in this coordinator's raft.peers")
                Self.expectRefused(try await Self.raft(["remove-peer", "c9"], via: follower, cluster),
                                   "FAILED_PRECONDITION: cannot change the membership: unknown peer c9")
                Self.expectRefused(try await Self.raft(["add-peer", follower], via: leader, cluster),
                                   "cannot change the membership: invalid membership change: nothing changes")
                Self.expectRefused(try await Self.raft(["transfer-leadership", "--to", "c9"], via: follower, cluster),
                                   "cannot transfer leadership to c9")
                // With c3 dead, removing the live follower would leave {leader, c3}: one of two
                // reachable, a change that could never commit.
                Self.expectRefused(try await Self.raft(["remove-peer", follower], via: leader, cluster),
                                   "FAILED_PRECONDITION: refused: the new membership's voters would be \([leader, "c3"].sorted().joined(separator: ", ")), of which only 1 is reachable (c3 not heard from")
                Self.expectRefused(try await Self.raft(["transfer-leadership", "--to", leader], via: leader, cluster),
                                   "\(leader) already leads")
                members = try await Self.waitForPeers(via: leader, cluster, "the same three members") { members in
                    members.map(\.name) == ["c1", "c2", "c3"] && members.allSatisfy(\.voter)
                }

                // 1. Remove the dead member, through a follower (flotillactl follows NOT_LEADER).
                let removed = try await Self.raft(["remove-peer", "c3"], via: follower, cluster)
                #expect(removed.status == 0, "\(removed.stderr)")
                #expect(Set(Self.table(removed.stdout).keys) == ["c1", "c2"], "\(removed.stdout)")
                members = try await Self.waitForPeers(via: follower, cluster, "c3 gone") { members in
                    members.map(\.name) == ["c1", "c2"] && members.allSatisfy(\.voter) && members.allSatisfy(\.reachable)
                }
                Self.expectRefused(try await Self.raft(["remove-peer", "c3"], via: leader, cluster), "unknown peer c3")
                let afterRemoval = submitter.acknowledgedCount
                step("c3 removed: \(Self.describe(members))")

                // 2. c4 into every member's raft.peers: a rolling restart, follower first, then
                // the leader with SIGTERM (it hands over). Two voters: each restart stalls commits.
                cluster.coordinatorSettings["raft.peers"] = Self.peers(["c1", "c2", "c4"], cluster)
                for name in [follower, leader] {
                    let child = cluster.coordinators[name]!
                    child.signal(SIGTERM)
                    #expect(await child.waitForExit(timeout: .seconds(10)), "\(name) did not stop on SIGTERM")
                    try await cluster.startCoordinator(name)
                    _ = try await Self.waitForGroup(["c1", "c2"], cluster)
                }
                leader = try await Self.waitForGroup(["c1", "c2"], cluster)
                follower = leader == "c1" ? "c2" : "c1"
                members = try await Self.waitForPeers(via: follower, cluster, "c1 and c2 after the restart") { members in
                    members.map(\.name) == ["c1", "c2"] && members.allSatisfy(\.voter)
                }
                step("c1, c2 restarted with c4 listed; \(leader) leads")

                // 3. The replacement: an empty data directory, raft.join: true. It waits to be added.
                cluster.coordinatorSettings["raft.join"] = "true"
                try await cluster.startCoordinator("c4")
                cluster.coordinatorSettings["raft.join"] = nil
                try await cluster.coordinators["c4"]!.waitForOutput("recovered raft member", timeout: .seconds(5))
                #expect(await cluster.readiness("c4") != "leader")
                members = try await Self.waitForPeers(via: leader, cluster, "no c4 before add-peer") { members in
                    members.map(\.name) == ["c1", "c2"]
                }

                // 4. Add it as a learner (through a member: c4 knows no leader yet, so it could not
                // redirect), and wait for list-peers to show its match index caught up.
                let learner = try await Self.raft(["add-peer", "c4", "--learner"], via: follower, cluster)
                #expect(learner.status == 0, "\(learner.stderr)")
                #expect(Self.table(learner.stdout)["c4"]?[3] == "learner", "\(learner.stdout)")
                Self.expectRefused(try await Self.raft(["transfer-leadership", "--to", "c4"], via: leader, cluster),
                                   "c4 is a learner: promote it first")
                members = try await Self.waitForPeers(via: leader, cluster, "learner c4 caught up") { members in
                    guard let c4 = members.first(where: { $0.name == "c4" }) else { return false }
                    return members.map(\.name) == ["c1", "c2", "c4"] && !c4.voter && c4.reachable
                        && c4.matchIndex > 0 && c4.matchIndex >= c4.commitIndex
                        && members.filter { $0.name != "c4" }.allSatisfy(\.voter)
                }
                let caughtUp = members.first { $0.name == "c4" }!
                #expect(caughtUp.state == .follower)
                step("c4 a learner, match \(caughtUp.matchIndex) of commit \(caughtUp.commitIndex)")

                // 5. Promote it.
                let promoted = try await Self.raft(["add-peer", "c4"], via: leader, cluster)
                #expect(promoted.status == 0, "\(promoted.stderr)")
                #expect(Self.table(promoted.stdout)["c4"]?[3] == "yes", "\(promoted.stdout)")
                members = try await Self.waitForPeers(via: "c4", cluster, "three voters with c4") { members in
                    members.map(\.name) == ["c1", "c2", "c4"] && members.allSatisfy(\.voter) && members.allSatisfy(\.reachable)
                }
                let text = try await Self.raft(["list-peers"], via: follower, cluster)
                #expect(text.status == 0, "\(text.stderr)")
                let rows = Self.table(text.stdout)
                #expect(Set(rows.keys) == ["c1", "c2", "c4"], "\(text.stdout)")
                #expect(rows["c4"]?[2] == "FOLLOWER" && rows["c4"]?[3] == "yes", "\(text.stdout)")
                #expect(rows[leader]?[2] == "LEADER", "\(text.stdout)")
                _ = try await Self.waitForGroup(["c1", "c2", "c4"], cluster)
                step("c4 promoted: \(Self.describe(members))")

                // 6. Hand it leadership.
                let moved = try await Self.raft(["transfer-leadership", "--to", "c4"], via: follower, cluster)
                #expect(moved.status == 0, "\(moved.stderr)")
                #expect(moved.stdout.hasPrefix("leader: c4 "), "\(moved.stdout)")
                #expect(try await Self.waitForGroup(["c1", "c2", "c4"], cluster) == "c4")
                members = try await Self.waitForPeers(via: "c1", cluster, "c4 leading") { members in
                    members.map(\.name) == ["c1", "c2", "c4"] && members.allSatisfy(\.voter)
                        && members.first { $0.state == .leader }?.name == "c4"
                }
                step("c4 leads")

                // Submissions go on, and none acknowledged is lost: the new leader, whose state is
                // all replicated, has every one of them and runs them.
                let deadline = ContinuousClock.now + .seconds(10)
                while submitter.acknowledgedCount < afterRemoval + 5, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                let (acknowledged, conflicts, failures) = await submitter.stop()
                #expect(conflicts.isEmpty, "one idempotency key acknowledged as two jobs: \(conflicts)")
                #expect(acknowledged.count >= afterRemoval + 5, "\(acknowledged.count) acknowledged, \(afterRemoval) before the restarts")
                #expect(Set(acknowledged.values).count == acknowledged.count)
                let client = try cluster.client()
                try await RaftRecoveryTests.waitForSuccess(Array(acknowledged.values), client, timeout: .seconds(30))
                let after = try await RaftRecoveryTests.submit(3, prefix: "after-replacement", client)
                try await RaftRecoveryTests.waitForSuccess(after, client, timeout: .seconds(20))
                await client.close()
                #expect(try await Self.waitForGroup(["c1", "c2", "c4"], cluster) == "c4")
                step("\(acknowledged.count) acknowledged jobs all succeeded (\(failures) failed tries, retried); 3 more after")
            }
        }
    }
}
