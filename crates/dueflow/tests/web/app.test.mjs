// The web app in a real browser (Debian's chromium, driven by
// playwright-core), against a real `dueflow serve` that
// crates/dueflow/tests/web.rs starts and describes in the environment:
// DUEFLOW_URL, the users ann, bob and lee (password "correct horse"),
// DUEFLOW_ANN_TOKEN (an API token of ann's, for changes made by "another
// client"), DUEFLOW_LEE_TOKEN (lee's: lee's list of 100 tasks is weighed
// and given to Lighthouse), DUEFLOW_TEST_CHROMIUM,
// DUEFLOW_TEST_NODE_MODULES and DUEFLOW_SCREENSHOTS (where each main view
// is saved, light and dark, at desktop width and at 360 px).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { join } from "node:path";

const env = (name) => {
  const v = process.env[name];
  assert.ok(v, `${name} is not set: run this through crates/dueflow/tests/web.rs`);
  return v;
};
const BASE = env("DUEFLOW_URL");
const TOKEN = env("DUEFLOW_ANN_TOKEN");
const LEE_TOKEN = env("DUEFLOW_LEE_TOKEN");
const MODULES = env("DUEFLOW_TEST_NODE_MODULES");
const SHOTS = env("DUEFLOW_SCREENSHOTS");
const require = createRequire(join(MODULES, "noop.js"));
const { chromium } = require("playwright-core");
const AXE = readFileSync(join(MODULES, "axe-core", "axe.min.js"), "utf8");
const PASSWORD = "correct horse";
// Only loopback is reached: no lookups of Google's hosts.
const CHROMIUM_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
  "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"];


let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: env("DUEFLOW_TEST_CHROMIUM"),
    args: CHROMIUM_ARGS,
  });
});
after(async () => { await browser?.close(); });

async function signedIn(name, options = {}) {
  const context = await browser.newContext({ baseURL: BASE, ...options });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${BASE}/`);
  return { context, page };
}

/// Wait until the live stream of `page` is open.
async function live(page) {
  await page.waitForFunction(() => document.body.dataset.liveState === "open", null, { timeout: 5000 });
}

async function api(method, path, body, token = TOKEN) {
  const res = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function quickAdd(page, text) {
  const field = page.getByRole("textbox", { name: "Add task" });
  await field.fill(text);
  await field.press("Enter");
}

// A visible row, found by its title; and any row, hidden or not, by id.
const row = (page, title) => page.locator(".task", { has: page.getByRole("link", { name: title, exact: true }) });
const rowOf = (page, id) => page.locator(`#task-${id}`);

async function noAxeViolations(page, what) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  assert.deepEqual(found, [], `axe found violations on ${what}`);
}

test("a visitor is sent to sign in, and back where they were headed", async () => {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  await page.goto("/?view=today");
  assert.match(page.url(), /\/login\?next=/);
  await page.getByLabel("User name").fill("ann");
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Wrong name or password" }).waitFor();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${BASE}/?view=today`);
  await page.getByRole("heading", { level: 1, name: "Today" }).waitFor();
  await context.close();
});

test("quick add reads dates, tags and priority, and the field is ready for the next", async () => {
  const { context, page } = await signedIn("ann");
  await quickAdd(page, "Buy milk tomorrow #shop !high");
  const r = row(page, "Buy milk");
  await r.waitFor();
  assert.equal(await r.locator(".tag").textContent(), "#shop");
  assert.equal(await r.locator(".due").textContent(), "Tomorrow");
  assert.equal(await r.locator(".prio").textContent(), "high");
  assert.equal(await page.getByRole("textbox", { name: "Add task" }).inputValue(), "");
  // What the parser understood shows as the line is typed; a click on a
  // phrase keeps it in the title.
  const field = page.getByRole("textbox", { name: "Add task" });
  await field.pressSequentially("Dinner with Friday team friday 7pm #social");
  await page.locator("#add-preview .parsed-title", { hasText: "“Dinner with Friday team”" }).waitFor();
  assert.deepEqual(await page.locator("#add-preview .chip").allInnerTexts(), ["friday", "7pm", "#social"]);
  const keep = (kind, text) => page.getByRole("button", { name: `${kind} “${text}”: keep as words`, exact: true }).click();
  await keep("date", "friday");
  assert.equal(await field.inputValue(), 'Dinner with Friday team "friday" 7pm #social');
  // Now the earlier "Friday" is the only date said: kept as words too.
  await keep("date", "Friday");
  assert.equal(await field.inputValue(), 'Dinner with "Friday" team "friday" 7pm #social');
  await page.locator("#add-preview .parsed-title", { hasText: "“Dinner with Friday team friday”" }).waitFor();
  await keep("time", "7pm");
  assert.equal(await field.inputValue(), 'Dinner with "Friday" team "friday" "7pm" #social');
  await page.locator("#add-preview .parsed-title", { hasText: "“Dinner with Friday team friday 7pm”" }).waitFor();
  await field.press("Enter");
  const kept = row(page, "Dinner with Friday team friday 7pm");
  await kept.waitFor();
  assert.equal(await kept.locator(".due").count(), 0);
  // A line that leaves no title is refused, and what was typed stays.
  await quickAdd(page, "tomorrow #shop");
  await page.locator("#add-error").waitFor();
  assert.equal(await page.getByRole("textbox", { name: "Add task" }).inputValue(), "tomorrow #shop");
  await context.close();
});

