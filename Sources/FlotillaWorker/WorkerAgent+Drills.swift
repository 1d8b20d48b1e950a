import FlotillaProto
import Foundation
import Logging

/// Playing a drill's fault (PROTOCOL.md §14.2). Only with `drills.allow`, and
/// never beyond this worker's own process, its jobs and its checkpoint directory.
extension WorkerAgent {
    func handleDrill(_ fault: Flotilla_V1_DrillFault) {
        let metadata: Logger.Metadata = ["flotilla.drill": "\(fault.drillID)", "flotilla.action": "\(fault.action)"]
        switch drills.receive(fault, allowed: configuration.allowsDrills, at: .now) {
        case .refuse(let reason):
            logger.warning("drill fault refused: \(reason)", metadata: metadata)
        case .kill:
            logger.critical("drill: killing this worker (SIGKILL), as a crash would", metadata: metadata)
            drillKill()
        case .corruptThenKill(let uri):
            if let damaged = Self.corrupt(uri, within: configuration.checkpointDirectory) {
                logger.critical("drill: damaged checkpoint \(damaged); killing this worker (SIGKILL)", metadata: metadata)
            } else {
                logger.critical("drill: checkpoint \(uri) is not a file under \(configuration.checkpointDirectory); killing this worker (SIGKILL)", metadata: metadata)
            }
            drillKill()
        case .frozen(let until):
            logger.critical("drill: frozen for \(until - .now): no heartbeats, reports or directives", metadata: metadata)
            Task {
                try? await Task.sleep(until: until)
                self.drillFaultOver()
            }
        case .slowed(let delay, let until):
            logger.critical("drill: every heartbeat and report delayed by \(delay) for \(until - .now)", metadata: metadata)
        case .ended:
            logger.notice("drill: fault ended by the coordinator", metadata: metadata)
            drillFaultOver()
        }
    }

    /// A freeze is over: what waited goes out.
    func drillFaultOver() {
        guard drills.frozen(at: .now) == nil else { return }
        kickCourier()
    }

    /// Waits out a freeze and a slow fault before a heartbeat or report goes out.
    func drillHold() async {
        while let until = drills.frozen(at: .now) {
            try? await Task.sleep(until: until)
        }
        let delay = drills.delay(at: .now)
        if delay > .zero { try? await Task.sleep(for: delay) }
    }

    /// Overwrites the first bytes of the checkpoint file (same size, wrong
    /// digest); only a regular file under `directory`. Returns its path.
    static func corrupt(_ uri: String, within directory: String) -> String? {
        guard let path = CheckpointVerifier.path(of: uri),
              let resolved = CheckpointVerifier.resolve(path, within: directory) else { return nil }
        let fd = open(resolved, O_RDWR | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size > 0 else { return nil }
        let count = min(Int(status.st_size), 4_096)
        var bytes = [UInt8](repeating: 0, count: count)
        guard pread(fd, &bytes, count, 0) == count else { return nil }
        for index in bytes.indices { bytes[index] ^= 0xA5 }
        guard pwrite(fd, bytes, count, 0) == count else { return nil }
        fsync(fd)
        return resolved
    }
}
