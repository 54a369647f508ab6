// The discorecs web app: search, a user page, a release page and the operations dashboard, over
// the JSON API.
// Plain JavaScript; the page shell is static/index.html, the charts static/charts.js.
"use strict";

const view = document.getElementById("view");
const KEY = "discorecs-api-key";
const POLL_MS = 1000;
const POLL_LIMIT_MS = 120000;
const OPS_REFRESH_MS = 15000;
const COLLECTION_SHOWN = 100;
const ACTIVITY_SHOWN = 10;
const LOOKALIKES_SHOWN = 5;
const ACTIVITY_READ = 100; // the API's most: events of other sources may come first
const DONE = { view: "viewed", play: "played", want: "wanted" };
const COLLECTION_KINDS = ["add", "remove"];
let opsTimer = null;
let shown = 0; // counts routes; a page drawn after its route was left draws nothing
let keyAsked = false; // the key prompt was shown on this page: ask again on the next only

// --- DOM and API helpers ---------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

// A key for a request refused with the key it sent: one another request's prompt stored
// meanwhile, else (once per page, however many requests were refused, whatever was answered)
// the user's answer.
function newKey(sent) {
  const stored = sessionStorage.getItem(KEY);
  if (stored && stored !== sent) return stored;
  if (keyAsked) return null;
  keyAsked = true;
  const given = window.prompt("This API needs a key (X-API-Key):");
  if (given) sessionStorage.setItem(KEY, given);
  return given;
}

async function api(path, options = {}, retried = false) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const key = sessionStorage.getItem(KEY);
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && !retried && newKey(key)) return api(path, options, true);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.detail || response.statusText);
  return body;
}

async function optional(promise) {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

function link(href, ...children) {
  return h("a", { href, "data-link": true }, ...children);
}

function navigate(href) {
  history.pushState({}, "", href);
  route();
}

function setStatus(text, kind = "info") {
  const line = document.getElementById("status");
  if (!line) return;
  line.textContent = text;
  line.className = `status ${kind}`;
}

function showError(error) {
  view.replaceChildren(h("p", { class: "status error" }, `Error: ${error.message}`));
}

function artist(release) {
  if (!release) return "";
  return release.artist_credit || (release.artists || []).join(", ");
}

function genresAndStyles(release) {
  if (!release) return "";
  const genres = release.genres.join(", ");
  return release.styles.length ? `${genres} · ${release.styles.join(", ")}` : genres;
}

function title(release) {
  return release.title || `release ${release.release_id}`;
}

// A release's title as a link to its page (the id alone when the catalogue lacks the release);
// with a user, the page acts for that user (their view recorded, Add and Want).
function releaseLink(release, releaseId, userId) {
  const id = release ? release.release_id : releaseId;
  const query = userId ? `?user=${userId}` : "";
  // <bdi>: a right-to-left title (Hebrew, Arabic) keeps the text around it in place
  return link(`/ui/releases/${id}${query}`, h("bdi", {}, release ? title(release) : `release ${id}`));
}

// A time the API gives (ISO, UTC) as "YYYY-MM-DD HH:MM UTC".
function when(iso) {
  return `${iso.replace("T", " ").slice(0, 16)} UTC`;
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

// One event of a user's, through the API to Kafka; the answer names the event and its time.
function sendEvent(userId, kind, releaseId) {
  return api(`/users/${userId}/events`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ kind, release_id: releaseId }),
  });
}

// Asks `check` every POLL_MS until it is true: true then, false after POLL_LIMIT_MS, null when
// the page was left meanwhile. A failed ask (a service briefly down) is asked again.
async function poll(check, live) {
  const started = performance.now();
  for (;;) {
    let done = false;
    try {
      done = await check();
    } catch (error) {
      if (!(error instanceof ApiError && error.status >= 500)) throw error;
    }
    if (!live()) return null;
    if (done) return true;
    if (performance.now() - started > POLL_LIMIT_MS) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

// Until the stream wrote the event `sent` of `kind`: an add or remove is applied (the collection
// holds the release from that add on, not an older add, or no longer holds it); a view, play or
// want is among the latest activity the API reads.
function waitWritten(userId, kind, releaseId, sent, live) {
  if (COLLECTION_KINDS.includes(kind)) {
    const sentAt = new Date(sent.event_time);
    return poll(async () => {
      const entry = await api(`/users/${userId}/collection/${releaseId}`);
      return kind === "remove" ? !entry.owned : entry.owned && new Date(entry.added_at) >= sentAt;
    }, live);
  }
  return poll(async () => {
    const recent = await api(`/users/${userId}/activity?n=${ACTIVITY_READ}`);
    return recent.some((item) => item.event_id === sent.event_id);
  }, live);
}

// --- search and home -----------------------------------------------------------------

document.getElementById("search").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = document.getElementById("q").value.trim();
  if (!text) return;
  navigate(`/ui/search?name=${encodeURIComponent(text)}`);
});

