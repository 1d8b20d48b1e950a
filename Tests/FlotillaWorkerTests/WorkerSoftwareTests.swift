import FlotillaWorker
import Testing

@Test func softwareNamesTheWorker() {
    #expect(WorkerSoftware.version.hasPrefix("flotilla-worker/"))
}