test("a filter narrows the list, stays in the address, and a bad one is shown where it fails", async () => {
  const { context, page } = await signedIn("ann");
  await api("POST", "/api/v1/tasks", { title: "Water the plants", tags: ["home"] });
  await page.reload();
  const filter = page.getByRole("combobox", { name: "Filter" });
  await filter.fill("tag:home");
  await filter.press("Enter");
  await page.waitForURL(/q=tag%3Ahome/);
  await row(page, "Water the plants").waitFor();
  assert.equal(await row(page, "Buy milk").count(), 0);
  // A search marks the words it matched, the last one typed as a prefix.
  await filter.fill("tag:home the pla");
  await filter.press("Enter");
  await page.waitForURL(/q=tag%3Ahome\+the\+pla/);
  const marks = row(page, "Water the plants").locator("mark");
  assert.deepEqual(await marks.allTextContents(), ["the", "plants"]);
  await filter.fill("tag:home (due<");
  await filter.press("Enter");
  const error = page.locator("#q-error");
  await error.waitFor();
  assert.match(await error.innerText(), /position|expected|at/i);
  assert.equal(await filter.getAttribute("aria-invalid"), "true");
  // Suggestions: a filter's name, then its values (the user's tags), taken
  // by keyboard or by a click.
  await filter.fill("");
  await filter.pressSequentially("ta");
  const option = (name) => page.getByRole("option", { name, exact: true });
  await option(/^tag:/).waitFor();
  assert.equal(await filter.getAttribute("aria-expanded"), "true");
  await noAxeViolations(page, "filter suggestions");
  await filter.press("ArrowDown");
  assert.equal(await filter.getAttribute("aria-activedescendant"), "q-opt-0");
  await filter.press("Enter");
  assert.equal(await filter.inputValue(), "tag:");
  await option("tag:home").waitFor();
  await filter.pressSequentially("ho");
  await option("tag:home").click();
  assert.equal(await filter.inputValue(), "tag:home");
  await page.getByRole("listbox", { name: "Filter suggestions" }).waitFor({ state: "hidden" });
  await filter.press("Enter");
  await page.waitForURL(/q=tag%3Ahome&/);
  await row(page, "Water the plants").waitFor();
  await context.close();
});

test("a filtered list saved as a view is in the sidebar; a tag is coloured, then renamed on every task", async () => {
  const { context, page } = await signedIn("ann");
  await api("POST", "/api/v1/tasks", { title: "Book the dentist", tags: ["health"] });
  await api("POST", "/api/v1/tasks", { title: "Renew gym pass", tags: ["health", "money"] });
  await page.goto("/?view=inbox&q=tag%3Ahealth");
  await page.getByText("Save as a view").click();
  await page.getByLabel("View's name").fill("Health");
  await page.getByRole("button", { name: "Save view" }).click();
  await page.waitForURL(/view=all/);
  const saved = page.getByRole("navigation", { name: "Lists" }).getByRole("link", { name: "Health", exact: true });
  assert.equal(await saved.getAttribute("aria-current"), "page");
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Health");
  await row(page, "Renew gym pass").waitFor();
  const views = await api("GET", "/api/v1/views");
  assert.deepEqual(views.map((v) => [v.name, v.query]), [["Health", "status:open tag:health"]]);

  await page.getByRole("link", { name: "Tags and views" }).click();
  await page.waitForURL(/\/organize$/);
  const colour = page.getByRole("form", { name: "Colour of #health" });
  await colour.getByLabel("Colour for #health").fill("#c0392b");
  await colour.getByRole("button", { name: "Set colour of #health" }).click();
  await page.getByRole("button", { name: "Remove colour of #health" }).waitFor();
  const rename = page.getByRole("form", { name: "Rename #health" });
  await rename.getByLabel("Name of #health").fill("wellbeing");
  await rename.getByRole("button", { name: "Rename #health" }).click();
  await page.getByRole("form", { name: "Rename #wellbeing" }).waitFor();
  const tags = await api("GET", "/api/v1/tags");
  const renamed = tags.find((t) => t.name === "wellbeing");
  assert.deepEqual([renamed.count, renamed.colour], [2, "#c0392b"]);
  assert.equal(tags.some((t) => t.name === "health"), false);
  await page.goto("/");
  const chip = row(page, "Renew gym pass").locator(".tag", { hasText: "#wellbeing" });
  assert.equal(await chip.locator("circle").getAttribute("fill"), "#c0392b");
  await context.close();
});

test("multi-select: ticked tasks are completed together with one undo, or given a priority", async () => {
  const { context, page } = await signedIn("ann");
  const made = [];
  for (const title of ["Bulk one", "Bulk two", "Bulk three"]) {
    made.push(await api("POST", "/api/v1/tasks", { title, tags: ["bulk"] }));
  }
  await page.goto("/?view=inbox&q=tag%3Abulk");
  const bar = page.getByRole("form", { name: "Selected tasks" });
  assert.equal(await bar.isVisible(), false, "the bar waits for a ticked row");
  await page.getByRole("checkbox", { name: "Bulk one" }).check();
  // The keyboard ticks too: from the ticked box, j to the next task, s.
  await page.keyboard.press("j");
  await page.keyboard.press("s");
  assert.equal(await page.getByRole("checkbox", { name: "Bulk two" }).isChecked(), true);
  assert.equal(await page.locator("#picked").innerText(), "2 selected:");
  await bar.getByRole("button", { name: "Complete selected" }).click();
  await rowOf(page, made[0].id).waitFor({ state: "hidden" });
  await page.locator(".toast", { hasText: "Completed: 2 tasks" }).getByRole("button", { name: "Undo" }).click();
  await rowOf(page, made[1].id).waitFor();
  await page.waitForTimeout(5500);
  assert.equal((await api("GET", `/api/v1/tasks/${made[0].id}`)).status, "open", "undone: nothing was sent");
  await page.getByRole("checkbox", { name: "Bulk one" }).check();
  await page.getByRole("checkbox", { name: "Bulk two" }).check();
  await bar.getByRole("button", { name: "Complete selected" }).click();
  const sent = page.waitForResponse((r) => r.url().endsWith("/tasks/bulk"), { timeout: 10000 });
  assert.equal((await sent).status(), 303);
  for (const t of made.slice(0, 2)) assert.equal((await api("GET", `/api/v1/tasks/${t.id}`)).status, "done");
  await page.getByRole("checkbox", { name: "Bulk three" }).check();
  await bar.getByLabel("Priority for the selected tasks").selectOption("high");
  await bar.getByRole("button", { name: "Set priority" }).click();
  await rowOf(page, made[2].id).locator(".prio", { hasText: "high" }).waitFor();
  assert.equal((await api("GET", `/api/v1/tasks/${made[2].id}`)).priority, "high");
  await context.close();
});