async function searchPage(params, live) {
  const name = params.get("name") || "";
  view.replaceChildren(h("h1", {}, `Users matching “${name}”`), h("p", {}, "Searching…"));
  const users = await api(`/users?name=${encodeURIComponent(name)}`);
  if (!live()) return;
  if (users.length === 1 && /^\d+$/.test(name) && String(users[0].user_id) === name) {
    history.replaceState({}, "", `/ui/users/${name}`); // an id and nobody named so: go there
    return route();
  }
  const list = users.length
    ? h("ul", { class: "plain", id: "results" }, users.map((u) =>
        h("li", {}, link(`/ui/users/${u.user_id}`, u.name || `user ${u.user_id}`), ` @${u.username || "?"} · #${u.user_id}`)))
    : h("p", {}, "Nobody. The search matches a name or username, whole or by its words (any case), or an id.");
  view.replaceChildren(h("h1", {}, `Users matching “${name}”`), list);
}

async function homePage(live) {
  view.replaceChildren(
    h("h1", {}, "discorecs"),
    h("p", {}, "Find a collector by id, name or username above, or open the ",
      link("/ui/ops", "operations dashboard"), "."),
    h("h2", {}, "Trending now"),
    h("p", { id: "trending" }, "Loading…"),
  );
  const trending = await api("/trending?n=10");
  if (!live()) return;
  const rows = trending.items.map((item) =>
    h("li", {}, h("strong", {}, releaseLink(item.release, item.release_id)),
      ` — ${artist(item.release)} (${item.events} events in ${trending.hours} h)`));
  document.getElementById("trending").replaceWith(
    rows.length ? h("ol", { id: "trending" }, rows) : h("p", { id: "trending" }, "Nothing trending in the window."));
}

// --- user page -----------------------------------------------------------------------

function profileSection(user) {
  const facts = [
    user.username ? `@${user.username}` : null,
    user.location,
    user.joined_at ? `joined ${user.joined_at.slice(0, 10)}` : null,
    `${user.collection_size} releases`,
    user.top_genre ? `top genre ${user.top_genre}` : null,
    user.scored_at ? `scored ${when(user.scored_at)}` : "not scored yet",
  ].filter(Boolean);
  return h("section", { class: "profile" },
    h("h1", { id: "user-name" }, user.name || `User ${user.user_id}`),
    h("p", { class: "muted" }, facts.join(" · ")));
}

function tasteCard(taste, ranks) {
  const top = Object.entries(ranks || {}).filter(([, r]) => r > 0).sort((a, b) => b[1] - a[1]).slice(0, 5);
  return h("section", { class: "card", id: "taste" },
    h("h2", {}, "Taste"),
    taste ? Charts.radar(taste, { label: "taste over the 15 genres" }) : h("p", {}, "No taste yet: the collection is empty."),
    top.length ? h("p", { class: "muted" }, "Percentile among collectors: ",
      top.map(([g, r]) => `${g} ${r}`).join(" · ")) : null);
}

