import FlotillaCoordinatorState
import FlotillaProto

/// Preemption for a premium job that fits nowhere: wait for victims already
/// checkpointing, or choose new ones (free before standard, youngest first,
/// fewest victims) on the one worker where that frees enough GPUs.
extension SchedulingRound {
    /// True when room is being made (the worker is then held for the job).
    mutating func makeRoom(for candidate: Candidate) -> Bool {
        let job = candidate.job
        let count = Int(job.spec.gpuCount)
        let type = job.spec.gpuType
        var hosts: [Int] = []
        for model in candidate.models {
            for position in capacity.positions(serving: model) where capacity.reservedFor[position] == nil {
                guard capacity.satisfies(position, labels: job.spec.labels),
                      capacity.totalCount(position, type: type) >= count, !hosts.contains(position) else { continue }
                hosts.append(position)
            }
        }
        // Victims chosen earlier are already making room: wait for them.
        for position in hosts where capacity.freeCount(position, type: type) + pendingGPUs(position, type: type) >= count {
            hold(position, for: candidate)
            return true
        }
        let shape = Shape(model: candidate.models.joined(separator: ","), type: type.lowercased(), count: count,
                          labels: job.spec.labels)
        guard preemptionPlans < policy.preemption.maxPlansPerRound, !noRoomShapes.contains(shape) else { return false }
        var best: (key: (Int, Int, UInt64, Int), victims: [Victim], position: Int)?
        for position in hosts {
            guard let victims = victims(on: position, freeing: count - capacity.freeCount(position, type: type),
                                        type: type, for: job) else { continue }
            let standard = victims.count { $0.job.spec.tier.rank < Flotilla_V1_Tier.free.rank }
            let key = (standard, victims.count, UInt64.max - (victims.map(\.attempt.startedAt).min() ?? 0), position)
            if best.map({ key < $0.key }) ?? true { best = (key, victims, position) }
        }
        guard let best else {
            noRoomShapes.insert(shape)
            return false
        }
        preemptionPlans += 1
        for victim in best.victims {
            chosenVictims.insert(victim.job.id)
            addPending(victim.attempt, on: best.position)
            decision.preemptions.append(Preemption(
                victim: victim.job.id, token: victim.attempt.token, workerID: capacity.workers[best.position].id,
                beneficiary: job.id))
        }
        hold(best.position, for: candidate)
        return true
    }

    struct Victim {
        var job: Job
        var attempt: Attempt
        var gpus: Int
    }

    /// GPUs of `type` on the worker held by attempts already told to make room.
    func pendingGPUs(_ position: Int, type: String) -> Int {
        pendingByPosition[position]?[type.lowercased()] ?? 0
    }

    mutating func addPending(_ attempt: Attempt, on position: Int) {
        for gpu in capacity.workers[position].gpus where attempt.gpuIndices.contains(gpu.index) {
            pendingByPosition[position, default: [:]][gpu.type.lowercased(), default: 0] += 1
            pendingByPosition[position, default: [:]]["", default: 0] += 1
        }
    }

    /// The fewest victims that free `needed` GPUs, taken free tier first and
    /// youngest first; nil when the worker's preemptible jobs cannot.
    func victims(on position: Int, freeing needed: Int, type: String, for job: Job) -> [Victim]? {
        guard needed > 0 else { return nil }
        let window = policy.preemption.windowMs
        var eligible = runningAttempts(position).compactMap { entry -> Victim? in
            let victim = entry.job
            guard victim.spec.tier.rank > job.spec.tier.rank,
                  policy.preemption.preemptibleTiers.contains(victim.spec.tier),
                  entry.attempt.state != .checkpointing, !chosenVictims.contains(victim.id),
                  !victim.attempts.contains(where: { attempt in
                      attempt.checkpointReason == .preemption && attempt.state == .preempted
                          && attempt.endedAt.saturatingAdd(window) > now
                  }) else { return nil }
            let gpus = gpuCount(entry.attempt, on: position, type: type)
            return gpus > 0 ? Victim(job: victim, attempt: entry.attempt, gpus: gpus) : nil
        }
        eligible.sort { ($0.job.spec.tier.rank, $0.attempt.startedAt) > ($1.job.spec.tier.rank, $1.attempt.startedAt) }
        var chosen: [Victim] = []
        var freed = 0
        for victim in eligible where freed < needed {
            chosen.append(victim)
            freed += victim.gpus
        }
        guard freed >= needed else { return nil }
        // Fewest victims: drop any the others already cover, least preferred first.
        for index in chosen.indices.reversed() where freed - chosen[index].gpus >= needed {
            freed -= chosen[index].gpus
            chosen.remove(at: index)
        }
        return chosen
    }

    /// The live attempts on a worker with their jobs, in job order.
    func runningAttempts(_ position: Int) -> [(job: Job, attempt: Attempt)] {
        Set(capacity.workers[position].allocations.values).sorted { $0.rawValue < $1.rawValue }.compactMap { id in
            guard let job = state.job(id), let attempt = job.liveAttempt,
                  attempt.workerID == capacity.workers[position].id else { return nil }
            return (job, attempt)
        }
    }

    func gpuCount(_ attempt: Attempt, on position: Int, type: String) -> Int {
        let gpus = capacity.workers[position].gpus
        return attempt.gpuIndices.count { index in
            gpus.contains { $0.index == index && Worker.gpu($0, matches: type) }
        }
    }
}
