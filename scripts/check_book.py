"""Open the built book in headless Chromium and check what a reader would see.

For every page in the table of contents it asserts that:

- the page loads with no console errors, no failed requests and no request leaving 127.0.0.1
  (the book must work offline);
- MathJax rendered every formula (each ``.math`` element holds a rendered ``mjx-container``,
  and no raw ``$$``, ``\\(`` or ``\\[`` is left in the text outside code);
- every ``<img>`` loaded (``naturalWidth > 0``) and has alt text;
- every internal link resolves, anchors included;
- every notebook page has a Colab launch button.

It also checks that dark mode switches the page to a dark background, saves a screenshot of the
introduction, prints one summary line, and exits non-zero on any failure. Usage::

    python scripts/check_book.py _build/html --screenshot _build/intro.png
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import pathlib
import shutil
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import yaml

# Flags a root, sandbox-less, network-less machine needs; background networking is off so that
# Chromium does not try (and fail) to reach its own services.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
MATHJAX_TIMEOUT_MS = 20_000
RAW_MATH_MARKERS = ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{")

# Each entry: a substring of a console message that is expected, and why.
ALLOWED_CONSOLE_MESSAGES: dict[str, str] = {}


@dataclass
class Page:
    """A page of the book: its path relative to the HTML root, and whether it is a notebook."""

    path: str
    is_notebook: bool


@dataclass
class Report:
    """What the check found."""

    pages: int = 0
    formulas: int = 0
    images: int = 0
    links: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, page: str, message: str) -> None:
        self.failures.append(f"{page}: {message}")

    def summary(self) -> str:
        status = "OK" if not self.failures else f"FAILED ({len(self.failures)} problems)"
        return (
            f"browser check: {self.pages} pages, {self.formulas} formulas, {self.images} images, "
            f"{self.links} internal links: {status}"
        )


def pages_from_toc(book_root: pathlib.Path) -> list[Page]:
    """List the pages of ``_toc.yml`` (jb-book format), in order."""
    toc = yaml.safe_load((book_root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [
        Page(f"{name}.html", (book_root / f"{name}.ipynb").exists()) for name in files
    ]


@contextmanager
def serve(root: pathlib.Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on 127.0.0.1 (a free port) and yield the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _IdCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def _fetch_ids(url: str) -> tuple[int, frozenset[str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, frozenset()
    except urllib.error.URLError:
        return 0, frozenset()
    collector = _IdCollector()
    if url.endswith((".html", "/")):
        collector.feed(body.decode("utf-8", errors="replace"))
    return status, frozenset(collector.ids)


def check_links(base: str, links: set[str], report: Report) -> None:
    """Every same-origin link must answer 200, and its #fragment must exist on the target page."""
    for link in sorted(links):
        target, _, fragment = link.partition("#")
        status, ids = _fetch_ids(target)
        report.links += 1
        where = link.removeprefix(base)
        if status != 200:
            report.fail("links", f"broken internal link {where} (HTTP {status})")
        elif fragment and urllib.parse.unquote(fragment) not in ids:
            report.fail("links", f"broken anchor {where} (no element with that id)")


PAGE_PROBE = """
async (timeout) => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    await Promise.race([mj.startup.promise, new Promise(r => setTimeout(r, timeout))]);
    if (mj.typesetPromise) { try { await mj.typesetPromise(); } catch (e) {} }
  }
  const math = Array.from(document.querySelectorAll('.math'));
  const unrendered = math.filter(el => !el.querySelector('mjx-container'))
                         .map(el => el.textContent.trim().slice(0, 60));
  const clone = document.querySelector('main, body').cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, .math, mjx-container')
       .forEach(el => el.remove());
  const images = Array.from(document.images).map(img => ({
    src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0,
    alt: (img.getAttribute('alt') || '').trim()}));
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
  return {mathjax: Boolean(mj), formulas: math.length, unrendered,
          text: clone.textContent, images, links};
}
"""