function friendCard(friend, userId) {
  if (friend && friend.unavailable) return unavailableCard("friend", "Friend", friend.unavailable, "card");
  if (!friend) {
    return h("section", { class: "card", id: "friend" }, h("h2", {}, "Friend"),
      h("p", {}, "No friend yet (the next hourly run finds one once the collection has a taste)."));
  }
  const who = friend.friend;
  return h("section", { class: "card", id: "friend" },
    h("h2", {}, "Friend"),
    h("p", {}, link(`/ui/users/${who.user_id}`, who.name || `user ${who.user_id}`),
      ` · similarity ${percent(friend.similarity)}`),
    h("p", {}, h("strong", {}, "You share: "),
      friend.shared_genres.length ? friend.shared_genres.slice(0, 5).join(", ") : "no genre",
      ` and ${friend.shared_release_count} release${friend.shared_release_count === 1 ? "" : "s"}`),
    friend.shared_releases.length
      ? h("ul", { class: "plain small" }, friend.shared_releases.slice(0, 5).map((r) =>
          h("li", {}, releaseLink(r, r.release_id, userId), ` — ${artist(r)}`)))
      : null,
    h("p", {}, h("strong", {}, "Their pick for you: "),
      friend.pick ? [releaseLink(friend.pick, friend.pick.release_id, userId), ` — ${artist(friend.pick)}`]
        : friend.pick_title || "none",
      friend.pick_owned ? " (you have it now)" : ""));
}

function topReleaseCard(item, userId) {
  const release = item && item.release;
  const body = item
    ? [h("p", { class: "big" }, releaseLink(release, item.release_id, userId)),
       release ? h("p", {}, artist(release), release.year ? ` · ${release.year}` : "") : null,
       release ? h("p", { class: "muted" }, genresAndStyles(release)) : null,
       h("p", { class: "why" }, item.reason)]
    : [h("p", {}, "Nothing to recommend yet.")];
  return h("section", { class: "card", id: "top-release" }, h("h2", {}, "Top pick for you"), ...body);
}

// A table's head from [text, class?] pairs ("extra" columns hide on narrow screens).
function tableHead(columns) {
  return h("thead", {}, h("tr", {}, columns.map(([text, cls]) => h("th", cls ? { class: cls } : {}, text))));
}

function recommendationsTable(userId, recs, onAction) {
  const rows = recs.items.map((item) => {
    const r = item.release;
    return h("tr", { "data-release-id": item.release_id },
      h("td", {}, item.rank),
      h("td", {}, h("strong", {}, releaseLink(r, item.release_id, userId))),
      h("td", {}, artist(r)),
      h("td", { class: "extra" }, r && r.year ? r.year : ""),
      h("td", { class: "small extra" }, genresAndStyles(r)),
      h("td", { class: "why small" }, item.reason),
      h("td", { class: "actions" },
        h("button", { type: "button", "data-action": "add", onclick: () => onAction("add", item.release_id) }, "Add"),
        h("button", { type: "button", "data-action": "want", class: "secondary", onclick: () => onAction("want", item.release_id) }, "Want")));
  });
  const mode = recs.fresh ? "live: recomputed now from your collection" : "stored by the last hourly run";
  return h("section", { class: "card wide", id: "recommendations" },
    h("h2", {}, "Top 10 ", h("span", { class: "muted", id: "list-mode" }, `(${mode})`)),
    rows.length
      ? h("div", { class: "scroll" }, h("table", { id: "recs" },
          tableHead([["#"], ["Release"], ["Artist"], ["Year", "extra"], ["Genres · styles", "extra"], ["Why"], [""]]),
          h("tbody", {}, rows)))
      : h("p", {}, "Nothing to recommend yet."));
}

function collectionCard(userId, collection, onAction) {
  if (collection.unavailable) return unavailableCard("collection", "Collection", collection.unavailable);
  const rows = collection.items.map((item) => {
    const r = item.release;
    return h("tr", { "data-release-id": item.release_id },
      h("td", {}, releaseLink(r, item.release_id, userId)),
      h("td", {}, artist(r)),
      h("td", { class: "extra" }, r && r.year ? r.year : ""),
      h("td", { class: "small" }, item.added_at ? item.added_at.slice(0, 10) : ""),
      h("td", { class: "actions" },
        h("button", { type: "button", "data-action": "remove", class: "secondary", "aria-label": `Remove ${r ? title(r) : `release ${item.release_id}`}`,
          onclick: (event) => removing(event.target, onAction("remove", item.release_id)) }, "Remove")));
  });
  const extent = collection.size > rows.length ? `the ${rows.length} latest of ${collection.size}` : "latest first";
  return h("section", { class: "card wide", id: "collection" },
    h("h2", {}, "Collection ", h("span", { class: "muted" }, `(${extent})`)),
    rows.length
      ? h("div", { class: "scroll" }, h("table", { id: "owned-list" },
          tableHead([["Release"], ["Artist"], ["Year", "extra"], ["Added"], [""]]),
          h("tbody", {}, rows)))
      : h("p", {}, "Empty: Add a release from the list above."));
}

