"""The FAQ (book/faq/) answers every question of its issue, with evidence from the chapters.

Checked without building the book: every question is a heading, every answer links to a chapter
that exists and is in the table of contents, and every number glued from another page names a
key that the referenced notebook really recorded (so a renamed glue key fails here, not only in
the ``-W`` book build).
"""

import ast
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[1]
FAQ_DIR = ROOT / "book" / "faq"
FAQ_PAGES = sorted(FAQ_DIR.glob("*.md"))
INDEX = FAQ_DIR / "index.md"

QUESTIONS = (
    "How does deep learning differ from classical machine learning?",
    "How do CNNs differ from fully connected networks?",
    "Why do CNNs work so well on images?",
    "How do I evaluate a model (accuracy, precision, recall, F1)?",
    "How do I avoid overfitting?",
    "How do I choose a model structure?",
    "How do I tune the learning rate, batch size and optimizer?",
    "How do I handle imbalanced data?",
    "How do I handle rotations, flips and deformations?",
    "How do I handle occlusion and partial visibility?",
    "How do I handle lighting changes?",
    "How do I handle background noise?",
    "How do I handle sharpening and blurring?",
    "How do I handle missing regions and defects?",
    "Why preprocess images?",
    "Why use convolution and pooling?",
    "Why use gradient descent?",
    "What does transfer learning buy, and when?",
    "What are GANs good for?",
    "What is the difference between classification and detection?",
    "How do I choose a framework, and why does this book use JAX?",
)

# Each robustness answer must quote its own rows of the robustness table (glue keys rob_<variation>_...).
ROBUSTNESS_ROWS = {
    "How do I handle rotations, flips and deformations?": ("rotation", "flip_lr", "flip_ud", "elastic"),
    "How do I handle occlusion and partial visibility?": ("occlusion",),
    "How do I handle lighting changes?": ("brightness", "contrast", "gamma"),
    "How do I handle background noise?": ("gaussian_noise", "salt_pepper"),
    "How do I handle sharpening and blurring?": ("blur", "sharpen"),
    "How do I handle missing regions and defects?": ("missing",),
}

GLUE_ROLE = re.compile(r"\{glue(?::(\w+))?\}`([^`]+)`")
DOC_ROLE = re.compile(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`")
MD_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
LABEL = re.compile(r"^\((faq-[\w-]+)\)=\s*$", re.MULTILINE)
REF_ROLE = re.compile(r"\{ref\}`(?:[^`<]*<)?([^`>]+)>?`")
FENCE = re.compile(r"^(```|:::).*?^\1", re.MULTILINE | re.DOTALL)
CHAPTER_SUFFIXES = (".ipynb", ".md")


def sections() -> dict[str, tuple[pathlib.Path, str]]:
    """Map each level-2 heading of the FAQ pages to (page, the text of its section)."""
    found = {}
    for page in FAQ_PAGES:
        text = page.read_text()
        parts = re.split(r"^## (.+?)\s*$", text, flags=re.MULTILINE)
        for heading, body in zip(parts[1::2], parts[2::2], strict=True):
            found[heading.strip()] = (page, body)
    return found


def toc_docs() -> set[str]:
    return set(re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text()))


def resolve(page: pathlib.Path, target: str) -> pathlib.Path | None:
    """The file a relative link or docpath from ``page`` points to, or None."""
    base = (page.parent / target).resolve()
    candidates = [base] if base.suffix in CHAPTER_SUFFIXES else [base.with_suffix(s) for s in CHAPTER_SUFFIXES]
    return next((c for c in candidates if c.is_file()), None)


def glue_records(notebook: pathlib.Path) -> dict[str, str]:
    """The glue keys a notebook recorded, with their text/plain value (myst-nb's scrapbook outputs)."""
    records = {}
    for cell in json.loads(notebook.read_text())["cells"]:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            if not scrap:
                continue
            prefix = scrap.get("mime_prefix", "")
            plain = output.get("data", {}).get(f"{prefix}text/plain", "")
            records[scrap["name"]] = "".join(plain) if isinstance(plain, list) else plain
    return records


def glue_references(text: str) -> list[tuple[str | None, str, str, str | None]]:
    """(role type, docpath, key, format spec) of every cross-page glue role in ``text``."""
    refs = []
    for role, content in GLUE_ROLE.findall(text):
        role = role or None
        if role == "text":  # content is <docpath>::<key>:<format spec>
            rest, _, spec = content.rpartition(":")
            if "::" not in rest:  # no format spec given: the whole content is docpath::key
                rest, spec = content, None
        else:
            rest, spec = content, None
        doc, sep, key = rest.partition("::")
        refs.append((role, doc if sep else "", key if sep else rest, spec))
    return refs


