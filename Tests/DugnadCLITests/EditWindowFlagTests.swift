import Foundation
import Testing

/// `dugnad serve --edit-window`: the minutes an author may edit a message, and the values
/// it refuses to start with.
@Suite struct EditWindowFlagTests {
    @Test func aNegativeOrOverAYearWindowStopsTheStart() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        for value in ["-1", "527041", "soon"] {
            let refused = try await command.run([
                "serve", "--port", "0", "--data-dir", command.folder.path, "--edit-window=\(value)",
            ])
            #expect(refused.exited, "\(value)")
            #expect(refused.status != 0, "\(value)")
            #expect((refused.stdout + refused.stderr).contains("edit-window"), "\(value)")
        }
    }
}