// A Remove button says so while its remove is under way (a failed one can be clicked again).
async function removing(button, action) {
  button.textContent = "Removing…";
  await action;
  button.textContent = "Remove";
}

function activityCard(userId, activity) {
  if (activity.unavailable) return unavailableCard("activity", "Recent activity", activity.unavailable);
  const items = activity.map((item) =>
    h("li", { "data-event-id": item.event_id },
      `${DONE[item.kind] || item.kind} `, releaseLink(item.release, item.release_id, userId),
      item.release ? ` — ${artist(item.release)}` : "",
      h("span", { class: "muted small" }, ` · ${when(item.event_time)}`)));
  return h("section", { class: "card wide", id: "activity" },
    h("h2", {}, "Recent activity ", h("span", { class: "muted" }, `(the ${ACTIVITY_SHOWN} latest views, plays and wants of the last 30 days)`)),
    items.length ? h("ul", { class: "plain" }, items) : h("p", {}, "None in the last 30 days."));
}

function lookalikesCard(userId, lookalikes) {
  if (lookalikes.unavailable) return unavailableCard("lookalikes", "Collectors with your taste", lookalikes.unavailable);
  const items = lookalikes.map((u) =>
    h("li", { "data-user-id": u.user_id }, link(`/ui/users/${u.user_id}`, u.name || `user ${u.user_id}`),
      u.username ? ` @${u.username}` : "", ` · ${percent(u.similarity)}`,
      u.top_genre ? h("span", { class: "muted" }, ` · top genre ${u.top_genre}`) : ""));
  return h("section", { class: "card wide", id: "lookalikes" },
    h("h2", {}, "Collectors with your taste ",
      h("span", { class: "muted" }, "(nearest by the 15-genre taste: Cassandra's vector search)")),
    items.length ? h("ol", {}, items) : h("p", {}, "Nobody yet: no taste to compare (an empty collection)."));
}

// A card's data that failed to load: the card says why, the rest of the page stands.
function unavailable(error) {
  return { unavailable: error.message };
}

function unavailableCard(id, heading, reason, cls = "card wide") {
  return h("section", { class: cls, id }, h("h2", {}, heading),
    h("p", { class: "status error" }, `${heading} unavailable: ${reason}`));
}

// The stored list, unless no run scored the user or the collection changed since the run (its
// size, or an add after it: a remove and an add keep the size): then the live one, or the stored
// one if the live one fails. A card other than the profile and the list that fails to load
// leaves the rest.
async function loadUser(userId, fresh) {
  const [user, recs, friend, collection, activity, lookalikes] = await Promise.all([
    api(`/users/${userId}`),
    optional(api(`/users/${userId}/recommendations?n=10&fresh=${fresh}`)),
    optional(api(`/users/${userId}/friend`)).catch(unavailable),
    api(`/users/${userId}/collection?n=${COLLECTION_SHOWN}`).catch(unavailable),
    api(`/users/${userId}/activity?n=${ACTIVITY_SHOWN}`).catch(unavailable),
    api(`/users/${userId}/similar?n=${LOOKALIKES_SHOWN}`).catch(unavailable),
  ]);
  const live = () => api(`/users/${userId}/recommendations?n=10&fresh=true`);
  const parts = { user, friend, collection, activity, lookalikes };
  if (!recs) return { ...parts, recs: await live() };
  const latest = collection.items && collection.items.length ? collection.items[0].added_at : null;
  const current = recs.fresh || (user.collection_size === recs.collection_size
    && !(latest && recs.as_of && new Date(latest) > new Date(recs.as_of)));
  return { ...parts, recs: current ? recs : await live().catch(() => recs) };
}

function renderUser(userId, data, onAction) {
  const taste = data.recs.fresh ? data.recs.taste : data.user.taste;
  view.replaceChildren(
    profileSection(data.user),
    h("div", { class: "grid" },
      tasteCard(taste, data.user.genre_ranks),
      friendCard(data.friend, userId),
      topReleaseCard(data.recs.items[0], userId)),
    h("p", { id: "status", class: "status", role: "status" }),
    recommendationsTable(userId, data.recs, onAction),
    collectionCard(userId, data.collection, onAction),
    activityCard(userId, data.activity),
    lookalikesCard(userId, data.lookalikes),
  );
}

