"""``python -m spark_jobs.scoring`` (what spark-submit runs): the hourly sequence."""

from discorecs import logs
from spark_jobs.scoring.cli import score

if __name__ == "__main__":
    logs.configure()
    score()
