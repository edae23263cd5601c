"""CLI commands by area; each module has ``register(cli)``.  Only the CLI imports these."""