async function userPage(userId, live) {
  view.replaceChildren(h("p", {}, "Loading…"));
  let busy = false;
  const say = (text, kind) => { if (live()) setStatus(text, kind); };
  const buttons = (disabled) => {
    for (const button of view.querySelectorAll("#recs button, #owned-list button")) button.disabled = disabled;
  };
  const onAction = async (kind, releaseId) => {
    if (busy) return;
    busy = true;
    buttons(true); // one event at a time; the page says which one it waits for
    try {
      say(`Sending ${kind} of release ${releaseId}…`);
      const sent = await sendEvent(userId, kind, releaseId);
      const started = performance.now();
      const collects = COLLECTION_KINDS.includes(kind);
      say(`${kind} accepted by Kafka (event ${sent.event_id.slice(0, 8)}); waiting for the stream…`);
      const done = await waitWritten(userId, kind, releaseId, sent, live);
      if (done === null) return;
      const data = await loadUser(userId, collects);
      if (!live()) return;
      renderUser(userId, data, onAction);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const applied = collects ? "applied; list recomputed" : "recorded";
      say(done
        ? `${kind} of release ${releaseId} ${applied} (${seconds} s).`
        : `The stream has not ${collects ? "applied" : "recorded"} the ${kind} yet (${seconds} s); reload later to see it.`,
        done ? "ok" : "warn");
    } catch (error) {
      say(`Failed: ${error.message}`, "error");
    } finally {
      busy = false;
      if (live()) buttons(false);
    }
  };
  const data = await loadUser(userId, false);
  if (!live()) return;
  renderUser(userId, data, onAction);
}

// --- release page --------------------------------------------------------------------

// For whom the page acts (reached from their page): their view of it recorded, Add or Remove,
// and Want.
function collectorSection(userId, user, entry, releaseId, live) {
  const name = user.name || `user ${userId}`;
  const say = (text, kind) => { if (live()) setStatus(text, kind); };
  const owned = (at) => `In ${name}'s collection since ${when(at)}.`;
  const missing = `Not in ${name}'s collection.`;
  const state = h("p", { id: "owned" }, entry.owned ? owned(entry.added_at) : missing);
  let have = entry.owned;
  const add = h("button", { type: "button", "data-action": "add", disabled: have }, "Add");
  const remove = h("button", { type: "button", "data-action": "remove", class: "secondary", disabled: !have }, "Remove");
  const want = h("button", { type: "button", "data-action": "want", class: "secondary" }, "Want");
  const act = async (kind) => {
    add.disabled = remove.disabled = want.disabled = true;
    try {
      const sent = await sendEvent(userId, kind, releaseId);
      say(`${kind} accepted by Kafka; waiting for the stream…`);
      const done = await waitWritten(userId, kind, releaseId, sent, live);
      const word = COLLECTION_KINDS.includes(kind) ? "applied" : "recorded";
      if (done && kind !== "want") [have, state.textContent] = kind === "add" ? [true, owned(sent.event_time)] : [false, missing];
      if (done !== null) say(done ? `${kind} ${word}.` : `The stream has not ${word} the ${kind} yet.`, done ? "ok" : "warn");
    } catch (error) {
      say(`Failed: ${error.message}`, "error");
    } finally {
      want.disabled = false;
      [add.disabled, remove.disabled] = [have, !have];
    }
  };
  add.addEventListener("click", () => act("add"));
  remove.addEventListener("click", () => act("remove"));
  want.addEventListener("click", () => act("want"));
  return h("section", { class: "card wide", id: "collector" },
    h("h2", {}, "For ", link(`/ui/users/${userId}`, name)),
    state, h("p", { class: "actions" }, add, " ", remove, " ", want),
    h("p", { id: "status", class: "status", role: "status" }));
}

