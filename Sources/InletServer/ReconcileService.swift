internal import Auth0Management
internal import InletCore
internal import Logging
internal import ServiceLifecycle

/// The reconciler as a service of `inlet serve` (`AUTH0_RECONCILE_INTERVAL`): one run at
/// start-up, then one every interval, until shutdown. A failed run is logged and tried
/// again at the next interval; its cursor keeps what it finished.
struct ReconcileService: Service {
    let reconciler: UserReconciler
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await self.reconciler.run() }
            } catch where Task.isCancelled || Task.isShuttingDownGracefully {
                return
            } catch {
                self.logger.warning("reconcile: the run failed; the next one resumes from its cursor", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
        }
    }
}
