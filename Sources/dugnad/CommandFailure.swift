/// A command that could not do what was asked, said without the usage text: ArgumentParser
/// prints "Error: " and the description, and exits with 1. (A `ValidationError`, for input
/// that is wrong before anything is opened, also prints the usage and exits with 64.)
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
