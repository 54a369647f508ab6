"""The Spark session on the real cluster: its Cassandra connector, its log configuration."""

from __future__ import annotations

from pyspark.sql import SparkSession


def test_the_connectors_batches_may_be_resent_after_a_timeout(spark: SparkSession) -> None:
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    connector = jvm.com.datastax.spark.connector.cql.CassandraConnector.apply(
        spark.sparkContext._jsc.sc().getConf()
    )
    session = connector.openSession()
    try:
        profile = session.getContext().getConfig().getDefaultProfile()
        option = jvm.com.datastax.oss.driver.api.core.config.DefaultDriverOption
        assert profile.getBoolean(option.REQUEST_DEFAULT_IDEMPOTENCE), (
            "a batch without its own flag counts as idempotent, so a timed-out one is retried"
        )
        assert profile.getString(option.RETRY_POLICY_CLASS).endswith("MultipleRetryPolicy")
    finally:
        session.close()


def test_the_large_task_warning_alone_is_left_out_of_the_jobs_logs(spark: SparkSession) -> None:
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    log4j = jvm.org.apache.logging.log4j
    config = log4j.LogManager.getContext(False).getConfiguration()
    scheduler = config.getLoggerConfig("org.apache.spark.scheduler.TaskSetManager")

    def passes(text: str) -> bool:
        event = (
            log4j.core.impl.Log4jLogEvent.newBuilder()
            .setLoggerName(scheduler.getName())
            .setLevel(log4j.Level.WARN)
            .setMessage(log4j.message.SimpleMessage(text))
            .build()
        )
        return not scheduler.isFiltered(event)

    assert not passes(
        "Stage 33 contains a task of very large size (12695 KiB). "
        "The maximum recommended task size is 1000 KiB."
    )
    assert passes("Lost task 0.0 in stage 3.0 (TID 7) (127.0.0.1 executor driver): boom")
