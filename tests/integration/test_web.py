"""The web app in a real browser (Debian's chromium through Playwright), end to end.

One ``discorecs serve`` process on a free port and one ``discorecs stream`` process serve the
module, over a small scored world in a fresh keyspace and topic set. Clicking Add sends the
event through the API to Kafka; the stream writes it to Cassandra; the page's fresh list drops
the release. ``make browser`` installs chromium when it is missing.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Producer
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from discorecs.app.api.reads import Reads
from discorecs.app.loadtest import DISCORECS, StreamProcess
from discorecs.core.cassandra import session_scope
from discorecs.core.settings import Settings
from discorecs.core.tables import USER_ACTIVITY
from spark_jobs.stream.progress import read_metrics
from tests.integration.scored_world import World, scored_world

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STREAM_APPLIES_WITHIN_MS = 120_000


@dataclass(frozen=True)
class Site:
    """The running server and the world behind it."""

    url: str
    world: World
    logs: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_live(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{url}/health/live", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"discorecs serve did not come up; see {log}")


def wait_for_dead_letter_batch(settings: Settings, stream: StreamProcess, log: Path) -> None:
    """Send one malformed record and wait until the stream logged a batch with it."""
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    producer.produce(settings.topic("collections"), key=b"1", value=b"{not json")
    producer.flush(10)
    deadline = time.monotonic() + 300
    while not any(b["dead_letters"] for b in read_metrics(settings)):
        assert stream.process is not None and stream.process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"the stream wrote no batch; see {log}"
        time.sleep(0.5)


@contextmanager
def running_server(settings: Settings, url: str, log_path: Path) -> Iterator[None]:
    """``discorecs serve`` on ``url``'s port, live on entry, stopped on exit."""
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [DISCORECS, "serve", "--port", url.rsplit(":", 1)[1]],
            env=settings.child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        wait_until_live(url, server, log_path)
        yield
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture(scope="module")
def site(local_cluster: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    logs = tmp_path_factory.mktemp("web")
    with scored_world(local_cluster, f"web_{uuid.uuid4().hex[:10]}") as world:
        stream = StreamProcess(world.settings, logs / "stream.log")
        stream.start()
        url = f"http://127.0.0.1:{free_port()}"
        try:
            with running_server(world.settings, url, logs / "serve.log"):
                stream.wait_started()
                wait_for_dead_letter_batch(world.settings, stream, logs / "stream.log")
                yield Site(url, world, logs)
        finally:
            stream.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    opened.close()
    assert not errors, errors


def test_user_page_renders_and_an_add_leaves_the_list(
    site: Site, page: Page, tmp_path: Path
) -> None:
    user = site.world.main_user
    page.goto(f"{site.url}/ui/users/{user}")
    expect(page.locator("#user-name")).to_have_text("Ada Lovelace")
    expect(page.locator('svg[data-chart="radar"] polygon.radar-shape')).to_have_count(1)
    expect(page.locator('svg[data-chart="radar"] text.axis-label')).to_have_count(15)
    rows = page.locator("#recs tbody tr")
    expect(rows).to_have_count(10)
    first = rows.first
    expect(first.locator("td").nth(1)).not_to_be_empty()
    expect(first.locator("td.why")).not_to_be_empty()
    expect(page.locator("#friend")).to_contain_text("similarity")
    expect(page.locator("#top-release .why")).not_to_be_empty()
    lookalikes = page.locator("#lookalikes li")
    expect(lookalikes).to_have_count(5)
    expect(lookalikes.first).to_contain_text("top genre Rock")
    expect(page.locator(f'#lookalikes li[data-user-id="{user}"]')).to_have_count(0)
    page.screenshot(path=str(tmp_path / "user-before.png"), full_page=True)

    release_id = first.get_attribute("data-release-id")
    assert release_id is not None and int(release_id) not in site.world.collections[user]
    first.locator('button[data-action="add"]').click()
    expect(page.locator('#recs button[data-action="want"]').first).to_be_disabled()
    expect(page.locator("#status")).to_contain_text("applied", timeout=STREAM_APPLIES_WITHIN_MS)
    expect(page.locator(f'#recs tbody tr[data-release-id="{release_id}"]')).to_have_count(0)
    expect(page.locator("#list-mode")).to_contain_text("live")
    expect(page.locator("#recs tbody tr")).to_have_count(10)
    expect(page.locator("#user-name")).to_have_text("Ada Lovelace")
    size = len(site.world.collections[user]) + 1
    expect(page.locator(".profile")).to_contain_text(f"{size} releases")
    page.screenshot(path=str(tmp_path / "user-after-add.png"), full_page=True)
    wanted = page.locator("#recs tbody tr").first
    wanted_id = wanted.get_attribute("data-release-id")
    wanted_title = wanted.locator("td a").inner_text()
    wanted.locator('button[data-action="want"]').click()
    expect(page.locator("#status")).to_contain_text(
        f"want of release {wanted_id} recorded", timeout=STREAM_APPLIES_WITHIN_MS
    )
    expect(page.locator("#activity li").first).to_contain_text(f"wanted {wanted_title}")


def test_a_release_of_the_list_opens_its_page_with_releases_like_it(site: Site, page: Page) -> None:
    user = site.world.main_user
    page.goto(f"{site.url}/ui/users/{user}")
    rows = page.locator("#recs tbody tr")
    expect(rows).to_have_count(10)
    release_id = rows.first.get_attribute("data-release-id")
    assert release_id is not None
    title = rows.first.locator("td a").inner_text()
    rows.first.locator("td a").click()
    expect(page).to_have_url(f"{site.url}/ui/releases/{release_id}?user={user}")
    expect(page.locator("#release-title")).to_have_text(title)
    expect(page.locator("#owned")).to_have_text("Not in Ada Lovelace's collection.")
    expect(page.locator("#similar li").first).to_contain_text("same artist")  # 4 releases each
    expect(page.locator(f'#similar li[data-release-id="{release_id}"]')).to_have_count(0)
    assert wait_for_activity(site.world.settings, user, "view") == [int(release_id)]
    page.go_back()
    expect(page.locator("#user-name")).to_have_text("Ada Lovelace")
    page.goto(f"{site.url}/ui/releases/999999999")
    expect(page.locator(".status.error")).to_have_text("Error: unknown release 999999999")


def test_add_remove_and_want_from_a_release_page(site: Site, page: Page) -> None:
    user, release_id = site.world.cold_user, min(site.world.titles)
    name = site.world.names[user]
    page.goto(f"{site.url}/ui/releases/{release_id}?user={user}")
    expect(page.locator("#owned")).to_have_text(f"Not in {name}'s collection.")
    page.locator('#collector button[data-action="add"]').click()
    expect(page.locator("#status")).to_have_text("add applied.", timeout=STREAM_APPLIES_WITHIN_MS)
    expect(page.locator("#owned")).to_contain_text(f"In {name}'s collection since")
    expect(page.locator('#collector button[data-action="add"]')).to_be_disabled()
    page.reload()
    expect(page.locator("#owned")).to_contain_text(f"In {name}'s collection since")
    page.locator('#collector button[data-action="remove"]').click()
    expect(page.locator("#status")).to_have_text(
        "remove applied.", timeout=STREAM_APPLIES_WITHIN_MS
    )
    expect(page.locator("#owned")).to_have_text(f"Not in {name}'s collection.")
    expect(page.locator('#collector button[data-action="remove"]')).to_be_disabled()
    expect(page.locator('#collector button[data-action="add"]')).to_be_enabled()
    assert collection_now(site.world.settings, user) == []
    page.locator('#collector button[data-action="want"]').click()
    expect(page.locator("#status")).to_have_text("want recorded.", timeout=STREAM_APPLIES_WITHIN_MS)
    page.goto(f"{site.url}/ui/releases/{release_id}?user=999999999")
    expect(page.locator("#release-title")).to_have_text(site.world.titles[release_id])
    expect(page.locator("#collector")).to_have_count(0)  # nobody to act for


def test_a_remove_from_the_collection_card_leaves_the_collection(site: Site, page: Page) -> None:
    user = site.world.main_user + 2
    owned = site.world.collections[user]
    page.goto(f"{site.url}/ui/users/{user}")
    rows = page.locator("#owned-list tbody tr")
    expect(rows).to_have_count(len(owned))
    release_id = owned[0]  # the world's adds share one time: the lowest id comes first
    expect(rows.first).to_have_attribute("data-release-id", str(release_id))
    expect(rows.first.locator("td a")).to_have_text(site.world.titles[release_id])
    rows.first.locator('button[data-action="remove"]').click()
    expect(page.locator("#status")).to_contain_text(
        f"remove of release {release_id} applied", timeout=STREAM_APPLIES_WITHIN_MS
    )
    expect(page.locator(f'#owned-list tr[data-release-id="{release_id}"]')).to_have_count(0)
    expect(page.locator(".profile")).to_contain_text(f"{len(owned) - 1} releases")
    expect(page.locator("#list-mode")).to_contain_text("live")
    assert collection_now(site.world.settings, user) == owned[1:]

    other = next(r for r in site.world.titles if r not in owned)  # the size back to the run's
    page.goto(f"{site.url}/ui/releases/{other}?user={user}")
    page.locator('#collector button[data-action="add"]').click()
    expect(page.locator("#status")).to_have_text("add applied.", timeout=STREAM_APPLIES_WITHIN_MS)
    page.goto(f"{site.url}/ui/users/{user}")
    expect(page.locator(".profile")).to_contain_text(f"{len(owned)} releases")
    expect(page.locator("#list-mode")).to_contain_text("live")  # an add since the run
    expect(rows.first).to_have_attribute("data-release-id", str(other))


def collection_now(settings: Settings, user: int) -> list[int]:
    """The user's releases as Cassandra holds them."""
    with session_scope(settings) as session:
        return Reads.of(session, settings).collection(user)


def wait_for_activity(settings: Settings, user: int, kind: str) -> list[int]:
    """The releases of the user's ``kind`` events, once the stream wrote at least one."""
    query = USER_ACTIVITY.select(settings.keyspace, ["kind", "release_id"], where=["user_id"])
    deadline = time.monotonic() + STREAM_APPLIES_WITHIN_MS / 1000
    with session_scope(settings) as session:
        statement = session.prepare(query)
        while True:
            found = [r.release_id for r in session.execute(statement, (user,)) if r.kind == kind]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


def test_search_finds_a_user_by_a_word_of_the_name(site: Site, page: Page) -> None:
    page.goto(site.url)
    page.fill("#q", "lovelace")
    page.press("#q", "Enter")
    result = page.locator("#results a")
    expect(result).to_have_text("Ada Lovelace")
    result.click()
    expect(page).to_have_url(f"{site.url}/ui/users/{site.world.main_user}")
    # The add test's release left the stored list: the page shows the live list, whole.
    expect(page.locator("#recs tbody tr")).to_have_count(10)


def test_an_id_in_the_search_box_opens_that_user(site: Site, page: Page) -> None:
    page.goto(site.url)
    page.fill("#q", str(site.world.cold_user))
    page.press("#q", "Enter")
    expect(page).to_have_url(f"{site.url}/ui/users/{site.world.cold_user}")
    expect(page.locator("#user-name")).to_be_visible()


def test_a_keyed_api_asks_for_the_key_once_per_page(site: Site, page: Page, tmp_path: Path) -> None:
    settings = site.world.settings.with_updates(api={"key": "open-sesame"})
    url = f"http://127.0.0.1:{free_port()}"
    prompts: list[str] = []
    replies: list[str | None] = [None]  # cancel the first prompt

    def answer(dialog: Dialog) -> None:
        prompts.append(dialog.message)
        given = replies.pop(0) if replies else None
        if given is None:
            dialog.dismiss()
        else:
            dialog.accept(given)

    page.on("dialog", answer)
    with running_server(settings, url, tmp_path / "serve.log"):
        page.goto(f"{url}/ui/users/{site.world.main_user}")
        expect(page.locator(".status.error")).to_contain_text("missing or wrong X-API-Key")
        assert len(prompts) == 1  # three requests refused, one prompt
        replies.append("open-sesame")
        page.reload()
        expect(page.locator("#user-name")).to_have_text("Ada Lovelace")
        expect(page.locator("#recs tbody tr").first).to_be_visible()
        assert len(prompts) == 2


def test_dashboard_renders_its_charts(site: Site, page: Page, tmp_path: Path) -> None:
    page.goto(f"{site.url}/ui/ops")
    expect(page.locator("#health .check.ok")).to_have_count(3)
    expect(page.locator('svg[data-chart="throughput"] path.line')).to_have_count(2)
    expect(page.locator('svg[data-chart="latency"] path.line').first).to_be_attached()
    bad_json = page.locator('svg[data-chart="dead-letters"] rect.bar[data-label="bad_json"]')
    expect(bad_json).to_have_count(1)
    expect(page.locator('svg[data-chart="runs"] rect.segment')).to_have_count(3)
    expect(page.locator('svg[data-chart="quality"] path.line')).to_have_count(2)  # the shares
    points = page.locator('svg[data-chart="quality"] circle title')
    expect(points).to_have_text(["their top-10: 12 %", "most popular: 4 %"])  # 3 and 1 of 25
    expect(page.get_by_text("Newest run: adds 25 · users 40")).to_be_visible()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
