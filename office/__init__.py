"""The offices: their configuration (``config.yaml``: services, standards, hours, channels) and
their working days and dates. The bottom layer above storage: imports nothing of the project."""