test("the calendar shows a month of open tasks on their days; dragging one moves it, keeping its time", async () => {
  const { context, page } = await signedIn("ann");
  const now = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  const today = iso(now);
  // Another day of this month.
  const other = new Date(now);
  other.setUTCDate(now.getUTCDate() === 1 ? 2 : now.getUTCDate() - 1);
  const target = iso(other);
  const dated = await api("POST", "/api/v1/tasks", { title: "Calendar dated", due: today });
  const timed = await api("POST", "/api/v1/tasks", { title: "Calendar timed", due: `${today}T09:30:00Z` });
  await page.goto("/calendar");
  const cell = (day) => page.locator(`td[data-day="${day}"]`);
  await cell(today).getByRole("link", { name: "Calendar dated" }).waitFor();
  assert.equal(await cell(today).getAttribute("aria-current"), "date");
  for (const [task, title] of [[dated, "Calendar dated"], [timed, "09:30 Calendar timed"]]) {
    const moved = page.waitForResponse((r) => r.url().endsWith(`/tasks/${task.id}/move`));
    await page.locator(`[data-move="${task.id}"]`).dragTo(cell(target));
    assert.equal((await moved).status(), 303);
    await cell(target).getByRole("link", { name: title }).waitFor();
  }
  assert.equal((await api("GET", `/api/v1/tasks/${dated.id}`)).due, target);
  const due = new Date((await api("GET", `/api/v1/tasks/${timed.id}`)).due);
  assert.deepEqual([iso(due), due.getUTCHours(), due.getUTCMinutes()], [target, 9, 30]);
  // A week or month out of range is refused, not a crash.
  for (const q of ["week=%2B262143-12-31", "week=9999-12-31", "month=-262144-01", "month=13"]) {
    assert.equal((await page.request.get(`/calendar?${q}`)).status(), 400, q);
  }
  await page.getByRole("link", { name: "Week" }).click();
  await page.waitForURL(/week=/);
  await page.getByRole("heading", { level: 1, name: /Week of/ }).waitFor();
  await context.close();
});

test("a late task moves to today in one click", async () => {
  const { context, page } = await signedIn("ann");
  const yesterday = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
  const today = new Date().toISOString().slice(0, 10);
  const late = await api("POST", "/api/v1/tasks", { title: "Late one", due: yesterday });
  await page.goto("/?view=today");
  const moved = page.waitForResponse((r) => r.url().endsWith(`/tasks/${late.id}/move`));
  await page.getByRole("button", { name: "Move Late one to today" }).click();
  assert.equal((await moved).status(), 303);
  assert.equal((await api("GET", `/api/v1/tasks/${late.id}`)).due, today);
  await rowOf(page, late.id).locator(".due", { hasText: "Today" }).waitFor();
  await context.close();
});

test("offline, a page says so instead of the browser's error", async () => {
  const { context, page } = await signedIn("ann");
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await context.setOffline(true);
  await page.goto("/?view=today");
  await page.getByRole("heading", { level: 1, name: "You are offline" }).waitFor();
  await noAxeViolations(page, "the offline page");
  await context.setOffline(false);
  await page.getByRole("link", { name: "Try again" }).click();
  await page.getByRole("heading", { level: 1, name: "Today" }).waitFor();
  await context.close();
});

test("the editor previews a repeat rule as it is typed, and completing a repeating task brings its next one", async () => {
  const { context, page } = await signedIn("ann");
  const stored = { at: "2030-01-06T20:00:00.250Z" };
  const task = await api("POST", "/api/v1/tasks", { title: "Stretch", due: "2030-01-07", reminders: [stored] });
  await page.goto(`/tasks/${task.id}`);
  // The tags field suggests the user's tags for the word being typed.
  const tags = page.getByRole("combobox", { name: /Tags/ });
  await tags.pressSequentially("urgent ho");
  const suggested = await page.locator("#tag-names option").evaluateAll((os) => os.map((o) => o.value));
  assert.ok(suggested.includes("urgent home "), JSON.stringify(suggested));
  assert.ok(suggested.every((v) => v.startsWith("urgent ho")), JSON.stringify(suggested));
  await tags.fill("");
  await page.getByLabel("Repeats").fill("FREQ=WEEKLY");
  const dates = page.locator("#occurrences li");
  await dates.first().waitFor();
  assert.equal(await dates.count(), 5);
  assert.equal(await dates.first().innerText(), "Mon 14 Jan 2030");
  await page.getByLabel("Repeats").fill("FREQ=NEVERLY");
  await page.locator("#occurrences .error").waitFor();
  await page.getByLabel("Repeats").fill("FREQ=WEEKLY");
  await dates.first().waitFor();
  // Reminders are written in words; one that is not is refused, saying how.
  assert.equal(await page.getByLabel(/^Reminders/).inputValue(), "2030-01-06 20:00");
  await page.getByLabel(/^Reminders/).fill("1 day before, whenever");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("alert").filter({ hasText: "30 minutes before" }).waitFor();
  assert.deepEqual((await api("GET", `/api/v1/tasks/${task.id}`)).reminders, [stored]);
  await page.getByLabel(/^Reminders/).fill("1 day before, 2030-01-06 20:00");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(`${BASE}/`);
  // The one written as shown is the stored one, to the millisecond.
  assert.deepEqual((await api("GET", `/api/v1/tasks/${task.id}`)).reminders, [{ before: "P1D" }, stored]);
  await page.goto(`/tasks/${task.id}`);
  assert.equal(await page.getByLabel(/^Reminders/).inputValue(), "1 day before, 2030-01-06 20:00");
  await page.goto("/");
  await live(page);
  const before = row(page, "Stretch");
  await before.locator(".rep").waitFor();
  await before.getByRole("button", { name: "Complete Stretch" }).click();
  // Sent once the time to undo is over; the next occurrence, created by
  // the recurring role, arrives live.
  await page.locator(".task", { hasText: "Stretch" }).filter({ hasText: "14 Jan 2030" }).waitFor({ timeout: 10000 });
  await context.close();
});

