# syntax=docker/dockerfile:1
# The one application image every service of docker-compose.yml runs from: Java 17, the
# project installed into /app/.venv (pyspark brings Spark 3.5.7 and its bin/spark-class), and
# the jars Maven resolves from deployment/pom.xml (Kafka 4.1, Cassandra 5.0, the Spark Kafka and
# Cassandra connectors). Kafka, Cassandra and the Spark daemons start through
# `discorecs cluster run NAME` with the launcher's own configs; the stream, the hourly job and
# the API are `discorecs` commands, so Spark drivers and executors run the same Python.

FROM maven:3.9.9-eclipse-temurin-17 AS jars
WORKDIR /src
COPY deployment/pom.xml deployment/pom.xml
RUN for profile in kafka cassandra spark; do \
      mvn -q -B -f deployment/pom.xml -P "$profile" dependency:copy-dependencies || exit 1; \
    done

FROM python:3.11-slim-bookworm
# The Java 17 package's post-install script needs the man folder the slim image leaves out.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps util-linux \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 discorecs \
 && mkdir -p /data \
 && chown discorecs /data
WORKDIR /app
COPY --chown=discorecs . /app
RUN python -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir /app
COPY --from=jars --chown=discorecs /src/.jars /app/.jars
ENV PATH=/app/.venv/bin:$PATH \
    DISCORECS_JARS_DIR=/app/.jars \
    DISCORECS_CLUSTER_DIR=/data
USER discorecs
VOLUME /data
CMD ["discorecs", "--help"]
