"""The in-page panel lives in a *closed* shadow root: neither the page's JavaScript nor Playwright's locators reach it.

The tests reach it the way DevTools does, over the Chrome DevTools Protocol:
``DOM.getDocument`` with ``pierce`` lists closed shadow roots too, and
``Runtime.callFunctionOn`` reads inside one. Clicks are real mouse clicks at an
element's place on screen (``page.mouse``), so they are trusted events, as a
person's are; :meth:`Panel.synthetic_click` dispatches the untrusted kind a page
script would.
"""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page

HOST_ID = "tasklink-extension-root"
TIMEOUT = 20.0  # seconds; the machines running the suite share their CPUs

# Finds the visible element of a role and accessible name inside the root (`this`),
# enough of ARIA for this panel: buttons, selects, text fields, radios, alerts, statuses.
_FIND = r"""
function find(root, role, name) {
  const visible = (e) => Boolean(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const nameOf = (e) => (e.getAttribute("aria-label") || (e.labels && e.labels[0] && e.labels[0].textContent) || e.textContent || "").trim();
  const is = {
    button: (e) => e.tagName === "BUTTON",
    combobox: (e) => e.tagName === "SELECT",
    textbox: (e) => e.tagName === "TEXTAREA" || (e.tagName === "INPUT" && ["text", "url"].includes(e.type)),
    radio: (e) => e.tagName === "INPUT" && e.type === "radio",
    alert: (e) => e.getAttribute("role") === "alert",
    status: (e) => e.getAttribute("role") === "status",
    region: (e) => e.getAttribute("role") === "region",
    img: (e) => e.getAttribute("role") === "img",
  }[role];
  return [...root.querySelectorAll("*")].find((e) => is(e) && (name === null || nameOf(e) === name) && visible(e)
    && (e.type !== "radio" || visible(e.labels[0]))) || null;
}
"""


