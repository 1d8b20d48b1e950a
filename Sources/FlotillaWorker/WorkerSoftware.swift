/// What the worker reports as its software in RegisterWorkerRequest.
public enum WorkerSoftware {
    public static let version = "flotilla-worker/0.3"
}
