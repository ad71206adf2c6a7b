"""Issue 14, safe outputs: every input string is text in every format, never markup, HTML or a link.

Reproducers: a ``[/x]`` in a version crashed the terminal report; ``[link=…]``/``[red]`` in a node
name styled the terminal; raw escape codes from the input reached it; a node named
``<script>…</script>`` became script elements in a CommonMark renderer; a 20 MB kernel string took
148 s to render.  Generalised: a real Report with every printed field replaced by hostile text
(``hostile.hostile_report``) renders in every format, valid against the published schemas, with no
control character acting and no element that came from the input.
"""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from markdown_it import MarkdownIt

from builders import make_node_doc, version_doc, write_json
from hostile import ACTIVE, BIDI, ESCAPES, HOSTILE, HTML, HUGE, MARKDOWN, MARKUP, hostile_report
from patchlevel.cli import main
from patchlevel.model import Finding, Report, Severity, Status
from patchlevel.render import RENDERERS, Format
from patchlevel.render.html import render_html
from patchlevel.render.junit import render_junit
from patchlevel.render.markdown import render_markdown
from patchlevel.render.oscal import render_oscal
from patchlevel.render.terminal import render_terminal
from patchlevel.render.text import MAX_FIELD_CHARS, cut, markdown_text, visible
from test_render_oscal import errors as oscal_errors
from test_render_reports import DATA, demo_report

JUNIT_XSD = DATA / "schemas" / "junit-jenkins-xunit-10.xsd"
# Formats that are data for programs, not displays: they keep values as written, escaped by their
# own syntax (JSON string escapes, Prometheus label escapes).
DATA_FORMATS = ("json", "prometheus")


def one_finding(report: Report, **fields: str) -> Report:
    base = Finding("kubelet_version_supported", Status.FAIL, Severity.HIGH, "node/n", "kubelet v1.2 ended")
    return dataclasses.replace(report, findings=(dataclasses.replace(base, **fields),))


# ------------------------------------------------------------------------------------------
# text helpers


def test_visible_writes_every_control_character_as_an_escape() -> None:
    assert visible("a\x1b[2Jb\x07\x00\x7f\x85\u202e\u2066\ud800\ufffe") == (
        "a\\x1b[2Jb\\x07\\x00\\x7f\\x85\\u202e\\u2066\\ud800\\ufffe"
    )
    assert visible("line\nnext\tcol\r") == "line\\nnext\\tcol\\r"  # the usual names for these three
    assert visible("line\nnext\tcol\r", keep_lines=True) == "line\nnext\tcol\\r"
    assert visible("plain ascii, ünïcödé and 漢字") == "plain ascii, ünïcödé and 漢字"


def test_cut_says_how_long_the_field_was() -> None:
    assert cut("abc", 5) == "abc"
    assert cut("x" * 20_000_000) == "x" * MAX_FIELD_CHARS + "… [cut: 20,000,000 characters in all]"


def test_markdown_text_is_inert() -> None:
    assert markdown_text("<b>*x*</b> [l](u) a|b") == "\\<b\\>\\*x\\*\\</b\\> \\[l\\](u) a\\|b"
    assert markdown_text("see https://x.example and www.x.example, mail a@b.example") == (
        "see https\\://x.example and www\\.x.example, mail a\\@b.example"
    )
    assert markdown_text("two\nlines") == "two lines"


# ------------------------------------------------------------------------------------------
# terminal


def test_rich_markup_in_a_version_neither_crashes_nor_styles() -> None:
    """The reproducer: '[/x]' in a version raised rich.errors.MarkupError."""
    report = dataclasses.replace(
        one_finding(demo_report(), message="kubelet v1.2[/x] ended", subject=f"node/{MARKUP}"),
        cluster=dataclasses.replace(demo_report().cluster, version="v1.2[/x]", name=MARKUP),
    )
    for color in (False, True):
        text = render_terminal(report, color=color)
        assert "v1.2[/x]" in text and "[link=https://evil.example]click[/link]" in text
        assert "\x1b]8;" not in text  # no OSC 8 hyperlink from [link=…]
    plain = render_terminal(report)
    assert "\x1b" not in plain


def test_escape_sequences_from_the_input_are_shown_not_sent() -> None:
    report = one_finding(demo_report(), subject=f"node/{ESCAPES}", message=f"kernel {ESCAPES} {BIDI}")
    for color in (False, True):
        text = render_terminal(report, color=color)
        assert "\x1b[2J" not in text and "\x1b]0;" not in text and "\x07" not in text and "\u202e" not in text
        assert "esc\\x1b[2J\\x1b]0;pwned\\x07" in text
        assert "invoice\\u202egnp.exe" in text
        if color:  # the only escape sequences are our own SGR styles
            assert set(re.findall(r"\x1b(.)", text)) == {"["}
            assert not re.search(r"\x1b\[[0-9;]*[^0-9;m]", text)


