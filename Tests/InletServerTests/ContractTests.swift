import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
@testable import InletServer
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

    /// The operations `docs/openapi.yaml` describes, read from its `paths:` section (two
    /// spaces before a path, four before a method), path parameters filled in.
    static func operations() throws -> [(method: HTTPRequest.Method, path: String)] {
        let text = String(decoding: try Self.description(), as: UTF8.self)
        let paths = text.components(separatedBy: "\npaths:\n")[1].components(separatedBy: "\ncomponents:\n")[0]
        var operations: [(HTTPRequest.Method, String)] = []
        var path = ""
        for line in paths.split(separator: "\n") where line.hasSuffix(":") {
            if line.hasPrefix("  /") {
                path = String(line.dropFirst(2).dropLast()).replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "x-1", options: .regularExpression)
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let method = HTTPRequest.Method(String(line.dropFirst(4).dropLast()).uppercased()) {
                operations.append((method, path))
            }
        }
        return operations
    }

    /// What schemathesis checks on every operation, kept here: each described operation is
    /// served; without a credential a protected one is refused in the contract's shape (401
    /// with a Bearer challenge, or 503 for `/auth/*` while access tokens cannot be checked);
    /// another method is 405 with `Allow` naming the described ones.
    @Test func everyDescribedOperationIsServedInTheContractsShape() async throws {
        let folder = try TemporaryFolder()
        let operations = try Self.operations()
        #expect(operations.count == 23)
        let open: Set<String> = ["/healthz", "/readyz", "/metrics", "/openapi.yaml"]
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            for (method, path) in operations {
                let headers: HTTPFields = method == .post ? [.contentType: "application/json"] : [:]
                let response = try await client.execute(uri: path, method: method, headers: headers, body: ByteBuffer(string: method == .post ? "{}" : ""))
                if open.contains(path) {
                    #expect(response.status == .ok, "\(method) \(path)")
                    continue
                }
                if path.hasPrefix("/auth/") {
                    #expect(response.status == .serviceUnavailable, "\(method) \(path)")
                    #expect(try response.json["error"] == "unavailable")
                    continue
                }
                #expect(response.status == .unauthorized, "\(method) \(path): \(response.text)")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer ") == true, "\(method) \(path)")
                #expect(response.headers[.contentType] == "application/json")
                let body = try response.json
                #expect(body["error"] == "unauthorized")
                #expect(body["message"]?.stringValue?.isEmpty == false)
            }
            for path in Set(operations.map(\.path)) {
                let described = operations.filter { $0.path == path }.map(\.method.rawValue).sorted()
                let response = try await client.execute(uri: path, method: .delete)
                #expect(response.status == .methodNotAllowed, "DELETE \(path)")
                #expect(response.headers[.allow]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.sorted() == described)
                #expect(try response.json["error"] == "method_not_allowed")
            }
        }
    }

    /// Schemathesis sends JSON that is valid but holds U+0000 in a key or string; Inlet
    /// refuses it (so no two readers see different text), as a 400 in the contract's shape.
    @Test(arguments: [#"{"auth0Id":"auth0|nul","\u0000x":1}"#, #"{"auth0Id":"auth0|\u0000"}"#])
    func aNULCharacterIsABadRequest(_ body: String) async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder) { client in
            let response = try await client.syncUser(body)
            #expect(response.status == .badRequest)
            #expect(try response.json["error"] == "bad_request")
            #expect(try count(db, "users") == 0)
        }
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