async function releasePage(releaseId, params, live) {
  view.replaceChildren(h("p", {}, "Loading…"));
  const asked = /^\d+$/.test(params.get("user") || "") ? params.get("user") : null;
  const [release, similar, user, entry] = await Promise.all([
    api(`/releases/${releaseId}`),
    api(`/releases/${releaseId}/similar?n=10`),
    asked ? optional(api(`/users/${asked}`)) : null,
    asked ? optional(api(`/users/${asked}/collection/${releaseId}`)) : null,
  ]);
  if (!live()) return;
  const userId = user && entry ? asked : null; // an unknown user: the page acts for nobody
  const labels = [...new Set(release.labels)].join(", "); // a label twice: two catalogue numbers
  const facts = [release.year, release.country, release.formats.join(", "), labels].filter(Boolean);
  const activity = `${release.trending_events} event${release.trending_events === 1 ? "" : "s"}`
    + ` (views, plays, wants) in the last ${release.trending_hours} h`;
  view.replaceChildren(
    h("section", { class: "profile" },
      h("h1", { id: "release-title" }, title(release)),
      h("p", { class: "big" }, artist(release)),
      h("p", { class: "muted" }, facts.join(" · ")),
      h("p", { class: "muted" }, genresAndStyles(release)),
      h("p", {}, activity, " · ",
        h("a", { href: `https://www.discogs.com/release/${release.release_id}`, rel: "noopener", target: "_blank" },
          "on Discogs"))),
    userId ? collectorSection(userId, user, entry, release.release_id, live) : null,
    h("section", { class: "card wide", id: "similar" },
      h("h2", {}, "Releases like it"),
      similar.length
        ? h("ol", {}, similar.map((s) =>
            h("li", { "data-release-id": s.release.release_id }, releaseLink(s.release, null, userId),
              " — ", h("bdi", {}, artist(s.release)), " ", h("span", { class: "why small" }, s.reason))))
        : h("p", {}, "None shares its artists, labels, genres or styles.")));
  if (userId) { // opening a release's page from a user's is their view of it
    sendEvent(userId, "view", release.release_id)
      .catch((error) => { if (live()) setStatus(`The view was not recorded: ${error.message}`, "warn"); });
  }
}

// --- operations dashboard --------------------------------------------------------------

function healthCards(health) {
  return h("section", { class: "health", id: "health" },
    Object.entries(health.checks).map(([name, check]) =>
      h("div", { class: `check ${check.ok ? "ok" : "fail"}`, "data-check": name },
        h("strong", {}, `${name}: ${check.ok ? "ok" : "NOT READY"}`), h("p", { class: "small" }, check.detail))));
}

// The shares of the adds a run foresaw on one chart, the counts (users, adds) of the newest run
// as text: on one axis with them the shares would lie flat on zero. The API says which is which.
const SHARE_LABELS = { hit_share: "their top-10", hit_share_most_popular: "most popular" };

function qualityView(runs) {
  const shares = [...new Set(runs.flatMap((q) => q.shares))];
  const newest = runs.length ? runs[runs.length - 1].metrics : {}; // oldest first
  const counts = Object.keys(newest).filter((m) => !shares.includes(m)).map((m) => `${m} ${newest[m]}`);
  const series = shares.map((metric) => ({
    name: SHARE_LABELS[metric] || metric,
    points: runs.filter((q) => q.at && metric in q.metrics).map((q) => [Date.parse(q.at), 100 * q.metrics[metric]]),
  }));
  return h("div", {},
    h("p", { class: "muted small" },
      "Share of the adds since each user's last scoring that were in their top-10, against the most popular releases they lacked."),
    series.some((s) => s.points.length)
      ? Charts.lines(series, { name: "quality", label: "quality shares per hourly run", unit: " %" })
      : h("p", { class: "muted", "data-empty": "quality" }, "No adds since a scoring yet: the next hourly run after some adds measures them."),
    counts.length ? h("p", { class: "muted small" }, `Newest run: ${counts.join(" · ")}`) : null);
}

