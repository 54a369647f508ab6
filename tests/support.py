"""What several test modules share: the checkout's paths and the shipped Discogs sample."""

from __future__ import annotations

from pathlib import Path

from discorecs.app.sample import SAMPLE_RELEASES

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(str(SAMPLE_RELEASES))
"""The shipped ``releases-sample.xml.gz`` (a plain file: the package is installed from a folder)."""
SHARED_SAMPLE = REPO_ROOT.parent / "shared" / "data" / "discogs" / "releases-sample.xml.gz"
