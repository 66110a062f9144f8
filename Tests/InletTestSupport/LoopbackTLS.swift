public import Foundation
public import NIOSSL

/// TLS for a fake server on 127.0.0.1 that a real `inlet serve` reaches over `https://`
/// (which is all it speaks to Auth0): a self-signed certificate for IP 127.0.0.1, the
/// server context that presents it, and a PEM file of it for the client to trust
/// (`INLET_CA_BUNDLE`). Verification stays on in the client, as in production.
///
/// ```swift
/// let tls = try LoopbackTLS()
/// let listener = try await LoopbackHTTPListener.start(tls: tls) { MyHandler() }
/// // inlet serve with INLET_CA_BUNDLE=\(tls.certificateFile) reaches https://127.0.0.1:\(listener.port)
/// ```
public final class LoopbackTLS: Sendable {
    public let context: NIOSSLContext
    /// A PEM file holding the certificate (removed with this object).
    public let certificateFile: String

    public init(key: TestRSAKey = .primary) throws {
        let der = key.loopbackServerCertificateDER
        let certificate = try NIOSSLCertificate(bytes: der, format: .der)
        let privateKey = try NIOSSLPrivateKey(bytes: key.privateKeyDER, format: .der)
        self.context = try NIOSSLContext(
            configuration: .makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(privateKey))
        )
        self.certificateFile = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-loopback-\(UUID().uuidString).pem").path
        try Self.pem(der).write(toFile: self.certificateFile, atomically: true, encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.certificateFile)
    }

    static func pem(_ der: [UInt8]) -> String {
        let body = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n"
    }
}