function opsView(data) {
  const batches = data.stream.batches;
  const hours = (data.window_s / 3600).toFixed(data.window_s % 3600 ? 1 : 0);
  const throughput = Charts.lines(
    [{ name: "records/s", points: batches.map((b) => [b.at_ms, b.input_rate]) },
     { name: "records/batch", points: batches.map((b) => [b.at_ms, b.rows_in]) }],
    { name: "throughput", label: "stream throughput per micro-batch" });
  const latency = Charts.lines(
    [{ name: "p50", points: batches.map((b) => [b.at_ms, b.latency_p50_ms === null ? null : b.latency_p50_ms / 1000]) },
     { name: "p99", points: batches.map((b) => [b.at_ms, b.latency_p99_ms === null ? null : b.latency_p99_ms / 1000]) },
     { name: "batch seconds", points: batches.map((b) => [b.at_ms, b.seconds]) }],
    { name: "latency", label: "event time to written, per micro-batch", unit: " s" });
  const reasons = Object.entries(data.dead_letters.by_reason).map(([label, value]) => ({ label, value }));
  const runs = [...data.runs].reverse().map((run) => ({
    label: run.at ? run.at.replace("T", " ").slice(5, 16) : run.run_id.slice(0, 8),
    parts: run.steps.filter((s) => !s.step.includes(".")) // a nested step is inside its parent
      .map((s) => ({ name: s.step, value: s.seconds })),
  }));
  const quality = data.quality === null
    ? h("p", { class: "muted" }, "No quality_runs table in this schema yet.")
    : qualityView(data.quality);
  const lag = data.stream.lag === null ? `unknown (${data.stream.lag_error})` : `${data.stream.lag} records`;
  view.replaceChildren(
    h("h1", {}, "Operations"),
    healthCards(data.health),
    h("div", { class: "grid two" },
      h("section", { class: "card" }, h("h2", {}, `Stream throughput, last ${hours} h`),
        h("p", { class: "muted", id: "lag" }, `Lag now: ${lag} · ${batches.length} micro-batch${batches.length === 1 ? "" : "es"} in the window, ${data.stream.batches_total} logged`),
        throughput),
      h("section", { class: "card" }, h("h2", {}, "Stream latency"), latency),
      h("section", { class: "card" }, h("h2", {}, "Dead letters by reason"),
        h("p", { class: "muted" }, `${data.dead_letters.total} in the batch log`,
          data.dead_letters.error ? ` · topic unreadable: ${data.dead_letters.error}` : ""),
        Charts.bars(reasons, { name: "dead-letters", label: "dead letters by reason" })),
      h("section", { class: "card" }, h("h2", {}, "Hourly runs: step durations"),
        Charts.stacked(runs, { name: "runs", label: "hourly runs, seconds per step", unit: " s" })),
      h("section", { class: "card" }, h("h2", {}, "Recommendation quality"), quality)),
    h("p", { class: "muted small" }, `Refreshed ${new Date().toLocaleTimeString()}, every ${OPS_REFRESH_MS / 1000} s.`));
}

async function opsPage(live) {
  view.replaceChildren(h("h1", {}, "Operations"), h("p", {}, "Loading…"));
  // The next refresh is timed from the end of this one: answers never overlap or arrive out
  // of order, however slow an unhealthy cluster makes them.
  const refresh = async () => {
    try {
      const data = await api("/ops/dashboard");
      if (live()) opsView(data);
    } catch (error) {
      if (live()) showError(error);
    }
    if (live()) opsTimer = setTimeout(refresh, OPS_REFRESH_MS);
  };
  await refresh();
}

// --- routing ---------------------------------------------------------------------------

async function route() {
  if (opsTimer) clearTimeout(opsTimer);
  opsTimer = null;
  keyAsked = false;
  const mine = ++shown;
  const live = () => mine === shown;
  const path = location.pathname;
  const user = path.match(/^\/ui\/users\/(\d+)\/?$/);
  const release = path.match(/^\/ui\/releases\/(\d+)\/?$/);
  try {
    if (user) await userPage(user[1], live);
    else if (release) await releasePage(release[1], new URLSearchParams(location.search), live);
    else if (path.startsWith("/ui/ops")) await opsPage(live);
    else if (path.startsWith("/ui/search")) await searchPage(new URLSearchParams(location.search), live);
    else await homePage(live);
  } catch (error) {
    if (live()) showError(error);
  }
}

document.addEventListener("click", (event) => {
  const anchor = event.target.closest("a[data-link]");
  if (!anchor || event.metaKey || event.ctrlKey) return;
  event.preventDefault();
  navigate(anchor.getAttribute("href"));
});
window.addEventListener("popstate", route);
route();