test("two tabs of one user, and the API, see each other's changes within a second", async () => {
  const a = await signedIn("ann");
  const b = await signedIn("ann");
  await live(b.page);
  let t0 = Date.now();
  await quickAdd(a.page, "Seen in the other tab");
  await row(b.page, "Seen in the other tab").waitFor({ timeout: 1000 });
  const viaUi = Date.now() - t0;
  t0 = Date.now();
  await api("POST", "/api/v1/tasks", { title: "Made by a script" });
  await row(b.page, "Made by a script").waitFor({ timeout: 1000 });
  const viaApi = Date.now() - t0;
  console.log(`live: another tab ${viaUi} ms, the API ${viaApi} ms`);
  await a.context.close();
  await b.context.close();
});

test("a reminder shows as a toast at its time", async () => {
  const { context, page } = await signedIn("ann");
  await live(page);
  const at = new Date(Date.now() + 2000).toISOString().replace(/\.\d+Z$/, "Z");
  await api("POST", "/api/v1/tasks", { title: "Call the dentist", reminders: [{ at }] });
  await page.locator(".toast", { hasText: "Reminder: Call the dentist" }).waitFor({ timeout: 15000 });
  assert.equal(await page.locator("#unread").textContent(), "1 unread");
  // The notification centre: unread, and its task completed from there.
  await page.getByRole("link", { name: /Notifications/ }).click();
  await page.getByRole("heading", { level: 1, name: "Notifications" }).waitFor();
  const note = page.locator(".note", { hasText: "Call the dentist" });
  assert.equal(await note.locator(".unread-dot").count(), 1);
  await note.getByRole("button", { name: "Complete: “Call the dentist”" }).click();
  await page.locator(".note", { hasText: "Call the dentist" }).locator(".unread-dot").waitFor({ state: "detached" });
  assert.equal(await page.locator("#unread").count(), 0);
  const tasks = await api("GET", "/api/v1/tasks?q=dentist%20status:done");
  assert.equal(tasks.items.length, 1);
  await context.close();
});

test("another user sees nothing of the first", async () => {
  const mine = await api("POST", "/api/v1/tasks", { title: "Ann's secret" });
  const { context, page } = await signedIn("bob");
  assert.equal(await row(page, "Ann's secret").count(), 0);
  assert.equal(await page.locator(".task").count(), 0);
  // Another user's task looks exactly like one that does not exist.
  const res = await page.goto(`/tasks/${mine.id}`);
  assert.equal(res.status(), 404);
  const theirs = await page.locator("main").innerText();
  const missing = await page.goto("/tasks/tsk_doesnotexist");
  assert.equal(missing.status(), 404);
  assert.equal(await page.locator("main").innerText(), theirs);
  // Bob's forms cannot touch it either.
  const csrf = await page.goto("/").then(() => page.locator("input[name=_csrf]").first().inputValue());
  const post = await context.request.post(`/tasks/${mine.id}/complete`, {
    form: { _csrf: csrf, back: "/" }, headers: { origin: BASE }, maxRedirects: 0,
  });
  assert.equal(post.status(), 404);
  const still = await api("GET", `/api/v1/tasks/${mine.id}`);
  assert.equal(still.status, "open");
  await context.close();
});

