import Foundation

/// Wall-clock time in the units the contract uses: milliseconds since the Unix epoch (`ts`,
/// stored times, `exp`). Named so that it does not shadow the standard library's `Clock`.
public enum WallClock {
    public static func nowMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
