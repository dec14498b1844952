"""The browser check of the built book must catch what it claims to catch.

Runs ``scripts/check_book.py`` against tiny hand-written sites in headless Chromium.
"""

import importlib.util
import pathlib
import shutil
import sys

import pytest

pytest.importorskip("playwright", reason="playwright is a test dependency (pip install -e '.[test]')")
if shutil.which("chromium") is None:
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

_SCRIPT = pathlib.Path(__file__).parents[1] / "scripts" / "check_book.py"
_spec = importlib.util.spec_from_file_location("check_book", _SCRIPT)
check_book = importlib.util.module_from_spec(_spec)
sys.modules["check_book"] = check_book  # dataclasses look their module up while the class is built
_spec.loader.exec_module(check_book)

GOOD = """<html><head><link rel="icon" href="data:,"></head><body><main><h1 id="top">Fine</h1>
<p>A link to <a href="good.html#top">this page</a>.</p>
<a href="https://colab.research.google.com/github/x/y/blob/main/good.ipynb">Colab</a>
</main></body></html>"""


def write_site(root: pathlib.Path, pages: dict[str, str]) -> None:
    for name, body in pages.items():
        (root / name).write_text(body)


def run(root, *pages):
    return check_book.check_site(root, list(pages), dark_mode=False)


def test_a_good_page_passes(tmp_path):
    write_site(tmp_path, {"good.html": GOOD})
    report = run(tmp_path, check_book.Page("good.html", is_notebook=True))
    assert report.failures == []
    assert report.pages == 1 and report.links >= 1


def test_broken_link_and_anchor_fail(tmp_path):
    write_site(tmp_path, {
        "good.html": GOOD,
        "bad.html": '<html><body><a href="missing.html">x</a> <a href="good.html#nowhere">y</a></body></html>',
    })
    report = run(tmp_path, check_book.Page("bad.html", is_notebook=False))
    text = "\n".join(report.failures)
    assert "broken internal link missing.html (HTTP 404)" in text
    assert "broken anchor good.html#nowhere" in text


def test_raw_and_unrendered_math_fail(tmp_path):
    write_site(tmp_path, {
        "math.html": '<html><body><p>Energy $$E = mc^2$$ and '
                     '<span class="math">\\(a^2 + b^2\\)</span></p></body></html>',
    })
    report = run(tmp_path, check_book.Page("math.html", is_notebook=False))
    text = "\n".join(report.failures)
    assert "raw math '$$' left in the text" in text
    assert "MathJax is not loaded" in text
    assert "formula not rendered by MathJax" in text


def test_images_and_colab_button_and_console_errors_fail(tmp_path):
    write_site(tmp_path, {
        "nb.html": '<html><body><img src="nothing.png" alt="">'
                   '<script>console.error("boom")</script></body></html>',
    })
    report = run(tmp_path, check_book.Page("nb.html", is_notebook=True))
    text = "\n".join(report.failures)
    assert "image did not load: nothing.png" in text
    assert "image without alt text: nothing.png" in text
    assert "notebook page has no Colab launch button" in text
    assert "console error: boom" in text
    assert "HTTP 404" in text


def test_pages_come_from_the_toc():
    root = pathlib.Path(__file__).parents[1]
    pages = check_book.pages_from_toc(root)
    assert pages[0].path == "book/intro.html"
    assert check_book.Page("book/setup.html", is_notebook=True) in pages
