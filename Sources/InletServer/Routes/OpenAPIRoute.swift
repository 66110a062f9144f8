internal import HTTPTypes
internal import Hummingbird
internal import NIOCore

/// `GET /openapi.yaml`: the HTTP contract, the bytes of `docs/openapi.yaml`.
///
/// `Sources/InletServer/openapi.yaml` is a link to that file, embedded at build time
/// (`.embedInCode`), so the description served and the one in the repository are one file.
struct OpenAPIRoute: Sendable {
    static let document = ByteBuffer(bytes: PackageResources.openapi_yaml)

    func register(on routes: RouteTable) {
        routes.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: Self.document))
        }
    }
}
