import AuditHandler
import ForwardHandler
import InletCommand
import StarterLogHandler

// Inlet's command line (`serve`, `migrate`, `events`, `replay`, `purge`, `handlers`,
// `settings`) with the built-in handlers this team wants and its own.
await InletCommand.main { resources in
    [
        AuditHandler.factory,
        ForwardHandler.factory(client: resources.http),
        StarterLogHandler.factory,
    ]
}