class Panel:
    """The Tasklink panel of one page, read and clicked from outside its closed shadow root."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self._root: str | None = None

    # --- reaching the root ------------------------------------------------------

    def shadow_root_type(self) -> str:
        return self._host()["shadowRoots"][0]["shadowRootType"]

    def _host(self) -> dict[str, Any]:
        document = self.cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})
        stack = [document["root"]]
        while stack:
            node = stack.pop()
            attributes = node.get("attributes", [])
            if "id" in attributes[::2] and attributes[attributes.index("id") + 1] == HOST_ID:
                return node
            stack.extend(node.get("children", []))
            stack.extend(node.get("shadowRoots", []))
            if "contentDocument" in node:
                stack.append(node["contentDocument"])
        raise LookupError("no Tasklink host element on the page")

    def root(self) -> str:
        if self._root is None:
            deadline = time.monotonic() + TIMEOUT
            while True:
                try:
                    shadow = self._host()["shadowRoots"][0]
                    break
                except (LookupError, IndexError, KeyError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            resolved = self.cdp.send("DOM.resolveNode", {"backendNodeId": shadow["backendNodeId"]})
            self._root = resolved["object"]["objectId"]
        return self._root

    def call(self, body: str, *args: Any) -> Any:
        """Run ``function (...args) { body }`` with ``this`` the shadow root (and ``find`` at hand); its value."""
        answer = self.cdp.send(
            "Runtime.callFunctionOn",
            {
                "objectId": self.root(),
                "functionDeclaration": f"function (...args) {{ {_FIND}\n{body} }}",
                "arguments": [{"value": arg} for arg in args],
                "returnByValue": True,
                "awaitPromise": True,
            },
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(answer["exceptionDetails"])
        return answer["result"].get("value")

    def wait(self, predicate: str, *args: Any, what: str = "", timeout: float = TIMEOUT) -> Any:
        """Poll a function body until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.call(predicate, *args)
            if last:
                return last
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what or predicate} (last: {last!r}); panel says: {self.text()!r}")

    # --- reading ------------------------------------------------------------------

    def text(self) -> str:
        """The visible text of the panel (or the button, when closed)."""
        return self.call("return [...this.children].map((e) => e.innerText || '').join('\\n');") or ""

    def has(self, role: str, name: str | None = None) -> bool:
        return bool(self.call("return find(this, args[0], args[1]) !== null;", role, name))

    def wait_for(self, role: str, name: str | None = None, timeout: float = TIMEOUT) -> None:
        self.wait("return find(this, args[0], args[1]) !== null;", role, name, what=f"{role} {name!r}", timeout=timeout)

    def wait_text(self, text: str, timeout: float = TIMEOUT) -> None:
        self.wait(
            "return [...this.children].some((e) => (e.innerText || '').includes(args[0]));",
            text,
            what=f"text {text!r}",
            timeout=timeout,
        )

    def value(self, role: str, name: str | None = None) -> str:
        return self.call("const e = find(this, args[0], args[1]); return e && e.value;", role, name)

    def wait_value(self, role: str, name: str | None, pattern: re.Pattern[str], timeout: float = TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.value(role, name)
            if value and pattern.search(value):
                return value
            time.sleep(0.1)
        raise AssertionError(f"{role} {name!r} is {value!r}, not {pattern.pattern}; panel says: {self.text()!r}")

    def role_text(self, role: str, name: str | None = None) -> str:
        return self.call("const e = find(this, args[0], args[1]); return e ? e.innerText : null;", role, name) or ""

    def wait_role_text(self, role: str, text: str, timeout: float = TIMEOUT) -> str:
        self.wait(
            "const e = find(this, args[0], null); return Boolean(e && e.innerText.includes(args[1]));",
            role,
            text,
            what=f"{role} saying {text!r}",
            timeout=timeout,
        )
        return self.role_text(role)

    def is_disabled(self, role: str, name: str | None = None) -> bool:
        return bool(self.call("return find(this, args[0], args[1]).disabled;", role, name))

    def is_checked(self, name: str) -> bool:
        return bool(self.call("return find(this, 'radio', args[0]).checked;", name))

    def style(self, role: str, name: str | None, prop: str) -> str:
        return self.call(
            "return getComputedStyle(find(this, args[0], args[1])).getPropertyValue(args[2]);", role, name, prop
        )

    def box(self, selector: str) -> dict[str, float]:
        return self.call(
            "const r = this.querySelector(args[0]).getBoundingClientRect(); "
            "return {x: r.x, y: r.y, width: r.width, height: r.height};",
            selector,
        )

    # --- acting -------------------------------------------------------------------

    def click(self, role: str, name: str | None = None) -> None:
        """A person's click: the real mouse at the element's centre (a radio: its label)."""
        self.wait_for(role, name)
        point = self.call(
            "let e = find(this, args[0], args[1]); if (e.type === 'radio') e = e.labels[0];"
            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            "return [r.x + r.width / 2, r.y + r.height / 2];",
            role,
            name,
        )
        self.page.mouse.click(point[0], point[1])

    def synthetic_click(self, role: str, name: str | None = None) -> None:
        """What a page script holding the element could do: ``element.click()``, an untrusted event."""
        self.call("find(this, args[0], args[1]).click();", role, name)

    def select(self, name: str, label: str) -> None:
        """Pick an option by its text (as Playwright's select_option does: set the value, fire change)."""
        self.wait_for("combobox", name)
        found = self.call(
            "const s = find(this, 'combobox', args[0]); const o = [...s.options].find((o) => o.text === args[1]);"
            "if (!o) return [...s.options].map((o) => o.text); s.value = o.value;"
            "s.dispatchEvent(new Event('input', {bubbles: true})); s.dispatchEvent(new Event('change', {bubbles: true})); return true;",
            name,
            label,
        )
        assert found is True, f"{label!r} is not among {found!r}"

    def fill(self, name: str, text: str) -> None:
        """Type into a text field: focus it by a click, select all, type (trusted key events)."""
        self.click("textbox", name)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)