def chapter_links(page: pathlib.Path, body: str) -> list[pathlib.Path]:
    """The existing book chapters (outside the FAQ) that a section links to."""
    targets = DOC_ROLE.findall(body) + [t for t in MD_LINK.findall(body) if "://" not in t]
    files = [resolve(page, t) for t in targets]
    return [f for f in files if f is not None and FAQ_DIR not in f.parents]


def format_like_myst(plain: str, spec: str) -> str:
    """Format a glued text/plain value as myst-nb's {glue:text} role does."""
    try:
        value = ast.literal_eval(plain)
    except (SyntaxError, ValueError):
        value = plain
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, spec)


def test_there_are_faq_pages():
    assert INDEX in FAQ_PAGES and len(FAQ_PAGES) > 1


@pytest.mark.parametrize("question", QUESTIONS)
def test_question_is_a_heading(question):
    assert question in sections(), f"no FAQ page has the heading '## {question}'"


@pytest.mark.parametrize("question", QUESTIONS)
def test_answer_links_to_a_chapter_in_the_toc(question):
    page, body = sections()[question]
    links = chapter_links(page, body)
    assert links, f"the answer to {question!r} links to no book chapter"
    toc = toc_docs()
    for path in links:
        doc = str(path.relative_to(ROOT).with_suffix(""))
        assert doc in toc, f"{question!r} links to {doc}, which is not in _toc.yml (the -W build would fail)"
    assert "**Evidence:**" in body, f"the answer to {question!r} has no '**Evidence:**' line"


@pytest.mark.parametrize("question", QUESTIONS)
def test_answer_has_a_number_of_its_own(question):
    """No two answers repeat each other: each quotes at least one measurement no other answer quotes."""
    all_sections = sections()
    keys = {q: {(d, k) for _, d, k, _ in glue_references(body)} for q, (_, body) in all_sections.items()}
    others = set().union(*(k for q, k in keys.items() if q != question))
    assert keys[question] - others, f"every number in the answer to {question!r} is also quoted elsewhere"


def test_no_sentence_is_repeated():
    seen = {}
    for question, (_, body) in sections().items():
        prose = FENCE.sub("", body)
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(prose.split())):
            if len(sentence) < 60:
                continue
            assert sentence not in seen, f"{question!r} repeats a sentence of {seen[sentence]!r}: {sentence}"
            seen[sentence] = question


@pytest.mark.parametrize("question", sorted(ROBUSTNESS_ROWS))
def test_robustness_answer_quotes_its_own_rows(question):
    _, body = sections()[question]
    keys = [k for _, _, k, _ in glue_references(body)]
    assert any(k.startswith(f"rob_{variation}_") for k in keys for variation in ROBUSTNESS_ROWS[question]), (
        f"{question!r} quotes none of its rows {ROBUSTNESS_ROWS[question]} of the robustness table"
    )


@pytest.mark.parametrize("page", FAQ_PAGES, ids=lambda p: p.name)
def test_glue_references_name_recorded_keys(page):
    text = page.read_text()
    for role, doc, key, spec in glue_references(text):
        assert doc, f"{page.name}: {{glue}}`{key}` has no docpath; the FAQ has no notebook of its own"
        if role == "text":
            assert spec, f"{page.name}: {{glue:text}}`{doc}::{key}` needs a format spec (e.g. ':s')"
        notebook = resolve(page, doc)
        assert notebook is not None and notebook.suffix == ".ipynb", f"{page.name}: no notebook {doc}"
        records = glue_records(notebook)
        assert key in records, f"{page.name}: {doc} records no glue key {key!r}"
        if spec:
            format_like_myst(records[key], spec)  # raises if the value does not fit the format


def test_index_lists_every_answer():
    labels = [label for page in FAQ_PAGES if page != INDEX for label in LABEL.findall(page.read_text())]
    listed = set(REF_ROLE.findall(INDEX.read_text()))
    assert len(labels) == len(set(labels)), "duplicate FAQ labels"
    assert set(labels) <= listed, f"index.md does not list {sorted(set(labels) - listed)}"
    assert len(labels) >= len(QUESTIONS)


def test_faq_pages_are_in_the_toc():
    toc = toc_docs()
    for page in FAQ_PAGES:
        assert str(page.relative_to(ROOT).with_suffix("")) in toc, f"{page.name} is not in _toc.yml"
