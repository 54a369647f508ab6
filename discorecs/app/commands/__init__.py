"""The ``discorecs`` subcommands, one module per group; each a thin shell over a library call."""
