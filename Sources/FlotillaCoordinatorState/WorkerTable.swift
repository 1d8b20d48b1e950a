/// The registered workers in registration order, with an index by id. Workers
/// are never removed (a lost one stays, so its history can be listed), so the
/// order is an array: `all` hands it out without copying a worker, where a
/// dictionary would make every liveness pass and placement round hash each id
/// and copy each worker into a new array (a coordinator with 10,000 workers
/// ticks five times a second).
struct WorkerTable: Hashable, Sendable {
    private(set) var all: [Worker] = []
    private var positions: [WorkerID: Int] = [:]

    var count: Int { all.count }
    var values: [Worker] { all }

    /// Reading gives the worker, if registered; writing replaces it, or appends
    /// a newly registered one. A worker cannot be unregistered.
    subscript(id: WorkerID) -> Worker? {
        get { positions[id].map { all[$0] } }
        set {
            guard let newValue else { preconditionFailure("workers are never removed (\(id))") }
            precondition(newValue.id == id, "worker \(newValue.id) stored under \(id)")
            if let position = positions[id] {
                all[position] = newValue
            } else {
                positions[id] = all.count
                all.append(newValue)
            }
        }
    }

    static func == (left: WorkerTable, right: WorkerTable) -> Bool { left.all == right.all }
    func hash(into hasher: inout Hasher) { hasher.combine(all) }
}
