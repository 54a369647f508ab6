"""The shared floor every stage builds on; it imports no stage and no application module.

Settings, logs, genres, the event schema, table declarations, Cassandra and Kafka helpers.
"""
