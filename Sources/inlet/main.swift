import InletCommand

// Before any thread starts, so that all inherit it: a woken thread does not preempt the
// one that woke it, and a committed batch is answered in one go (see the doc comment).
InletCommand.useBatchScheduling()
await InletCommand.main(handlers: builtinHandlers)
