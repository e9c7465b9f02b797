// dueflow's page script: keyboard shortcuts, live updates from the event
// stream, reminder toasts, and the browser's zone for a new account. All
// of it is added on top: every page works without it.
(() => {
  "use strict";
  const $ = (s, r = document) => r.querySelector(s);
  const $$ = (s, r = document) => [...r.querySelectorAll(s)];

  // Tell screen readers what changed out of their sight.
  function announce(text) {
    const el = $("#announce");
    if (!el) return;
    el.textContent = "";
    setTimeout(() => { el.textContent = text; }, 60);
  }

  // Offline, an installed app (or a tab) says so instead of failing; the
  // worker is registered once the page is idle, after its first load.
  if ("serviceWorker" in navigator) {
    addEventListener("load", () => setTimeout(() => navigator.serviceWorker.register("/sw.js").catch(() => {}), 2000));
  }

  // htmx searches all it processes for `hx-on` attributes, with an XPath
  // over every attribute, even inside what it then ignores: on a list of
  // 100 rows that search was most of its start. It is handed the parts
  // around an ignored subtree instead, each in a task of its own, so that
  // the page answers input meanwhile; an element htmx acts on itself
  // (a link, a form, a request or `hx-on` attribute) is left to it whole.
  const IGNORED = "[hx-ignore],[data-hx-ignore]";
  const actsItself = (el) => el.matches("a,form") ||
    el.getAttributeNames().some((n) => /^(data-)?hx-(on|action|get|post|put|patch|delete|query)/.test(n));
  document.addEventListener("htmx:before:process", (e) => {
    const root = e.target;
    if (!root.querySelector(IGNORED) || actsItself(root)) return;
    e.preventDefault();
    for (const part of root.children) {
      if (!part.matches(IGNORED)) setTimeout(() => htmx.process(part));
    }
  });

  // A new account starts in the browser's zone.
  for (const z of $$("[data-zone]")) {
    z.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  }

  // ---- The list cursor (j/k) --------------------------------------------
  // The cursor is a task, not a place: a redraw that moves the task (a new
  // due re-sorts it) keeps it selected.
  let cursor = -1;
  let cursorId = null;
  const rows = () => $$(".task").filter((r) => !r.hidden);
  // A row is `task-{id}`.
  const taskId = (row) => row.id.slice(5);
  function moveTo(i) {
    const all = rows();
    if (!all.length) { cursor = -1; cursorId = null; return; }
    cursor = Math.max(0, Math.min(i, all.length - 1));
    for (const r of all) r.classList.remove("cur");
    const row = all[cursor];
    cursorId = row.id;
    row.classList.add("cur");
    $(".title", row).focus();
  }
  // Back to the selected task after a redraw; where it left the list,
  // to the one that took its place.
  function restore() {
    const all = rows();
    const kept = all.findIndex((r) => r.id === cursorId);
    moveTo(kept >= 0 ? kept : cursor);
  }
  function current() {
    const focused = document.activeElement && document.activeElement.closest(".task");
    const all = rows();
    if (focused) {
      cursor = all.indexOf(focused);
      cursorId = focused.id;
    } else if (cursorId) {
      const kept = all.findIndex((r) => r.id === cursorId);
      if (kept >= 0) cursor = kept;
    }
    return cursor >= 0 ? all[cursor] : null;
  }
  function act(name) {
    const row = current();
    const button = row && $(`[data-act="${name}"]`, row);
    if (button) button.click();
  }

  // A notice in the corner, with an optional action; gone after `ms`.
  function toast(text, action, onAction, ms = 15000) {
    let box = $("#toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.setAttribute("role", "status");
      document.body.append(box);
    }
    const t = document.createElement("p");
    t.className = "toast";
    t.textContent = text;
    if (action) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = action;
      b.addEventListener("click", () => { t.remove(); onAction(); });
      t.append(" ", b);
    }
    box.append(t);
    setTimeout(() => t.remove(), ms);
    return t;
  }

  // ---- Row actions and undo --------------------------------------------------
  // A row's buttons post its list's form to their own address; here they
  // are sent in the background and the list redrawn. Completing or
  // deleting waits a few seconds first, with Undo in a notice; leaving the
  // page sends what waits. A redraw meanwhile keeps waiting rows hidden.
  const UNDO_MS = 5000;
  const waiting = new Map(); // task id -> { button, timer }
  function sendForm(url, body, leaving) {
    if (leaving) return navigator.sendBeacon(url, body);
    fetch(url, { method: "POST", body, redirect: "manual" })
      .then((res) => {
        if (res.type !== "opaqueredirect" && !res.ok) toast("That did not work; the list is shown as it is now.");
        refresh();
      })
      .catch(() => toast("The server could not be reached; nothing was changed."));
  }
  function post(button, leaving) {
    sendForm(button.formAction, new URLSearchParams(new FormData(button.form, button)), leaving);
  }
  function send(id, leaving) {
    const { button, timer } = waiting.get(id);
    clearTimeout(timer);
    waiting.delete(id);
    post(button, leaving);
  }
  function hideWaiting() {
    for (const id of [...waiting.keys(), ...(bulkWaiting ? bulkWaiting.ids : [])]) {
      const row = document.getElementById(`task-${id}`);
      if (row) row.hidden = true;
    }
  }
  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-act]");
    const row = button && button.closest(".task");
    if (!row) return;
    e.preventDefault();
    if (row.classList.contains("done") || button.dataset.act === "move") return post(button);
    const id = taskId(row);
    const title = $(".title", row).textContent;
    const verb = button.dataset.act === "delete" ? "Deleted" : "Completed";
    row.hidden = true;
    if (cursor >= 0) moveTo(cursor);
    const notice = toast(`${verb}: ${title}`, "Undo", () => {
      clearTimeout(waiting.get(id).timer);
      waiting.delete(id);
      const shown = document.getElementById(`task-${id}`);
      if (shown) shown.hidden = false;
      announce(`Undone: ${title}`);
    }, UNDO_MS);
    waiting.set(id, { button, timer: setTimeout(() => { notice.remove(); send(id); }, UNDO_MS) });
    announce(`${verb}: ${title}. Undo is in the notice.`);
  });
  addEventListener("pagehide", () => { for (const id of [...waiting.keys()]) send(id, true); });

  // ---- Multi-select ------------------------------------------------------------
  // Ticked rows are changed together by the bar above the list, which the
  // stylesheet shows once a row is ticked (without this script too).
  // Completing or deleting them waits for one Undo, as a single row does;
  // the other changes post at once.
  let bulkWaiting = null; // { url, body, ids, timer, notice }
  const picked = () => $$(".pick:checked");
  function showPicked() {
    const count = $("#picked");
    if (count) count.textContent = `${picked().length} selected:`;
  }
  function flushBulk(leaving) {
    const w = bulkWaiting;
    if (!w) return;
    clearTimeout(w.timer);
    w.notice.remove();
    bulkWaiting = null;
    sendForm(w.url, w.body, leaving);
  }
  showPicked();
  document.addEventListener("change", (e) => { if (e.target.matches(".pick")) showPicked(); });
  document.addEventListener("submit", (e) => {
    const act = e.target.id === "bulk" && e.submitter && e.submitter.value;
    if (act !== "complete" && act !== "delete") return;
    e.preventDefault();
    e.stopImmediatePropagation();
    flushBulk();
    const body = new URLSearchParams(new FormData(e.target, e.submitter));
    const ids = picked().map((c) => c.value);
    for (const c of picked()) { c.checked = false; c.closest(".task").hidden = true; }
    showPicked();
    const verb = act === "delete" ? "Deleted" : "Completed";
    const what = `${verb}: ${ids.length} task${ids.length === 1 ? "" : "s"}`;
    const batch = { url: e.target.action, body, ids };
    batch.notice = toast(what, "Undo", () => {
      // Only this batch, and only while it still waits.
      if (bulkWaiting !== batch) return;
      clearTimeout(batch.timer);
      bulkWaiting = null;
      for (const id of ids) {
        const row = document.getElementById(`task-${id}`);
        if (row) row.hidden = false;
      }
      announce(`Undone: ${what}`);
    }, UNDO_MS);
    batch.timer = setTimeout(flushBulk, UNDO_MS);
    bulkWaiting = batch;
    announce(`${what}. Undo is in the notice.`);
  }, true);
  addEventListener("pagehide", () => flushBulk(true));

  // ---- Calendar: drag a task to another day ------------------------------------
  let dragged = null;
  document.addEventListener("dragstart", (e) => {
    dragged = e.target.closest && e.target.closest("[data-move]");
    if (dragged) e.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", (e) => {
    if (dragged && e.target.closest && e.target.closest("[data-day]")) e.preventDefault();
  });
  document.addEventListener("drop", (e) => {
    const cell = dragged && e.target.closest && e.target.closest("[data-day]");
    if (!cell) return;
    e.preventDefault();
    const chip = dragged;
    dragged = null;
    if (chip.closest("[data-day]") === cell) return;
    $("ul", cell).append(chip);
    const body = new URLSearchParams({ _csrf: $("#move input[name=_csrf]").value, day: cell.dataset.day });
    sendForm(`/tasks/${chip.dataset.move}/move`, body);
    announce(`Moved to ${cell.dataset.day}: ${chip.textContent}`);
  });
  document.addEventListener("dragend", () => { dragged = null; });

  // ---- Tag suggestions --------------------------------------------------------
  // The tags field holds several tags; the browser's suggestions complete
  // the last one typed, keeping the ones before it.
  for (const field of $$("[data-suggest]")) {
    const list = document.getElementById(field.dataset.suggest);
    const names = $$("option", list).map((o) => o.value);
    field.setAttribute("list", list.id);
    field.addEventListener("input", () => {
      const words = field.value.split(/\s+/);
      const last = words.pop().replace(/^#/, "").toLowerCase();
      const kept = words.filter(Boolean);
      const before = kept.length ? `${kept.join(" ")} ` : "";
      list.replaceChildren(...names
        .filter((n) => n.startsWith(last) && !kept.includes(n))
        .slice(0, 20)
        .map((n) => new Option("", `${before}${n} `)));
    });
  }

  // ---- d and #: the selected task's due, or more tags ------------------------
  // A small dialog asks; the API makes the change (the page redraws from
  // the stream, as for any change). A due is read by the quick-add parser,
  // so "fri 5pm" works as in the add field; "none" clears it.
  async function problem(res) {
    try { return (await res.json()).detail || res.statusText; } catch { return res.statusText; }
  }
  async function api(method, path, body, headers = {}) {
    const res = await fetch(path, {
      method, credentials: "same-origin", cache: "no-store",
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(await problem(res));
    return res.status === 204 ? null : res.json();
  }
  const asks = {
    due: {
      heading: "Set the due date", label: "Due, e.g. tomorrow 5pm, fri, 24 dec, none",
      async change(task, text) {
        if (/^(none|no date|-)?$/i.test(text)) return { due: null };
        const parsed = await api("POST", "/api/v1/parse", { text });
        if (!parsed.due) throw new Error(`No date or time in “${text}”.`);
        return { due: parsed.due };
      },
      done: (t) => `Due ${t.due ? "set" : "cleared"}: ${t.title}`,
    },
    tags: {
      heading: "Add tags", label: "Tags, e.g. work errands",
      async change(task, text) {
        const more = text.split(/[\s,]+/).map((w) => w.replace(/^#/, "")).filter(Boolean);
        if (!more.length) throw new Error("Type at least one tag.");
        return { tags: [...task.tags, ...more] };
      },
      done: (t) => `Tags of ${t.title}: ${t.tags.map((x) => `#${x}`).join(" ")}`,
    },
  };
  function ask(kind) {
    const row = current();
    const dialog = $("#set");
    if (!row || !dialog) return;
    const { heading, label, change, done } = asks[kind];
    const [form, input, error] = [$("form", dialog), $("#set-value"), $("#set-error")];
    $("#set-h").textContent = heading;
    $("#set-label").textContent = label;
    input.value = "";
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    form.onsubmit = async (e) => {
      if (e.submitter && e.submitter.value === "cancel") return;
      e.preventDefault();
      try {
        const path = `/api/v1/tasks/${taskId(row)}`;
        const task = await api("GET", path);
        const patch = await change(task, input.value.trim());
        const saved = await api("PATCH", path, patch, { "if-match": `"${task.version}"` });
        dialog.close();
        announce(done(saved));
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    };
    dialog.showModal();
    input.focus();
  }

  // ---- Shortcuts ------------------------------------------------------------
  const go = { i: "?view=inbox", t: "?view=today", u: "?view=upcoming", c: "?view=completed", n: "?view=nodate", a: "?view=all", m: "calendar" };
  let pendingG = false;
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    // A ticked box keeps the list's keys (Space ticks it).
    const typing = t.closest && t.closest("input:not([type=checkbox]), textarea, select, [contenteditable]");
    if (typing) {
      if (e.key === "Escape") t.blur();
      return;
    }
    if ($("dialog[open]")) return;
    if (pendingG) {
      pendingG = false;
      if (go[e.key]) { e.preventDefault(); location.assign(`/${go[e.key]}`); }
      return;
    }
    switch (e.key) {
      case "q": case "n": case "/": {
        const add = $("#add-text");
        if (add) { e.preventDefault(); add.focus(); }
        break;
      }
      case "f": { const q = $("#q"); if (q) { e.preventDefault(); q.focus(); } break; }
      case "j": e.preventDefault(); moveTo(current() ? cursor + 1 : 0); break;
      case "k": e.preventDefault(); moveTo(current() ? cursor - 1 : 0); break;
      case "x": e.preventDefault(); act("toggle"); break;
      case "s": { const pick = current() && $(".pick", current()); if (pick) { e.preventDefault(); pick.click(); } break; }
      case "Delete": e.preventDefault(); act("delete"); break;
      case "d": if (current()) { e.preventDefault(); ask("due"); } break;
      case "#": if (current()) { e.preventDefault(); ask("tags"); } break;
      case "e": { const row = current(); if (row) { e.preventDefault(); $(".title", row).click(); } break; }
      case "g": pendingG = true; break;
      case "?": { const d = $("#keys"); if (d) { e.preventDefault(); d.showModal(); } break; }
    }
  });
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-keys-open]")) $("#keys").showModal();
  });

  // After the list is redrawn, the cursor stays where it was (the row
  // that moved away is replaced by the next one) and a task just added
  // leaves an empty field for the next.
  let addedFromField = false;
  document.addEventListener("submit", (e) => {
    // A form that changes many tasks asks first.
    const ask = e.target.dataset.confirm;
    if (ask && !confirm(ask)) { e.preventDefault(); e.stopImmediatePropagation(); return; }
    addedFromField = e.target.id === "add";
  }, true);
  document.addEventListener("htmx:after:swap", () => {
    hideWaiting();
    showPicked();
    watchMore();
    // A redraw empties the suggestion list; what it offered is gone too.
    if (offer && $("#q-list") && $("#q-list").hidden) closeSuggestions();
    if (addedFromField && !$("#add-error")) {
      addedFromField = false;
      const add = $("#add-text");
      if (add) { add.value = ""; add.focus(); preview(); }
    } else if (cursor >= 0 && rows().length && !$("dialog[open]")) {
      restore();
    }
  });

  // ---- Quick add preview -----------------------------------------------------
  // As a line is typed, the server's parser (the one that will create the
  // task) says what it understood; each phrase shows as a chip, and a
  // click on one quotes it in the line, keeping those words in the title.
  let parsing = null;
  let asked = 0;
  function chip(span, chars) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `chip k-${span.kind}`;
    b.textContent = span.text;
    b.setAttribute("aria-label", `${span.kind} “${span.text}”: keep as words`);
    b.addEventListener("click", () => {
      const field = $("#add-text");
      field.value = [...chars.slice(0, span.start), "\"", ...chars.slice(span.start, span.end), "\"", ...chars.slice(span.end)].join("");
      field.focus();
      preview();
    });
    return b;
  }
  async function preview() {
    const field = $("#add-text");
    const out = $("#add-preview");
    if (!field || !out) return;
    const text = field.value;
    const ticket = ++asked;
    if (!text.trim()) { out.replaceChildren(); return; }
    let parsed;
    try {
      const res = await fetch("/api/v1/parse", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }),
      });
      if (!res.ok) return;
      parsed = await res.json();
    } catch (_) { return; }
    if (ticket !== asked) return; // a later line is being read
    const chars = [...text];
    const parts = parsed.spans.map((s) => chip(s, chars));
    if (parts.length) {
      const title = document.createElement("span");
      title.className = "parsed-title";
      title.textContent = parsed.title ? `→ “${parsed.title}”` : "→ no title left";
      parts.push(title);
    }
    out.replaceChildren(...parts);
  }
  document.addEventListener("input", (e) => {
    if (e.target.id !== "add-text") return;
    clearTimeout(parsing);
    parsing = setTimeout(preview, 120);
  });

  // ---- Filter suggestions --------------------------------------------------
  // As a filter is typed, the server (which knows the language) offers
  // filter names, then their values; arrows choose, Enter or Tab takes,
  // Escape closes. A name taken asks at once for its values.
  let offer = null;
  let chosen = -1;
  let suggestTimer = null;
  function closeSuggestions() {
    const list = $("#q-list");
    const field = $("#q");
    if (!list || !field) return;
    list.hidden = true;
    list.replaceChildren();
    field.setAttribute("aria-expanded", "false");
    field.removeAttribute("aria-activedescendant");
    offer = null;
    chosen = -1;
  }
  async function suggest() {
    const field = $("#q");
    const list = $("#q-list");
    if (!field || !list) return;
    const at = [...field.value.slice(0, field.selectionStart ?? field.value.length)].length;
    const asked = field.value;
    const res = await fetch(`/filter/suggest?q=${encodeURIComponent(asked)}&at=${at}`).catch(() => null);
    const got = res && res.ok && !res.redirected ? await res.json().catch(() => null) : null;
    if (!got || field.value !== asked) return;
    if (!got.items.length || document.activeElement !== field) { closeSuggestions(); return; }
    offer = got;
    chosen = -1;
    list.replaceChildren(...got.items.map((s, i) => {
      const li = document.createElement("li");
      li.id = `q-opt-${i}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      const code = document.createElement("code");
      code.textContent = s.text;
      li.append(code);
      if (s.hint) {
        const hint = document.createElement("span");
        hint.className = "hint";
        hint.textContent = ` ${s.hint}`;
        li.append(hint);
      }
      // Before the field loses focus.
      li.addEventListener("mousedown", (e) => { e.preventDefault(); take(i); });
      return li;
    }));
    list.hidden = false;
    field.setAttribute("aria-expanded", "true");
  }
  function choose(i) {
    const items = $$("#q-list [role=option]");
    if (!items.length) { closeSuggestions(); return; }
    chosen = (i + items.length) % items.length;
    items.forEach((li, n) => li.setAttribute("aria-selected", String(n === chosen)));
    $("#q").setAttribute("aria-activedescendant", items[chosen].id);
  }
  function take(i) {
    const field = $("#q");
    const chars = [...field.value];
    const text = offer.items[i].text;
    // The word ends at the caret, also when typed on since it was offered.
    const caret = [...field.value.slice(0, field.selectionStart ?? field.value.length)].length;
    const before = chars.slice(0, offer.from).join("");
    field.value = before + text + chars.slice(caret >= offer.from ? caret : offer.to).join("");
    field.setSelectionRange(before.length + text.length, before.length + text.length);
    closeSuggestions();
    if (/[:<>=]$/.test(text)) suggest();
  }
  document.addEventListener("input", (e) => {
    if (e.target.id !== "q") return;
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(suggest, 120);
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.id !== "q" || !offer) return;
    const n = offer.items.length;
    if (e.key === "ArrowDown") choose(chosen + 1);
    else if (e.key === "ArrowUp") choose(chosen < 0 ? n - 1 : chosen - 1);
    else if ((e.key === "Enter" || e.key === "Tab") && chosen >= 0) take(chosen);
    else if (e.key === "Escape") closeSuggestions();
    else return;
    e.preventDefault();
    e.stopImmediatePropagation();
  }, true);
  document.addEventListener("focusout", (e) => { if (e.target.id === "q") closeSuggestions(); });

  // ---- Endless list ----------------------------------------------------------
  // The next page's rows are fetched as its link nears the screen and added
  // below (a day's rows join that day's group); without JavaScript the link
  // is a link. A redraw asks for as many rows as are shown.
  let loadingMore = false;
  // Pages that failed once are left to their links.
  const gaveUp = new Set();
  async function more(link) {
    if (loadingMore || gaveUp.has(link.href)) return;
    loadingMore = true;
    try {
      const res = await fetch(link.href);
      const doc = res.ok && !res.redirected
        ? new DOMParser().parseFromString(await res.text(), "text/html") : null;
      // Signed out, or the server refused: the link stays a link.
      if (!doc || !$("form.rows", doc)) { gaveUp.add(link.href); return; }
      if (!link.isConnected) return;
      const into = $("form.rows");
      into.classList.add("grown");
      let heading = null;
      let added = 0;
      for (const el of $$("form.rows > h2, form.rows > ul", doc)) {
        if (el.tagName === "H2") { heading = el; continue; }
        const lists = $$(":scope > ul", into);
        const last = lists[lists.length - 1];
        const lastHeading = last && last.previousElementSibling;
        const sameGroup = last && (heading
          ? lastHeading && lastHeading.tagName === "H2" && lastHeading.textContent === heading.textContent
          : !$("h2", into));
        added += el.children.length;
        if (sameGroup) last.append(...el.children);
        else into.append(...(heading ? [heading, el] : [el]));
        heading = null;
      }
      const next = $("a[rel=next]", doc);
      if (next) link.replaceWith(document.adoptNode(next));
      else link.parentElement.remove();
      hideWaiting();
      announce(`${added} more tasks.`);
    } catch (_) {
      gaveUp.add(link.href);
    } finally {
      loadingMore = false;
      watchMore();
    }
  }
  const nearing = "IntersectionObserver" in window && new IntersectionObserver((seen) => {
    for (const s of seen) if (s.isIntersecting) more(s.target);
  }, { rootMargin: "1200px 0px" });
  function watchMore() {
    if (!nearing) return;
    nearing.disconnect();
    const link = $("main a[rel=next]");
    if (link && $("form.rows") && !gaveUp.has(link.href)) nearing.observe(link);
  }
  watchMore();
  // The address a redraw fetches: the list, with every row now shown.
  function shownList() {
    const n = $$(".task").length;
    const url = new URL(location.href);
    const list = $("form.rows");
    if (list && n > Number(list.dataset.pageSize)) url.searchParams.set("rows", String(n));
    return url.pathname + url.search;
  }

  // ---- Live updates ---------------------------------------------------------
  // Any change to this user's tasks, from any tab, device or client,
  // redraws the list in place (a morph keeps focus, scroll and typing).
  const changes = ["created", "updated", "completed", "reopened", "deleted"]
    .map((k) => `dueflow.task.${k}.v1`);
  // A redraw never lands over what the person did meanwhile (a form's
  // answer, another page) nor over an error they are correcting.
  let redraw = null;
  let lastOwnRequest = 0;
  // One redraw at a time: a change that arrives while one is on its way
  // asks for another once it is done (htmx would drop the second).
  let redrawing = false;
  let again = false;
  function refresh() {
    clearTimeout(redraw);
    redraw = setTimeout(() => {
      if (!$("main[data-here]") || !window.htmx) return;
      if (redrawing) { again = true; return; }
      redrawing = true;
      htmx.ajax("GET", shownList(), {
        target: "#main", select: "#main", swap: "outerMorph", push: "false",
        headers: { "X-Redraw": String(performance.now()) },
      }).then(() => announce("The list was updated."), () => {}).finally(() => {
        redrawing = false;
        if (again) { again = false; refresh(); }
      });
    }, 80);
  }
  document.addEventListener("htmx:before:request", (e) => {
    if (!e.detail.ctx.request.headers["X-Redraw"]) lastOwnRequest = performance.now();
  });
  document.addEventListener("htmx:before:swap", (e) => {
    const ctx = e.detail.ctx;
    const started = ctx.request.headers["X-Redraw"];
    // Nor over a selection being made.
    if (started && (lastOwnRequest > Number(started) || !ctx.target.isConnected || $("#add-error") || picked().length)) {
      e.preventDefault();
    }
  });

  function reminded(e) {
    // The user turned the in-app channel off: no toast, no badge.
    if (!$("[data-toasts]")) return;
    let title = "a task";
    try { title = JSON.parse(e.data).data.task.title || title; } catch (_) { /* keep the default */ }
    toast(`Reminder: ${title}`);
    const bell = $(".bell");
    if (bell) {
      let badge = $("#unread");
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "badge";
        badge.id = "unread";
        badge.innerHTML = '0<span class="sr-only"> unread</span>';
        bell.append(" ", badge);
      }
      const n = parseInt(badge.firstChild.textContent, 10);
      if (!Number.isNaN(n)) badge.firstChild.textContent = n >= 99 ? "99+" : String(n + 1);
    }
    if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
      new Notification("dueflow", { body: title, icon: $("link[rel=icon]").href });
    }
  }
  const live = document.body.dataset.live;
  if (live && "EventSource" in window) {
    // The browser resumes after a dropped connection with Last-Event-ID,
    // so nothing in between is missed.
    const source = new EventSource(live);
    for (const kind of changes) source.addEventListener(kind, refresh);
    source.addEventListener("dueflow.stream.reset", refresh);
    source.addEventListener("dueflow.reminder.due.v1", reminded);
    document.body.dataset.liveState = "connecting";
    source.onopen = () => { document.body.dataset.liveState = "open"; };
    source.onerror = () => { document.body.dataset.liveState = "retrying"; };
  }
})();
