import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
import NIOCore
import Testing

/// The HTTP contract: `GET /openapi.yaml` serves `docs/openapi.yaml`, and what
/// schemathesis (scripts/contract-test.sh) found kept as tests.
@Suite struct ContractTests {
    /// `docs/openapi.yaml` of this checkout.
    static func description() throws -> Data {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try Data(contentsOf: root.appendingPathComponent("docs/openapi.yaml"))
    }

    @Test func servesTheDescriptionInTheRepository() async throws {
        let folder = try TemporaryFolder()
        let expected = try Self.description()
        try await withInlet(folder: folder) { client in
            let response = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(Data(response.body.readableBytesView) == expected)
            let post = try await client.execute(uri: "/openapi.yaml", method: .post)
            #expect(post.status == .methodNotAllowed)
            #expect(post.headers[.allow] == "GET")
        }
    }
}