test("keyboard only: add, move, set a due and tags, complete, edit", async () => {
  const { context, page } = await signedIn("ann");
  await page.keyboard.press("q");
  await page.keyboard.type("Keyboard task");
  await page.keyboard.press("Enter");
  await row(page, "Keyboard task").waitFor();
  await page.keyboard.press("Escape");
  const titles = await page.locator(".task .title").allTextContents();
  const index = titles.indexOf("Keyboard task");
  for (let i = 0; i <= index; i++) await page.keyboard.press("j");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Keyboard task");
  const id = await page.evaluate(() => document.activeElement.closest(".task").id.slice(5));
  // d sets the due as quick add reads it; # adds tags; a bad due is refused in place.
  await page.keyboard.press("d");
  const set = page.getByRole("dialog", { name: "Set the due date" });
  await set.getByRole("textbox").fill("whenever");
  await set.getByRole("textbox").press("Enter");
  await set.getByRole("alert").filter({ hasText: "No date" }).waitFor();
  await set.getByRole("textbox").fill("tomorrow 5pm");
  await set.getByRole("textbox").press("Enter");
  await rowOf(page, id).locator(".due", { hasText: "Tomorrow 17:00" }).waitFor();
  await page.keyboard.press("#");
  const add = page.getByRole("dialog", { name: "Add tags" });
  await add.getByRole("textbox").fill("#keys triage");
  await add.getByRole("textbox").press("Enter");
  await add.waitFor({ state: "hidden", timeout: 5000 }).catch(async () => {
    assert.fail(`the dialog stayed open: ${await add.innerText()}`);
  });
  const typed = await api("GET", `/api/v1/tasks/${id}`);
  assert.deepEqual(typed.tags, ["keys", "triage"]);
  await rowOf(page, id).locator(".tag", { hasText: "#triage" }).waitFor({ timeout: 5000 }).catch(async () => {
    assert.fail(`the row did not show the tags: ${await rowOf(page, id).innerHTML()}`);
  });
  // Focus is back on the task.
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Keyboard task");
  await page.keyboard.press("x");
  await rowOf(page, id).waitFor({ state: "hidden" });
  await page.keyboard.press("?");
  await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
  await page.keyboard.press("Escape");
  await page.keyboard.press("j");
  const focused = await page.evaluate(() => document.activeElement.textContent);
  await page.keyboard.press("e");
  await page.getByRole("heading", { name: "Edit task" }).waitFor();
  assert.equal(await page.getByLabel("Title").inputValue(), focused);
  await context.close();
});

test("completing or deleting waits five seconds for an undo, then is final", async () => {
  const { context, page } = await signedIn("ann");
  const kept = await api("POST", "/api/v1/tasks", { title: "Undo me" });
  const gone = await api("POST", "/api/v1/tasks", { title: "Delete me" });
  const done = await api("POST", "/api/v1/tasks", { title: "Finish me" });
  await page.reload();
  await row(page, "Undo me").getByRole("button", { name: "Delete Undo me" }).click();
  await rowOf(page, kept.id).waitFor({ state: "hidden" });
  await page.locator(".toast", { hasText: "Deleted: Undo me" }).getByRole("button", { name: "Undo" }).click();
  await rowOf(page, kept.id).waitFor({ state: "visible" });
  await row(page, "Delete me").getByRole("button", { name: "Delete Delete me" }).click();
  await row(page, "Finish me").getByRole("button", { name: "Complete Finish me" }).click();
  await rowOf(page, gone.id).waitFor({ state: "hidden" });
  await rowOf(page, done.id).waitFor({ state: "hidden" });
  // Not sent yet: a reader elsewhere still sees both, even after a redraw.
  await api("POST", "/api/v1/tasks", { title: "Redraw the list" });
  await row(page, "Redraw the list").waitFor();
  assert.equal(await rowOf(page, done.id).isHidden(), true);
  assert.equal((await api("GET", `/api/v1/tasks/${done.id}`)).status, "open");
  await rowOf(page, gone.id).waitFor({ state: "detached", timeout: 10000 });
  await rowOf(page, done.id).waitFor({ state: "detached", timeout: 10000 });
  assert.equal((await api("GET", `/api/v1/tasks/${done.id}`)).status, "done");
  const missing = await fetch(`${BASE}/api/v1/tasks/${gone.id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(missing.status, 404);
  assert.equal((await api("GET", `/api/v1/tasks/${kept.id}`)).status, "open");
  await context.close();
});

test("a form posted without this session's form token is refused and changes nothing", async () => {
  const { context, page } = await signedIn("ann");
  const before = (await api("GET", "/api/v1/tasks?limit=200")).items.length;
  const noToken = await context.request.post("/tasks", {
    form: { text: "Forged task", back: "/" }, headers: { origin: BASE }, maxRedirects: 0,
  });
  assert.equal(noToken.status(), 403);
  const wrongToken = await context.request.post("/tasks", {
    form: { _csrf: "0".repeat(32), text: "Forged task", back: "/" }, headers: { origin: BASE }, maxRedirects: 0,
  });
  assert.equal(wrongToken.status(), 403);
  const csrf = await page.locator("input[name=_csrf]").first().inputValue();
  const otherSite = await context.request.post("/tasks", {
    form: { _csrf: csrf, text: "Forged task", back: "/" }, headers: { origin: "http://evil.example" }, maxRedirects: 0,
  });
  assert.equal(otherSite.status(), 403);
  assert.equal((await api("GET", "/api/v1/tasks?limit=200")).items.length, before);
  await context.close();
});

test("settings: a token's secret is shown once and works until revoked; the zone is saved", async () => {
  const { context, page } = await signedIn("ann");
  await page.getByRole("link", { name: "Settings of ann" }).click();
  await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
  await page.getByLabel("New token's name").fill("ci script");
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = await page.locator("#secret").innerText();
  const me = (token) => fetch(`${BASE}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await me(secret)).status, 200);
  await page.goto("/settings");
  assert.equal(await page.locator("#secret").count(), 0, "the secret is shown once");
  assert.equal((await page.content()).includes(secret), false);
  await page.getByRole("button", { name: "Revoke ci script" }).click();
  await page.getByRole("button", { name: "Revoke ci script" }).waitFor({ state: "detached" });
  assert.equal((await me(secret)).status, 401);
  const zone = page.getByLabel("Time zone");
  // Saved once the server has answered the form.
  const save = async () => {
    const answered = page.waitForResponse((r) => r.url().endsWith("/settings/profile"));
    await page.getByRole("button", { name: "Save profile" }).click();
    return (await answered).status();
  };
  const before = await zone.inputValue();
  await zone.fill("Pacific/Kiritimati");
  assert.equal(await save(), 303);
  assert.equal((await api("GET", "/api/v1/me")).tz, "Pacific/Kiritimati");
  await zone.fill("Nowhere/Atlantis");
  assert.equal(await save(), 400);
  await page.getByRole("alert").filter({ hasText: "Atlantis" }).waitFor();
  assert.equal((await api("GET", "/api/v1/me")).tz, "Pacific/Kiritimati");
  await page.getByLabel("Time zone").fill(before);
  assert.equal(await save(), 303);
  assert.equal((await api("GET", "/api/v1/me")).tz, before);
  // Month first: quick add reads 3/4 as March 4, and rows write it so.
  await page.getByLabel("Date order").selectOption("mdy");
  assert.equal(await save(), 303);
  assert.equal((await api("GET", "/api/v1/me")).date_order, "mdy");
  await page.goto("/");
  await quickAdd(page, "renew passport 3/4/2031");
  const passport = row(page, "renew passport");
  await passport.filter({ hasText: "Mar 4, 2031" }).waitFor();
  const id = (await passport.getAttribute("id")).replace("task-", "");
  assert.equal((await api("GET", `/api/v1/tasks/${id}`)).due, "2031-03-04");
  await api("PATCH", "/api/v1/me", { date_order: "dmy" });
  await page.goto("/settings");
  assert.equal(await page.getByLabel("Date order").inputValue(), "dmy");
  // Where reminders go: stored per user, the same through the API.
  const inApp = page.getByLabel(/in the app/);
  await inApp.uncheck();
  const saved = page.waitForResponse((r) => r.url().endsWith("/settings/reminders"));
  await page.getByRole("button", { name: "Save reminder settings" }).click();
  assert.equal((await saved).status(), 303);
  // The page that follows shows the box unticked, and no longer toasts.
  await page.waitForFunction(() => !document.querySelector("[data-toasts]"));
  assert.equal(await page.getByLabel(/in the app/).isChecked(), false);
  assert.deepEqual(await api("GET", "/api/v1/me/reminder-channels"), { in_app: false, email: true, webhook: true });
  await api("PUT", "/api/v1/me/reminder-channels", { in_app: true, email: true, webhook: true });
  await context.close();
});