DARK_PROBE = """
() => {
  const bg = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
  return {theme: document.documentElement.dataset.theme, luminance: (bg[0] + bg[1] + bg[2]) / 3};
}
"""


def check_page(page, base: str, entry: Page, report: Report, links: set[str]) -> None:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(
        f"console {m.type}: {m.text} (at {m.location.get('url', '?')})")
        if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: messages.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: messages.append(f"request failed: {r.url}"))
    page.on("response", lambda r: messages.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:"))
            else messages.append(f"request leaves the book: {r.url}"))

    response = page.goto(base + entry.path, wait_until="load")
    if response is None or response.status != 200:
        report.fail(entry.path, f"page did not load (HTTP {response.status if response else '?'})")
        return
    found = page.evaluate(PAGE_PROBE, MATHJAX_TIMEOUT_MS)
    report.pages += 1
    report.formulas += found["formulas"]
    report.images += len(found["images"])

    for message in messages:
        if not any(allowed in message for allowed in ALLOWED_CONSOLE_MESSAGES):
            report.fail(entry.path, message)
    if found["formulas"] and not found["mathjax"]:
        report.fail(entry.path, "MathJax is not loaded, so formulas stay raw")
    for formula in found["unrendered"]:
        report.fail(entry.path, f"formula not rendered by MathJax: {formula!r}")
    for marker in RAW_MATH_MARKERS:
        position = found["text"].find(marker)
        if position >= 0:
            context = " ".join(found["text"][max(0, position - 30): position + 30].split())
            report.fail(entry.path, f"raw math {marker!r} left in the text: ...{context}...")
    for image in found["images"]:
        if not image["loaded"]:
            report.fail(entry.path, f"image did not load: {image['src']}")
        if not image["alt"]:
            report.fail(entry.path, f"image without alt text: {image['src']}")
    if entry.is_notebook and not any("colab.research.google.com" in h for h in found["links"]):
        report.fail(entry.path, "notebook page has no Colab launch button")
    links.update(h.split("?")[0] for h in found["links"] if h.startswith(base))


def check_dark_mode(context, base: str, entry: Page, report: Report) -> None:
    """Switching to dark mode (as the theme button does) must darken the page."""
    page = context.new_page()
    page.goto(base + entry.path, wait_until="load")
    page.evaluate("() => localStorage.setItem('mode', 'dark')")
    page.reload(wait_until="load")
    state = page.evaluate(DARK_PROBE)
    if state["theme"] != "dark" or state["luminance"] > 100:
        report.fail(entry.path, f"dark mode does not work: {state}")
    page.close()


def check_site(root: pathlib.Path, pages: list[Page], *, screenshot: pathlib.Path | None = None,
               dark_mode: bool = True) -> Report:
    """Run every check on the built site under ``root``; return the report."""
    from playwright.sync_api import sync_playwright

    report = Report()
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        report.fail("setup", "no chromium executable on PATH (install Debian's chromium package)")
        return report
    links: set[str] = set()
    with serve(root) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        for entry in pages:
            page = context.new_page()
            check_page(page, base, entry, report, links)
            if screenshot is not None and entry is pages[0]:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=False)
            page.close()
        if dark_mode and pages:
            check_dark_mode(context, base, pages[0], report)
        browser.close()
        check_links(base, links, report)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description="Check the built book in headless Chromium.")
    parser.add_argument("html", type=pathlib.Path, help="the built HTML folder, e.g. _build/html")
    parser.add_argument("--book", type=pathlib.Path, default=pathlib.Path("."),
                        help="the book's source root, holding _toc.yml")
    parser.add_argument("--screenshot", type=pathlib.Path, default=None)
    args = parser.parse_args()
    report = check_site(args.html, pages_from_toc(args.book), screenshot=args.screenshot)
    for failure in report.failures:
        print("  " + failure)
    print(report.summary())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
