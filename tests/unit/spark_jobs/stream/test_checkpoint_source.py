"""A checkpoint resumes only on the Kafka topics it was read from."""

from spark_jobs.stream.checkpoint_source import foreign_checkpoint

TOPICS = {"activity": "a1", "collections": "c1", "users": "u1"}


def test_the_same_topics_may_resume() -> None:
    assert foreign_checkpoint(TOPICS, dict(TOPICS)) is None


def test_topics_made_anew_are_named() -> None:
    anew = {**TOPICS, "collections": "c2"}
    assert foreign_checkpoint(TOPICS, anew) == (
        "its topics were ['activity', 'collections', 'users']; the stream's differ in "
        "['collections']"
    )


def test_other_topic_names_are_named() -> None:
    other = {f"t.{name}": topic_id for name, topic_id in TOPICS.items()}
    why = foreign_checkpoint(TOPICS, other)
    assert why is not None and "'t.users'" in why and "'users'" in why