test("a webhook's deliveries are listed and sent again on request; a new secret signs beside the old", { timeout: 90000 }, async (t) => {
  // A receiver on loopback that refuses until told otherwise.
  const received = [];
  let answer = 500;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => { received.push(req.headers); res.writeHead(answer).end(); });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  t.after(() => { receiver.closeAllConnections(); receiver.close(); });
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  const until = async (what, ok) => {
    for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(ok(), what);
  };
  await api("POST", "/api/v1/webhooks", { url, events: ["task.created"] });
  await api("POST", "/api/v1/tasks", { title: "Tell the hook" });
  await until("the first attempt", () => received.length >= 1);

  const { context, page } = await signedIn("ann");
  await page.goto("/settings");
  await page.getByRole("link", { name: url }).click();
  await page.getByRole("heading", { level: 1, name: "Webhook" }).waitFor();
  const delivery = page.locator("li", { hasText: "task.created" });
  for (let i = 0; i < 50 && !(await delivery.filter({ hasText: "HTTP 500" }).count()); i++) {
    await page.waitForTimeout(100);
    await page.reload();
  }
  await delivery.filter({ hasText: "HTTP 500" }).waitFor({ timeout: 1000 });
  await noAxeViolations(page, "a webhook's page");
  answer = 204;
  const before = received.length;
  await delivery.getByRole("button", { name: /^Send again: task\.created of / }).click();
  await until("the redelivery", () => received.length > before);
  assert.equal(received.at(-1)["webhook-signature"].split(" ").length, 1);

  const itsPage = page.url();
  await page.getByRole("button", { name: "New signing secret" }).click();
  assert.match(await page.locator("#secret").innerText(), /^whsec_/);
  await page.goto(itsPage);
  assert.equal(await page.locator("#secret").count(), 0, "the secret is shown once");
  const sent = received.length;
  await delivery.first().getByRole("button", { name: /^Send again/ }).click();
  await until("the redelivery after the rotation", () => received.length > sent);
  assert.equal(received.at(-1)["webhook-signature"].split(" ").length, 2, "signed with the new secret and the old");
  await context.close();
});

test("every main view and dialog passes axe, and is saved as a screenshot", async () => {
  mkdirSync(SHOTS, { recursive: true });
  const anon = await browser.newContext({ baseURL: BASE });
  const login = await anon.newPage();
  await login.goto("/login");
  await noAxeViolations(login, "the sign-in page");
  await anon.close();
  const views = ["inbox", "today", "upcoming", "nodate", "completed", "all"];
  for (const scheme of ["light", "dark"]) {
    for (const [width, height, label] of [[1280, 800, "desktop"], [360, 740, "360px"]]) {
      const { context, page } = await signedIn("ann", { colorScheme: scheme, viewport: { width, height } });
      for (const view of views) {
        await page.goto(`/?view=${view}`);
        await noAxeViolations(page, `${view} (${scheme}, ${label})`);
        await page.screenshot({ path: join(SHOTS, `${view}-${scheme}-${label}.png`), fullPage: true });
      }
      await page.goto("/notifications");
      await noAxeViolations(page, `notifications (${scheme}, ${label})`);
      await page.screenshot({ path: join(SHOTS, `notifications-${scheme}-${label}.png`), fullPage: true });
      await page.goto("/calendar");
      await noAxeViolations(page, `the calendar (${scheme}, ${label})`);
      await page.screenshot({ path: join(SHOTS, `calendar-${scheme}-${label}.png`), fullPage: true });
      await page.goto("/organize");
      await noAxeViolations(page, `tags and views (${scheme}, ${label})`);
      await page.screenshot({ path: join(SHOTS, `organize-${scheme}-${label}.png`), fullPage: true });
      await page.goto("/settings");
      await noAxeViolations(page, `settings (${scheme}, ${label})`);
      await page.screenshot({ path: join(SHOTS, `settings-${scheme}-${label}.png`), fullPage: true });
      await page.goto("/");
      const id = (await page.locator(".task").first().getAttribute("id")).slice(5);
      await page.goto(`/tasks/${id}`);
      await noAxeViolations(page, `the editor (${scheme}, ${label})`);
      await page.screenshot({ path: join(SHOTS, `editor-${scheme}-${label}.png`), fullPage: true });
      await page.goto("/");
      await page.keyboard.press("?");
      await page.getByRole("dialog").waitFor();
      await noAxeViolations(page, `the shortcuts dialog (${scheme}, ${label})`);
      await context.close();
    }
  }
});

