// Times come from commands and configuration; arithmetic on them must not
// trap on absurd values (applying is total), so it saturates.
public extension UInt64 {
    func saturatingAdd(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    func saturatingSubtract(_ other: UInt64) -> UInt64 { self > other ? self - other : 0 }
}
