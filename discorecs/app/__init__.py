"""The application layer: the ``discorecs`` CLI, load test, verification and operations."""
