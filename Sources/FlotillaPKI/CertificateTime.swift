import Foundation

/// Dates as the `time_t` OpenSSL takes. X.509 times end at 9999-12-31, and converting an
/// out-of-range Double to an integer would trap, so such dates are an error instead.
enum CertificateTime {
    static let latest: TimeInterval = 253_402_300_799

    static func timeT(_ date: Date) throws -> time_t {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite, seconds >= 0, seconds <= latest else {
            throw PKIError.invalidValidity("\(date) is outside the years 1970-9999 that certificates can express")
        }
        return time_t(seconds)
    }
}