/// lee's list: 100 open tasks with a mix of dues, tags and priorities.
async function seedLee() {
  const tags = ["work", "home", "errands", "health", "reading"];
  const priorities = ["none", "low", "medium", "high", "urgent"];
  const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
  for (let i = 0; i < 100; i++) {
    await api("POST", "/api/v1/tasks", {
      title: `Task number ${i + 1}: ${["review the budget", "call the plumber", "book train tickets", "write the newsletter"][i % 4]}`,
      tags: [tags[i % 5], ...(i % 3 === 0 ? [tags[(i + 2) % 5]] : [])],
      priority: priorities[i % 5],
      ...(i % 4 === 3 ? {} : { due: day((i % 20) - 5) }),
    }, LEE_TOKEN);
  }
}

test("the first load of a list of 100 tasks is light: few requests, all from this server", async () => {
  await seedLee();
  // Signed in elsewhere; this browser has nothing cached.
  const signed = await signedIn("lee");
  const storageState = await signed.context.storageState();
  await signed.context.close();
  const context = await browser.newContext({ baseURL: BASE, storageState });
  const page = await context.newPage();
  const loaded = [];
  page.on("requestfinished", (r) => loaded.push(r));
  await page.goto("/", { waitUntil: "networkidle" });
  assert.equal(await page.locator(".task").count(), 100);
  let total = 0;
  const byType = {};
  for (const r of loaded) {
    const sizes = await r.sizes();
    const bytes = sizes.responseHeadersSize + sizes.responseBodySize;
    total += bytes;
    const type = r.resourceType();
    byType[type] = (byType[type] || 0) + bytes;
    assert.ok(r.url().startsWith(BASE), `${r.url()} is not from this server`);
  }
  // The live stream stays open, so it never finishes: one request more.
  const requests = loaded.length + 1;
  console.log(`first load: ${requests} requests, ${(total / 1024).toFixed(1)} KB transferred`,
    Object.entries(byType).map(([t, b]) => `${t} ${(b / 1024).toFixed(1)} KB`).join(", "));
  assert.ok(requests <= 8, `${requests} requests`);
  assert.ok(total <= 60 * 1024, `${total} bytes in all`);
  assert.ok(byType.document <= 20 * 1024, `HTML ${byType.document} bytes`);
  assert.ok(byType.stylesheet <= 15 * 1024, `CSS ${byType.stylesheet} bytes`);
  assert.ok(byType.script <= 25 * 1024, `JS ${byType.script} bytes`);
  await context.close();
});

