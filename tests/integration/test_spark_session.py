"""The Spark session on the real cluster: its Cassandra connector."""

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
