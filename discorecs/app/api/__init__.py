"""The HTTP API and web app over the pipeline's Cassandra tables and Kafka topics."""
