import FlotillaProto
import FlotillaTransport
import Logging
import SwiftProtobuf

/// One session: connect, register, subscribe, then heartbeat and take
/// directives until the connection, the stream or a heartbeat fails.
extension WorkerAgent {
    /// Why a session ended on the worker's own initiative.
    struct SessionEnded: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs one session; returns whether it got as far as registering.
    func runSession(failures: Int) async -> Bool {
        let connection: FlotillaConnection
        let response: Flotilla_V1_RegisterWorkerResponse
        do {
            response = try await client.request(registration(), expecting: Flotilla_V1_RegisterWorkerResponse.self,
                                                timeout: .milliseconds(requestTimeout.milliseconds))
            connection = try await client.connection()
        } catch {
            logger.warning("cannot register with the coordinators", metadata: [
                "flotilla.attempt": "\(failures + 1)", "flotilla.coordinators": "\(configuration.coordinators.map(\.description).joined(separator: ","))",
                "error": "\(error)",
            ])
            if let error = error as? FlotillaError, error.code == .notLeader { await client.close() }
            return false
        }
        registered(response, reconnect: failures > 0 || workerID != nil)

        var subscribe = Flotilla_V1_SubscribeDirectivesRequest()
        subscribe.workerID = response.workerID
        subscribe.acceptsBatches = true
        let directives = connection.stream(subscribe)
        let (interrupts, interrupt) = AsyncStream<String>.makeStream()
        session = connection
        sessionInterrupt = interrupt
        if shutdownReason != nil { queueDrainNotice() }
        workChanged()
        kickCourier()

        let reason: String
        do {
            reason = try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask { try await self.heartbeats(on: connection) }
                group.addTask { try await self.follow(directives) }
                group.addTask {
                    for await reason in interrupts { return reason }
                    return "session interrupted"
                }
                defer { group.cancelAll() }
                return try await group.next() ?? "session ended"
            }
        } catch {
            reason = "\(error)"
            // The coordinator holds the connection but stopped answering (frozen, or a leader
            // cut off): try the next one instead of waiting on it again.
            if let error = error as? FlotillaError, error.code == .deadlineExceeded { await client.abandonConnection() }
        }
        session = nil
        sessionInterrupt = nil
        outbox.dropProgress()
        workChanged()
        if !finished {
            logger.warning("connection lost; reconnecting", metadata: ["flotilla.reason": "\(reason)"])
        }
        return true
    }

    /// Ends the current session (re-register, reconnect or stop).
    func interruptSession(_ reason: String) {
        sessionInterrupt?.yield(reason)
    }

    func registration() -> Flotilla_V1_RegisterWorkerRequest {
        var request = Flotilla_V1_RegisterWorkerRequest()
        request.name = configuration.name
        request.gpus = gpus
        request.models = configuration.models.map(\.name)
        request.labels = configuration.labels
        request.running = runningAttempts
        request.region = configuration.region
        request.software = WorkerSoftware.version
        request.allowsDrills = configuration.allowsDrills
        return request
    }

    private func registered(_ response: Flotilla_V1_RegisterWorkerResponse, reconnect: Bool) {
        workerID = response.workerID
        logger[metadataKey: "flotilla.worker_id"] = "\(response.workerID)"
        let interval = Duration.milliseconds(Int64(response.heartbeatIntervalMs == 0 ? 5_000 : response.heartbeatIntervalMs))
        let timeout = Duration.milliseconds(Int64(response.heartbeatTimeoutMs == 0 ? 15_000 : response.heartbeatTimeoutMs))
        perform(core.on(.registered(interval: interval, timeout: timeout), at: .now))
        logger.info(reconnect ? "reconnected: worker registered again" : "worker registered", metadata: [
            "flotilla.name": "\(configuration.name)",
            "flotilla.gpus": "\(gpus.map { "\($0.index):\($0.type)" }.joined(separator: ","))",
            "flotilla.models": "\(configuration.models.map(\.name).joined(separator: ","))",
            "flotilla.running": "\(attempts.count)",
            "flotilla.heartbeat_ms": "\(heartbeatInterval.milliseconds)",
        ])
        for stop in response.stop {
            silence(jobID: stop.jobID, token: stop.token, because: "the coordinator does not recognise it after registration")
        }
    }

    /// Heartbeats until one fails; NOT_FOUND (declared lost, or a coordinator
    /// that lost its state) ends the session so the worker registers again.
    private func heartbeats(on connection: FlotillaConnection) async throws -> String {
        while true {
            try await Task.sleep(for: heartbeatInterval)
            await drillHold()
            let request = heartbeatRequest()
            do {
                let response = try await connection.request(
                    request, expecting: Flotilla_V1_HeartbeatResponse.self, timeout: .milliseconds(requestTimeout.milliseconds))
                apply(response)
            } catch let error as FlotillaError where error.code == .notFound {
                return "heartbeat refused (\(error)); registering again"
            }
        }
    }

    private func heartbeatRequest() -> Flotilla_V1_HeartbeatRequest {
        var request = Flotilla_V1_HeartbeatRequest()
        request.workerID = workerID ?? ""
        request.running = runningAttempts
        request.freeGpus = UInt32(freeGPUCount)
        request.draining = draining
        return request
    }

    private func apply(_ response: Flotilla_V1_HeartbeatResponse) {
        acknowledged()
        for stop in response.stop {
            silence(jobID: stop.jobID, token: stop.token, because: "superseded or cancelled (heartbeat)")
        }
        if response.drain { startDraining(by: "the coordinator (heartbeat)") }
    }

    /// Directives until the stream ends: a stream ends only with its connection
    /// or a newer subscription, so either way the session is over.
    private nonisolated func follow(_ directives: AsyncThrowingStream<any SwiftProtobuf.Message, any Error>) async throws -> String {
        for try await message in directives {
            if let directive = message as? Flotilla_V1_WorkerDirective {
                await handle(directive)
            } else if let batch = message as? Flotilla_V1_WorkerDirectives {
                await handle(batch.directives)
            }
        }
        return "the directive stream ended"
    }
}

extension Duration {
    /// Whole milliseconds, for the protocol's *_ms fields and NIO timeouts.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
