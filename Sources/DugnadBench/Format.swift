import Foundation

/// Number formatting for the progress line and the summary.
enum Format {
    /// 1234567 → "1,234,567".
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }

    static func millis(_ value: Double) -> String {
        String(format: value < 10 ? "%.2f" : value < 100 ? "%.1f" : "%.0f", value)
    }

    static func seconds(_ value: Double) -> String {
        String(format: "%.1fs", value)
    }

    static func rate(_ value: Double) -> String {
        count(Int(value.rounded()))
    }

    static func percent(_ value: Double) -> String {
        String(format: "%.1f%%", value)
    }

    /// Rounds for JSON so the output stays readable (microsecond resolution for ms values).
    static func rounded(_ value: Double, places: Int = 3) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}
