"""A class-data-sharing archive of a Spark driver JVM, so a cold start maps classes it once parsed.

A cold driver spends seconds of its first micro-batch loading and linking Spark's and the
connector's classes on a busy CPU. The JDK's dynamic AppCDS archive records the classes a run loaded
(``-XX:ArchiveClassesAtExit``) and later runs map them (``-XX:SharedArchiveFile``). One archive
per app and JVM/Spark install lives in ``spark.class_archive_dir``: the first run without
one writes it to a part file as its JVM exits, and publishes it with an atomic rename once the
JVM exited cleanly, so a killed run leaves no half-written archive in use (two first runs at
once each write a part; the last rename wins). The JVM itself checks an archive against its
classpath and runs without it (``-Xshare:auto``) when they differ.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pyspark
from pyspark import SparkContext

from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from spark_jobs.session import spark_jars

log = get_logger("class_archive")

EXIT_WAIT_S = 60.0
"""How long to wait for the driver JVM to write its archive and exit."""

STALE_PART_S = 3600.0
"""A part file untouched this long belongs to a JVM that died while writing it."""

QUIET = "-Xlog:cds=off,cds+dynamic=off"
"""Turns off the JVM's per-class archiving warnings, thousands of lines on a dump."""


@dataclass(frozen=True)
class ArchivePlan:
    """What one driver JVM does with its app's archive.

    Attributes:
        java_options: Extra driver JVM options (empty when archiving is off).
        archive: Where the app's archive is published.
        part: The file this JVM dumps to at exit, or None when it maps ``archive`` or is off.

    """

    java_options: tuple[str, ...]
    archive: Path
    part: Path | None

    @property
    def mode(self) -> str:
        """``off``, ``map`` (the archive exists) or ``dump`` (this JVM writes it)."""
        if not self.java_options:
            return "off"
        return "map" if self.part is None else "dump"


def install_digest(java: Path, connector_jars: list[str]) -> str:
    """A digest of what an archive is only valid for: the JDK's classes and the driver's jars.

    Args:
        java: The ``java`` executable the driver runs.
        connector_jars: The jars the driver adds to Spark's own (:func:`spark_jars`).

    Returns:
        Twelve hex digits.

    """
    home = java.resolve().parent.parent
    pyspark_jars = Path(pyspark.__file__).parent / "jars"
    parts = [str(home), pyspark.__version__]
    jars = [*sorted(pyspark_jars.glob("*.jar")), *map(Path, connector_jars)]
    for path in [home / "lib" / "modules", *jars]:
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:12]


def plan(settings: Settings, app_name: str, *, gateway_running: bool) -> ArchivePlan:
    """Decide whether the next driver JVM maps the app's archive, writes it, or neither.

    Args:
        settings: ``spark.class_archive`` switches archiving; the archives live in
            ``spark.class_archive_dir``.
        app_name: The Spark app; each app has its own archive.
        gateway_running: A JVM already runs in this process; a session reuses it, so its
            options would not apply and it must not be stopped early.

    Returns:
        The plan.

    """
    folder = settings.spark.class_archive_dir or settings.cluster_path / "class-archives"
    digest = install_digest(settings.java_binary, spark_jars(settings))
    archive = folder / f"{app_name}-{digest}.jsa"
    if not settings.spark.class_archive or gateway_running:
        chosen = ArchivePlan((), archive, None)
    elif archive.is_file():
        chosen = ArchivePlan((f"-XX:SharedArchiveFile={archive}", QUIET), archive, None)
    elif not _writable(folder):
        chosen = ArchivePlan((), archive, None)
    else:
        part = archive.with_name(f"{archive.name}.part-{os.getpid()}")
        chosen = ArchivePlan((f"-XX:ArchiveClassesAtExit={part}", QUIET), archive, part)
    log.info("class_archive", mode=chosen.mode, path=str(archive))
    return chosen


def publish(archive_plan: ArchivePlan) -> None:
    """After the session stopped, end the driver JVM and publish the archive it wrote.

    Does nothing unless ``archive_plan`` dumps. pyspark's gateway to the JVM is shut down and
    forgotten, so a later session in this process (``discorecs hourly`` after its catch-up)
    launches a JVM of its own. Closing the JVM's standard input ends it (the py4j gateway exits
    on EOF), which writes the archive; it is renamed into place only when the JVM exited with
    0. Other versions and leftover parts of the app's archive are removed.

    Args:
        archive_plan: The plan the session started with.

    """
    if archive_plan.part is None or SparkContext._gateway is None:
        return
    gateway = SparkContext._gateway
    SparkContext._gateway = None
    SparkContext._jvm = None
    gateway.shutdown()
    process = getattr(gateway, "proc", None)
    if process is not None:
        publish_dump(archive_plan, process)


def publish_dump(archive_plan: ArchivePlan, jvm: subprocess.Popen[bytes]) -> None:
    """End the dumping JVM by closing its standard input, then publish its archive.

    Args:
        archive_plan: The plan the JVM started with (``part`` set).
        jvm: The driver JVM's process.

    """
    part = archive_plan.part
    if part is None or jvm.stdin is None:
        return
    jvm.stdin.close()
    try:
        code = jvm.wait(EXIT_WAIT_S)
    except subprocess.TimeoutExpired:
        log.warning(
            "class_archive_skipped", reason=f"driver JVM still running after {EXIT_WAIT_S} s"
        )
        return
    if code != 0 or not part.is_file():
        log.warning("class_archive_skipped", reason=f"driver JVM exited {code}", part=str(part))
        part.unlink(missing_ok=True)
        return
    os.replace(part, archive_plan.archive)
    _remove_stale(archive_plan.archive)
    log.info("class_archive_written", path=str(archive_plan.archive))


def _writable(folder: Path) -> bool:
    """Create ``folder`` if needed; False (and a warning) when this process cannot write there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        log.warning("class_archive_off", reason=str(error))
        return False
    if not os.access(folder, os.W_OK):
        log.warning("class_archive_off", reason=f"{folder} is not writable")
        return False
    return True


def _remove_stale(archive: Path) -> None:
    """Remove the app's archives for other installs, and parts untouched for an hour.

    A part outlives its run only when the JVM died while writing it, at exit; a live dump
    writes its part within seconds.
    """
    app = archive.name.rsplit("-", 1)[0]
    for path in archive.parent.glob(f"{app}-*"):
        if path.suffix == ".jsa" and path != archive:
            path.unlink(missing_ok=True)
        elif ".part-" in path.name and time.time() - path.stat().st_mtime > STALE_PART_S:
            path.unlink(missing_ok=True)
