"""One module per ``switchboard`` subcommand, each with ``add_arguments(parser)`` and ``run(args) -> int``."""
