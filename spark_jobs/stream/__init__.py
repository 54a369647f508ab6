"""Structured Streaming from the event topics into Cassandra (``discorecs stream``)."""
