import ArgumentParser
import FlotillaWire
import FlotillaWireFuzz

/// Runs the seeded malformed-input generator far longer than the test suite does.
struct FuzzBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fuzz", abstract: "Feed the frame decoder millions of malformed inputs.")

    @Option(help: "Number of cases.") var cases: Int = 1_000_000
    @Option(help: "PRNG seed.") var seed: UInt64 = 1

    func run() throws {
        let start = Measure.now()
        let result = WireFuzz.run(seed: seed, cases: cases)
        let seconds = Double(Measure.now() - start) / 1e9
        print("fuzz: \(result.cases) cases, \(result.errors) rejected with a WireError, no crash or hang, \(String(format: "%.1f", seconds)) s (\(Measure.format(Double(result.cases) / seconds)) cases/s), seed \(seed)")
    }
}