def test_a_20_mb_field_renders_cut_and_in_linear_time() -> None:
    """The reproducer: a 20 MB kernel string took 148 s; now the field is cut with a visible note."""
    kernel = "6.1.0-" + "a" * 20_000_000
    report = one_finding(demo_report(), subject=f"node/{kernel}", message=f"runs kernel {kernel}")
    text = render_terminal(report)
    assert "[cut: 20,000,011 characters in all]" in text  # the subject: "node/" + the kernel
    assert "[cut: 20,000,018 characters in all]" in text  # the message: "runs kernel " + the kernel
    small = render_terminal(one_finding(demo_report(), subject="node/x" + "a" * 5_000, message="m" * 5_000))
    assert len(text) < len(small) + 200  # output is bounded by the cut, not by the field


def test_a_20_mb_kernel_through_the_whole_audit(tmp_path: Path) -> None:
    """The reproducer end to end: a snapshot whose node reports a 20 MB kernel, audited to the terminal."""
    kernel = "6.1.0-" + "a" * 20_000_000
    write_json(tmp_path / "snapshot" / "version.json", version_doc("v1.33.4"))
    nodes = [make_node_doc("a", kernel=kernel), make_node_doc("b")]
    write_json(tmp_path / "snapshot" / "nodes.json", {"apiVersion": "v1", "kind": "NodeList", "items": nodes})
    out = tmp_path / "report.txt"
    assert main(["audit", str(tmp_path / "snapshot"), "--as-of", "2026-11-27", "-o", str(out)]) in (0, 1)
    text = out.read_text()
    assert "[cut: " in text and len(text) < 100_000


# ------------------------------------------------------------------------------------------
# Markdown, checked with a real CommonMark renderer


def _tags(markdown: bytes) -> list[str]:
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown.decode())
    return re.findall(r"<(/?[a-zA-Z][a-zA-Z0-9]*)", html)


def test_a_script_node_name_makes_no_element() -> None:
    """The reproducer: a node named <script>…</script> became script elements."""
    benign = one_finding(demo_report(), subject="node/plain", message="plain")
    hostile = one_finding(demo_report(), subject=f"node/{HTML}", message=f"{MARKDOWN} {HTML}")
    assert _tags(render_markdown(hostile)) == _tags(render_markdown(benign))
    html = MarkdownIt("commonmark").enable("table").render(render_markdown(hostile).decode())
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_hostile_report_renders_markdown_with_only_our_own_markup() -> None:
    report = demo_report()
    benign = render_markdown(report)
    hostile = render_markdown(hostile_report(report))
    tags = _tags(hostile)
    assert not {t.lstrip("/") for t in tags} - {
        "h2",
        "h3",
        "p",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "strong",
        "code",
        "ul",
        "li",
    }
    assert tags.count("a") == 0 and tags.count("img") == 0 and tags.count("em") == 0
    # the same structure as the benign report, plus the extra waiver line hostile_report adds
    assert [t for t in tags if t not in ("li", "/li")] == [t for t in _tags(benign) if t not in ("li", "/li")]
    for char in ACTIVE:
        assert char not in hostile.decode()


# ------------------------------------------------------------------------------------------
# every format on a hostile report


@pytest.fixture(scope="module")
def hostile() -> Report:
    return hostile_report(demo_report(), huge=True)


@pytest.mark.parametrize("fmt", list(Format), ids=[f.value for f in Format])
def test_every_format_renders_a_hostile_report(fmt: Format, hostile: Report) -> None:
    data = RENDERERS[fmt](hostile)
    text = data.decode("utf-8")
    assert text
    if fmt.value not in DATA_FORMATS:
        for char in ACTIVE:
            assert char not in text, (fmt, char)


def test_junit_stays_valid_with_hostile_strings(hostile: Report) -> None:
    data = render_junit(hostile)
    xmlschema.XMLSchema(JUNIT_XSD).validate(data.decode("utf-8"))
    names = {case.get("name") for case in ET.fromstring(data).iter("testcase")}
    assert any(name and "esc\\x1b[2J" in name for name in names)


def test_oscal_stays_valid_and_its_markup_fields_inert(hostile: Report) -> None:
    import json

    document = json.loads(render_oscal(hostile))
    assert oscal_errors(document) == []
    result = document["assessment-results"]["results"][0]
    for observation in result["observations"]:
        for field in (observation["description"], observation["relevant-evidence"][0]["remarks"]):
            html = MarkdownIt("commonmark").render(field)
            assert not re.search(r"<(script|img|a |em|strong)", html), field[:200]


def test_html_escapes_and_shows_control_characters(hostile: Report) -> None:
    text = render_html(hostile).decode()
    tags: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append(tag)

    Collect().feed(text)
    assert "script" not in tags and "img" not in tags and "a" not in tags
    assert "esc\\x1b[2J" in text and "&lt;script&gt;" in text
    assert HUGE[:1000] in text  # the record keeps the field whole


def test_every_hostile_string_is_shown_as_written_in_the_terminal(hostile: Report) -> None:
    text = render_terminal(hostile, width=400)
    assert MARKUP in text or "[red]red[/red]" in text
    assert "[cut:" in text
    assert all(visible(s).split()[0] in text for s in HOSTILE.values())