/// One Lighthouse run (mobile defaults, with `cpu` as the CPU slowdown) on
/// lee's list: the scores, the metrics, the host's benchmark index, and
/// the accessibility audits that failed.
function lighthouse(cpu) {
  const run = spawnSync(process.execPath, [
    join(MODULES, "lighthouse", "cli", "index.js"), `${BASE}/`,
    `--chrome-flags=--headless=new --no-sandbox ${CHROMIUM_ARGS.slice(1).join(" ")} --host-resolver-rules="MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"`,
    "--only-categories=performance,accessibility", "--output=json", "--output-path=stdout", "--quiet",
    `--throttling.cpuSlowdownMultiplier=${cpu}`,
    `--extra-headers=${JSON.stringify({ Authorization: `Bearer ${LEE_TOKEN}` })}`,
  ], { env: { ...process.env, CHROME_PATH: env("DUEFLOW_TEST_CHROMIUM") }, encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, `lighthouse failed: ${run.stderr}`);
  const report = JSON.parse(run.stdout);
  assert.equal(report.finalDisplayedUrl, `${BASE}/`, "Lighthouse saw the task list, signed in");
  const audit = (id) => report.audits[id].numericValue;
  return {
    cpu,
    benchmark: Math.round(report.environment.benchmarkIndex),
    performance: Math.round(report.categories.performance.score * 100),
    accessibility: Math.round(report.categories.accessibility.score * 100),
    lcp_ms: Math.round(audit("largest-contentful-paint")),
    tbt_ms: Math.round(audit("total-blocking-time")),
    cls: audit("cumulative-layout-shift"),
    failed: report.categories.accessibility.auditRefs
      .map((r) => report.audits[r.id])
      .filter((a) => a.scoreDisplayMode === "binary" && a.score === 0)
      .map((a) => a.id),
  };
}

/// The CPU slowdown that makes a host whose benchmark index is `index`
/// emulate the phone Lighthouse's default 4x emulates on the host it is
/// made for (a high-end desktop, index 1500–2000): its throttling guide
/// ("Calibrating the CPU slowdown") asks for less on a slower host. The
/// index of a 2-core test host moves between about 900 and 2,250 with its
/// load.
const calibrated = (index) => Math.round(Math.min(8, Math.max(1, (4 * index) / 1750)) * 100) / 100;

test("Lighthouse (mobile, CPU slowdown calibrated to the host, median of five runs) scores the task list 95+ on performance and 100 on accessibility", () => {
  // The first run, at the default 4x, measures the host; each run's
  // slowdown follows from the index measured by the run before it. The
  // index moves with the host's load, so a run is kept only when its own
  // index calls for a slowdown within a quarter of the one it had: a run
  // slowed for a faster host than it met measures the load, not the page.
  // The median of five runs, as Lighthouse's guide to variability advises,
  // varies about half as much as a single run.
  const runs = [lighthouse(4)];
  const measured = [];
  const fits = (r) => Math.abs(r.cpu - calibrated(r.benchmark)) <= 0.25 * calibrated(r.benchmark);
  while (measured.length < 5 && runs.length < 15) {
    const r = lighthouse(calibrated(runs[runs.length - 1].benchmark));
    runs.push(r);
    if (fits(r)) measured.push(r);
  }
  const uncalibrated = runs[0];
  for (const r of runs) assert.deepEqual(r.failed, [], "failed accessibility audits");
  assert.equal(measured.length, 5, `the host's speed moved too much to calibrate: ${JSON.stringify(runs.map(({ failed, ...r }) => r))}`);
  const median = (key) => measured.map((r) => r[key]).sort((a, b) => a - b)[2];
  const figures = Object.fromEntries(["performance", "accessibility", "lcp_ms", "tbt_ms", "cls"].map((k) => [k, median(k)]));
  console.log("lighthouse (median of 5):", JSON.stringify(figures), "runs:", JSON.stringify(measured.map(({ failed, ...r }) => r)),
    "at the default 4x:", JSON.stringify((({ failed, ...r }) => r)(uncalibrated)),
    "set aside (slowdown off by over a quarter):", runs.length - 1 - measured.length);
  assert.ok(figures.performance >= 95, `performance ${figures.performance}`);
  assert.equal(figures.accessibility, 100);
  assert.ok(figures.lcp_ms <= 1500, `largest contentful paint ${figures.lcp_ms} ms`);
  assert.ok(figures.tbt_ms <= 50, `total blocking time ${figures.tbt_ms} ms`);
  assert.ok(figures.cls <= 0.05, `layout shift ${figures.cls}`);
});

test("a list of 1,000 tasks is added to as it is scrolled, scrolls without long frames, and a live change keeps it whole", async () => {
  // Lighthouse ran synchronously: let the event loop see the keep-alive
  // connections the server closed meanwhile before any is used again.
  await new Promise((r) => setTimeout(r, 100));
  // lee's 100 (when the tests before ran), and more to make 1,000.
  const have = (await api("GET", "/api/v1/tasks?limit=500", undefined, LEE_TOKEN)).items.length;
  const waiting = [...Array(1000 - have).keys()];
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = waiting.shift(); i !== undefined; i = waiting.shift()) {
      await api("POST", "/api/v1/tasks", { title: `Filed task ${i + 1}`, tags: ["archive"] }, LEE_TOKEN);
    }
  }));
  const { context, page } = await signedIn("lee");
  await live(page);
  const count = () => page.locator(".task").count();
  assert.equal(await count(), 100);
  // Each page is fetched as the end of the list nears.
  for (let shown = 100; shown < 1000;) {
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForFunction((n) => document.querySelectorAll(".task").length > n, shown);
    shown = await count();
  }
  assert.equal(await count(), 1000);
  assert.equal(await page.locator("a[rel=next]").count(), 0, "no page is left");
  assert.equal(new Set(await page.locator(".task").evaluateAll((rows) => rows.map((r) => r.id))).size, 1000);

  // Top to bottom, 120 px a frame, as a fast flick scrolls.
  await page.evaluate(() => window.scrollTo(0, 0));
  const scroll = await page.evaluate(() => new Promise((done) => {
    const long = [];
    const watch = new PerformanceObserver((l) => long.push(...l.getEntries().map((e) => e.duration)));
    watch.observe({ type: "longtask" });
    const frames = [];
    let last = null;
    requestAnimationFrame(function step(t) {
      if (last !== null) frames.push(t - last);
      last = t;
      // Rows take their height as they are first drawn: the end moves.
      if (scrollY >= document.documentElement.scrollHeight - innerHeight || frames.length > 5000) {
        watch.disconnect();
        frames.sort((a, b) => a - b);
        done({ frames: frames.length, p50: frames[frames.length >> 1], p95: frames[Math.floor(frames.length * 0.95)],
          max: frames[frames.length - 1], long });
        return;
      }
      scrollBy(0, 120);
      requestAnimationFrame(step);
    });
  }));
  console.log("scrolling 1,000 tasks:", JSON.stringify(scroll));
  assert.ok(scroll.frames > 100 && scroll.frames <= 5000, `${scroll.frames} frames`);
  assert.ok(scroll.p95 <= 34, `95th percentile frame ${scroll.p95} ms`);
  assert.deepEqual(scroll.long.filter((d) => d > 100), [], "tasks that blocked the page over 100 ms");

  // A change from elsewhere redraws every row shown, not the first page.
  const last = await page.locator(".task").last().getAttribute("id");
  const redrawn = page.waitForResponse((r) => r.url().includes("rows=1000"));
  await api("POST", `/api/v1/tasks/${last.replace("task-", "")}/complete`, undefined, LEE_TOKEN);
  assert.equal((await redrawn).status(), 200);
  await page.locator(`#${last}`).waitFor({ state: "detached" });
  assert.equal(await count(), 999);
  await context.close();
});
