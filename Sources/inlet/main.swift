import InletCommand

await InletCommand.main(handlers: builtinHandlers)
