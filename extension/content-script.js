// Tasklink content script: on a campaign page only, a "Create link" button and
// the task-details panel. Thin on purpose: it asks the service worker whether
// this page is a campaign page (the worker matches locally and asks the
// server nothing for other pages), and every API call goes through the worker.
//
// The UI lives in an open shadow root on a host element styled `all: initial`,
// built with createElement/textContent only: the page's styles and scripts
// cannot restyle it, and no data is ever parsed as HTML.
(() => {
  "use strict";

  if (window.top !== window || document.getElementById("tasklink-extension-root")) return;

  // Keep in step with lib/messages.js (tests/dispatch.test.mjs checks it).
  const MSG = Object.freeze({
    PAGE_MATCH: "page:match",
    CAMPAIGN_TASKS: "campaign:tasks",
    LINK_CREATE: "link:create",
    OPTIONS_OPEN: "options:open",
  });

  const STYLE = `
    :host { all: initial; }
    * { box-sizing: border-box; }
    .wrap { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2330; }
    .launcher { display: inline-flex; align-items: center; gap: 8px; padding: 10px 16px 10px 12px; border: 0;
      border-radius: 999px; background: #4338ca; color: #fff; font: 600 14px/1 system-ui, sans-serif; cursor: pointer;
      box-shadow: 0 6px 20px rgba(30, 27, 75, .35); }
    .launcher:hover { background: #3730a3; }
    .launcher:focus-visible, button:focus-visible, select:focus-visible, input:focus-visible { outline: 3px solid #a5b4fc; outline-offset: 2px; }
    .mark { width: 22px; height: 22px; padding: 2px; border-radius: 6px; background: #fff; color: #4338ca; flex: none; }
    .panel { width: 360px; max-height: calc(100vh - 32px); overflow: auto; background: #fff; border-radius: 14px;
      box-shadow: 0 18px 50px rgba(15, 23, 42, .28), 0 0 0 1px rgba(15, 23, 42, .08); }
    .head { display: flex; align-items: center; gap: 10px; padding: 12px 14px; background: #4338ca; color: #fff;
      border-radius: 14px 14px 0 0; }
    .head .mark { width: 26px; height: 26px; }
    .head h2 { margin: 0; font: 700 15px/1.2 system-ui, sans-serif; flex: 1; }
    .close { background: transparent; border: 0; color: #fff; font: 400 22px/1 system-ui, sans-serif; cursor: pointer;
      padding: 2px 6px; border-radius: 6px; }
    .close:hover { background: rgba(255,255,255,.15); }
    .body { padding: 14px; display: grid; gap: 12px; }
    .first { padding-bottom: 0; }
    .last { padding-top: 0; }
    .field { display: grid; gap: 4px; }
    .label { font-size: 12px; font-weight: 600; color: #5b6275; text-transform: uppercase; letter-spacing: .04em; }
    .value { font-weight: 600; }
    .url { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; color: #3d4354; word-break: break-all;
      background: #f4f5fa; border-radius: 8px; padding: 6px 8px; }
    select, input[type=text] { width: 100%; font: 14px system-ui, sans-serif; padding: 7px 8px; border: 1px solid #c9cdd9;
      border-radius: 8px; background: #fff; color: #1f2330; }
    .seg { display: inline-flex; border: 1px solid #c9cdd9; border-radius: 999px; padding: 2px; width: max-content; }
    .seg label { padding: 5px 14px; border-radius: 999px; cursor: pointer; font-weight: 600; color: #4b5163; }
    .seg input { position: absolute; opacity: 0; width: 1px; height: 1px; }
    .seg label:has(input:checked) { background: #4338ca; color: #fff; }
    .seg label:has(input:focus-visible) { outline: 3px solid #a5b4fc; }
    .primary { border: 0; border-radius: 8px; background: #4338ca; color: #fff; font: 600 14px system-ui, sans-serif;
      padding: 9px 14px; cursor: pointer; }
    .primary:hover { background: #3730a3; }
    .primary:disabled { background: #a5a9c4; cursor: default; }
    .secondary { border: 1px solid #c9cdd9; border-radius: 8px; background: #fff; color: #1f2330;
      font: 600 13px system-ui, sans-serif; padding: 7px 12px; cursor: pointer; }
    .result { display: grid; gap: 6px; padding: 10px; border-radius: 10px; background: #eef2ff; }
    .row { display: flex; gap: 6px; }
    .row input { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
    .ok { color: #166534; font-size: 13px; font-weight: 600; }
    .note { color: #5b6275; font-size: 12px; }
    .error { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; border-radius: 10px; padding: 10px;
      display: grid; gap: 8px; }
    [hidden] { display: none !important; }
  `;

  /** Ask the service worker; a reloaded extension or a dead worker becomes a sentence too. */
  async function ask(type, payload = {}) {
    try {
      const answer = await chrome.runtime.sendMessage({ type, ...payload });
      return answer || { ok: false, error: { kind: "internal", message: "Tasklink did not answer. Reload the page and try again." } };
    } catch {
      return { ok: false, error: { kind: "internal", message: "Tasklink was updated or restarted. Reload this page to use it again." } };
    }
  }

  /** createElement with properties, attributes and children; text only through textContent. */
  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key in node && typeof value !== "string") node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  /** The Tasklink mark (the icon's chain link), drawn as SVG without any markup string. */
  function mark() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "mark");
    const group = document.createElementNS(ns, "g");
    group.setAttribute("transform", "rotate(-45 12 12)");
    for (const x of [3.5, 11.5]) {
      const rect = document.createElementNS(ns, "rect");
      for (const [name, value] of [["x", x], ["y", 9], ["width", 9], ["height", 6], ["rx", 3], ["fill", "none"], ["stroke", "currentColor"], ["stroke-width", 2]]) {
        rect.setAttribute(name, String(value));
      }
      group.append(rect);
    }
    svg.append(group);
    return svg;
  }

  function mountHost() {
    const host = document.createElement("div");
    host.id = "tasklink-extension-root";
    for (const [name, value] of [
      ["all", "initial"], ["position", "fixed"], ["right", "16px"], ["bottom", "16px"],
      ["z-index", "2147483647"], ["display", "block"],
    ]) host.style.setProperty(name, value, "important");
    const shadow = host.attachShadow({ mode: "open" });
    shadow.append(el("style", { text: STYLE }));
    (document.body || document.documentElement).append(host);
    return shadow;
  }

  function samePage(a, b) {
    try {
      const x = new URL(a);
      const y = new URL(b);
      return x.origin === y.origin && x.pathname.replace(/\/$/, "") === y.pathname.replace(/\/$/, "");
    } catch {
      return false;
    }
  }

  function start(matches, landingUrl) {
    const shadow = mountHost();
    const wrap = el("div", { class: "wrap" });
    shadow.append(wrap);

    const launcher = el("button", { class: "launcher", type: "button", title: "Tasklink: create a tracking link for this page" }, [
      mark(),
      el("span", { text: "Create link" }),
    ]);
    const panel = el("section", { class: "panel", hidden: true, "aria-label": "Tasklink: create link" });
    wrap.append(launcher, panel);

    const state = { campaign: matches[0], tasks: [], task: null, loadedFor: null, busy: false, landingUrl, matchedHref: location.href };

    /** "This page" now: a single-page site may have changed its address without a reload. */
    async function currentLandingUrl() {
      if (location.href !== state.matchedHref) {
        const href = location.href;
        const answer = await ask(MSG.PAGE_MATCH, { url: href });
        // Rules match by host, which such a change cannot alter; the worker cleans the URL.
        if (answer.ok && answer.data.landingUrl) {
          state.landingUrl = answer.data.landingUrl;
          state.matchedHref = href;
        }
      }
      return state.landingUrl;
    }

    const closeButton = el("button", { class: "close", type: "button", "aria-label": "Close Tasklink", text: "×" });
    const campaignField = el("div", { class: "field" });
    const taskField = el("div", { class: "field" });
    const landingField = el("div", { class: "field" });
    const shortRadio = el("input", { type: "radio", name: "kind", value: "short", checked: true });
    const regularRadio = el("input", { type: "radio", name: "kind", value: "regular" });
    const preference = el("div", { class: "field", role: "group", "aria-label": "Link preference" }, [
      el("span", { class: "label", text: "Link preference" }),
      el("div", { class: "seg" }, [el("label", {}, [shortRadio, "Short"]), el("label", {}, [regularRadio, "Regular"])]),
    ]);
    const createButton = el("button", { class: "primary", type: "button", text: "Create link" });
    const linkInput = el("input", { type: "text", readOnly: true, "aria-label": "Your link" });
    const copyButton = el("button", { class: "secondary", type: "button", text: "Copy" });
    const copied = el("div", { class: "ok", role: "status" });
    const result = el("div", { class: "result", hidden: true }, [
      el("span", { class: "label", text: "Your link" }),
      el("div", { class: "row" }, [linkInput, copyButton]),
      copied,
    ]);
    const errorText = el("span");
    const optionsButton = el("button", { class: "secondary", type: "button", text: "Open Tasklink options", hidden: true });
    const errorBox = el("div", { class: "error", role: "alert", hidden: true }, [errorText, optionsButton]);
    const form = el("div", { class: "body" }, [campaignField, taskField, landingField, preference, createButton]);

    panel.append(
      el("div", { class: "head" }, [mark(), el("h2", { text: "Create link" }), closeButton]),
      el("div", { class: "body first" }, [errorBox]),
      form,
      el("div", { class: "body last" }, [result]),
    );
    // Empty wrappers take no room.
    errorBox.parentElement.hidden = true;
    result.parentElement.hidden = true;

    function showError(error) {
      errorText.textContent = (error && error.message) || "Something went wrong. Please try again.";
      optionsButton.hidden = !(error && (error.kind === "signed_out" || error.kind === "api_down"));
      errorBox.hidden = false;
      errorBox.parentElement.hidden = false;
    }

    function clearError() {
      errorBox.hidden = true;
      errorBox.parentElement.hidden = true;
    }

    function showResult(link) {
      linkInput.value = link.url;
      copied.textContent = "";
      result.hidden = false;
      result.parentElement.hidden = false;
    }

    function clearResult() {
      result.hidden = true;
      result.parentElement.hidden = true;
      linkInput.value = "";
    }

    function renderCampaign() {
      campaignField.replaceChildren(el("span", { class: "label", text: "Campaign" }));
      if (matches.length === 1) {
        campaignField.append(el("span", { class: "value", text: state.campaign.campaignName }));
        return;
      }
      const select = el("select", { "aria-label": "Campaign" });
      for (const match of matches) {
        select.append(el("option", { value: String(match.campaignId), text: match.campaignName, selected: match === state.campaign }));
      }
      select.addEventListener("change", () => {
        state.campaign = matches.find((m) => String(m.campaignId) === select.value) || matches[0];
        loadTasks();
      });
      campaignField.append(select);
    }

    function renderTasks() {
      taskField.replaceChildren(el("span", { class: "label", text: "Task" }));
      const select = el("select", { "aria-label": "Task" });
      for (const task of state.tasks) {
        select.append(el("option", { value: String(task.id), text: task.title, selected: task === state.task }));
      }
      select.addEventListener("change", () => {
        state.task = state.tasks.find((t) => String(t.id) === select.value) || state.tasks[0];
        clearResult();
        renderLanding();
      });
      taskField.append(select);
    }

    // The landing page by the campaign's mode; returns what LINK_CREATE needs.
    let landingChoice = () => ({});

    function pageSelect(pages, selectedId) {
      const select = el("select", { "aria-label": "Landing page" });
      for (const page of pages) {
        select.append(el("option", { value: String(page.id), text: page.name, selected: page.id === selectedId }));
      }
      const shown = el("div", { class: "url" });
      const sync = () => { shown.textContent = (pages.find((p) => String(p.id) === select.value) || {}).url || ""; };
      select.addEventListener("change", () => { sync(); clearResult(); });
      sync();
      return { select, shown };
    }

    function renderLanding() {
      const options = state.task.link_options;
      landingField.replaceChildren(el("span", { class: "label", text: "Landing page" }));
      createButton.disabled = !options.link_available;
      if (!options.link_available) {
        showError({ kind: "link_unavailable", message: options.reason || "Links cannot be made for this task." });
      } else {
        clearError();
      }
      const pages = options.landing_pages || [];
      if (options.mode === "manual" && state.campaign.pageAllowed) {
        const shown = el("div", { class: "url", text: state.landingUrl });
        landingField.append(el("span", { class: "value", text: "This page" }), shown);
        landingChoice = async () => {
          const url = await currentLandingUrl();
          shown.textContent = url;
          return { landingUrl: url };
        };
      } else if (options.mode === "manual" || options.mode === "choose") {
        if (options.mode === "manual") {
          landingField.append(el("div", { class: "note", text: `This page is not on a domain the campaign allows (${(state.campaign.allowedDomains || []).join(", ") || "none"}), so it cannot be the landing page. Pick one of the advertiser's pages.` }));
        }
        const here = pages.find((page) => samePage(page.url, state.landingUrl));
        const { select, shown } = pageSelect(pages, here ? here.id : options.default_landing_page_id);
        landingField.append(select, shown);
        landingChoice = () => ({ landingPageId: Number(select.value) });
      } else {
        const page = pages.find((p) => p.id === options.default_landing_page_id);
        landingField.append(
          el("span", { class: "value", text: page ? page.name : "The campaign's default page" }),
          el("div", { class: "url", text: page ? page.url : "" }),
        );
        landingChoice = () => ({});
      }
    }

    async function loadTasks() {
      clearError();
      clearResult();
      form.hidden = false;
      taskField.replaceChildren(el("span", { class: "label", text: "Task" }), el("span", { class: "note", text: "Loading tasks…" }));
      landingField.replaceChildren();
      createButton.disabled = true;
      const requested = state.campaign.campaignId;
      const answer = await ask(MSG.CAMPAIGN_TASKS, { campaignId: requested });
      // The partner picked another campaign meanwhile: that newer request renders, not this one.
      if (state.campaign.campaignId !== requested) return false;
      if (!answer.ok) {
        taskField.replaceChildren();
        form.hidden = true;
        showError(answer.error);
        return false;
      }
      state.tasks = answer.data.tasks || [];
      state.loadedFor = state.campaign.campaignId;
      if (!state.tasks.length) {
        taskField.replaceChildren();
        showError({ kind: "no_tasks", message: "This campaign has no task open to you yet, so no link can be made here." });
        return false;
      }
      state.task = state.tasks.find((task) => task.assigned_to_me) || state.tasks[0];
      renderTasks();
      renderLanding();
      return true;
    }

    async function createLink() {
      if (state.busy || !state.task) return;
      state.busy = true;
      createButton.disabled = true;
      createButton.textContent = "Creating…";
      clearError();
      clearResult();
      const answer = await ask(MSG.LINK_CREATE, {
        taskId: state.task.id,
        kind: regularRadio.checked ? "regular" : "short",
        ...(await landingChoice()),
      });
      state.busy = false;
      createButton.disabled = false;
      createButton.textContent = "Create link";
      if (answer.ok) showResult(answer.data);
      else showError(answer.error);
    }

    async function copyLink() {
      const text = linkInput.value;
      let done = false;
      try {
        await navigator.clipboard.writeText(text);
        done = true;
      } catch {
        // Not a secure context, or the page refused: copy from the field (clipboardWrite permits it).
        linkInput.focus();
        linkInput.select();
        done = document.execCommand("copy");
      }
      copied.textContent = done ? "Copied to clipboard." : "Could not copy: select the link and press Ctrl+C.";
    }

    async function open() {
      launcher.hidden = true;
      panel.hidden = false;
      if (state.loadedFor === state.campaign.campaignId) return;
      renderCampaign();
      const ready = await loadTasks();
      // Default mode: the page is fixed, so the link is made at once.
      if (ready && state.task.link_options.mode === "default" && state.task.link_options.link_available) {
        await createLink();
      }
    }

    function close() {
      panel.hidden = true;
      launcher.hidden = false;
      launcher.focus();
    }

    launcher.addEventListener("click", open);
    closeButton.addEventListener("click", close);
    panel.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
    createButton.addEventListener("click", createLink);
    copyButton.addEventListener("click", copyLink);
    shortRadio.addEventListener("change", clearResult);
    regularRadio.addEventListener("change", clearResult);
    optionsButton.addEventListener("click", () => ask(MSG.OPTIONS_OPEN));
  }

  ask(MSG.PAGE_MATCH, { url: location.href }).then((answer) => {
    if (answer.ok && answer.data.campaigns.length) start(answer.data.campaigns, answer.data.landingUrl);
  });
})();
