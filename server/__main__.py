from server.cli import entry

entry()
