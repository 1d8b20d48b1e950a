import FlotillaCoordinatorState
import FlotillaProto
import Testing

/// A gap in the log, or a command kind this binary does not know, stops the replay
/// instead of being applied as a no-op (issue 8, item 5).
@Suite struct ApplyCheckedTests {
    static func entry(_ index: UInt64, _ command: Flotilla_V1_Command) -> LogEntryRecord {
        LogEntryRecord(index: index, term: 1, command: command)
    }

    @Test func aGapIsRefusedNamingTheMissingEntries() throws {
        var state = CoordinatorState()
        _ = try state.applyChecked(Self.entry(1, .termStarted(leader: "c1", at: 1)))
        #expect(throws: ApplyError.gap(expected: 2, found: 5)) {
            try state.applyChecked(Self.entry(5, .termStarted(leader: "c1", at: 2)))
        }
        #expect(state.lastAppliedIndex == 1)
        #expect("\(ApplyError.gap(expected: 2, found: 5))".contains("entries 2...4 are missing"))
    }

    @Test func aCommandOfAnUnknownKindIsRefused() throws {
        // Field 999 of Command: a kind some later version added.
        let payload: [UInt8] = [0xb8, 0x3e, 0x01]
        let record = try LogEntryRecord(index: 1, term: 1, payload: payload)
        #expect(record.command.kind == nil)
        var state = CoordinatorState()
        #expect(throws: ApplyError.unknownCommand(index: 1)) { try state.applyChecked(record) }
        #expect(state.lastAppliedIndex == 0, "the state must not move past an entry it cannot apply")
        // The unchecked apply would have skipped it silently.
        var unchecked = CoordinatorState()
        _ = unchecked.apply(record)
        #expect(unchecked.lastAppliedIndex == 1)
    }

    @Test func entriesASnapshotCoversAreStillSkipped() throws {
        var state = CoordinatorState()
        _ = try state.applyChecked(Self.entry(1, .termStarted(leader: "c1", at: 1)))
        let again = try state.applyChecked(Self.entry(1, .termStarted(leader: "c1", at: 1)))
        #expect(again.duplicate)
    }
}
