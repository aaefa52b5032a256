"""The message catalogs: English complete, placeholders kept, and in step with the sources.

German is the source language of the UI, the forms and the BPMN names; the English catalog must
translate every message id. A catalog that lags behind the sources (a new label in a form, a
renamed task) fails here; refresh it with the project's command from babel.cfg:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k N_ -o web/translations/messages.pot .
    .venv/bin/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching
"""
import contextlib
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
POT = TRANSLATIONS / "messages.pot"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
# keep in step with the header comment of babel.cfg
EXTRACT_KEYWORDS = ["-k", "_l", "-k", "N_"]

# %(name)s with optional flags/width/precision, and str.format-style {name}
NAMED = re.compile(r"%\([^)]*\)[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[hlL]?[diouxXeEfFgGcrsa]|\{[A-Za-z_][\w.]*\}")
# positional %s, %d …, only meaningful in messages babel flags as python-format
POSITIONAL = re.compile(r"%(?!\()[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[hlL]?[diouxXeEfFgGcrsa]")


def _read(path):
    with open(path, "rb") as f:
        return read_po(f)


def _messages(catalog):
    return [m for m in catalog if m.id]


def _key(message):
    return message.id, message.context


def _placeholders(text, python_format):
    found = NAMED.findall(text.replace("%%", ""))
    if python_format:
        found += POSITIONAL.findall(text.replace("%%", ""))
    return Counter(found)


def _show(message):
    return repr(message.id if isinstance(message.id, str) else message.id[0])[:120]


@pytest.fixture(scope="module")
def en():
    return _read(EN_PO)


@pytest.fixture(scope="module")
def extraction(tmp_path_factory, request):
    """A fresh extraction of the sources, exactly as the project command makes messages.pot,
    and what babel wrote to stderr while doing it (its warnings about messages it skipped)."""
    out = tmp_path_factory.mktemp("babel") / "messages.pot"
    mp = pytest.MonkeyPatch()
    mp.chdir(ROOT)  # babel.cfg's patterns are relative to the repository root
    request.addfinalizer(mp.undo)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        CommandLineInterface().run(
            ["pybabel", "-q", "extract", "-F", "babel.cfg", *EXTRACT_KEYWORDS, "-o", str(out), "."])
    return _read(out), stderr.getvalue()


@pytest.fixture(scope="module")
def extracted(extraction):
    return extraction[0]


def test_extraction_skips_no_message(extraction):
    # babel skips an f-string inside _() (it cannot be translated as written) with only a warning
    warnings = [line for line in extraction[1].splitlines() if "warning" in line]
    assert not warnings, "pybabel extract skipped messages:\n" + "\n".join(warnings)


def test_english_catalog_has_no_untranslated_entries(en):
    missing = []
    for m in _messages(en):
        forms = m.string if isinstance(m.string, (list, tuple)) else [m.string]
        if not forms or not all(s and s.strip() for s in forms):
            missing.append(_show(m))
    assert not missing, f"{len(missing)} untranslated entries in {EN_PO.name}:\n" + "\n".join(missing)


def test_english_catalog_has_no_fuzzy_entries(en):
    fuzzy = [_show(m) for m in _messages(en) if m.fuzzy]
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries in {EN_PO.name}:\n" + "\n".join(fuzzy)
    assert not en.fuzzy, "the catalog header is marked fuzzy"


def test_english_plural_forms_are_complete(en):
    assert en.num_plurals == 2
    for m in _messages(en):
        if m.pluralizable:
            assert isinstance(m.string, (list, tuple)) and len(m.string) == en.num_plurals, _show(m)


def test_translations_keep_the_placeholders_of_their_message_ids(en):
    problems = []
    for m in _messages(en):
        python_format = m.python_format
        if m.pluralizable:
            singular, plural = m.id
            pairs = [(singular, m.string[0])] + [(plural, s) for s in m.string[1:]]
        else:
            pairs = [(m.id, m.string)]
        for source, target in pairs:
            if not target:
                continue  # reported by the untranslated test
            want, got = _placeholders(source, python_format), _placeholders(target, python_format)
            if want != got:
                problems.append(f"{source!r} -> {target!r}: expected {sorted(want.elements())}, "
                                f"found {sorted(got.elements())}")
    assert not problems, "placeholders changed:\n" + "\n".join(problems)


def test_placeholder_check_catches_dropped_and_renamed_placeholders():
    # the check itself: a dropped, a renamed and a brace placeholder
    assert _placeholders("Fall %(ref)s", True) != _placeholders("Case", True)
    assert _placeholders("Fall %(ref)s", True) != _placeholders("Case %(id)s", True)
    assert _placeholders("Seite {n}", False) != _placeholders("Page {num}", False)
    assert _placeholders("%(num)d Feld", True) == _placeholders("%(num)d field", True)
    assert _placeholders("100 %% sicher", True) == _placeholders("100 %% sure", True)


def test_english_catalog_matches_the_sources(en, extracted):
    in_sources = {_key(m) for m in _messages(extracted)}
    in_catalog = {_key(m) for m in _messages(en)}
    new = sorted(repr(k[0])[:120] for k in in_sources - in_catalog)
    gone = sorted(repr(k[0])[:120] for k in in_catalog - in_sources)
    assert not new and not gone, (
        f"{EN_PO.name} is out of date with the sources (run the extract/update commands in this "
        f"module's docstring).\nMissing from the catalog: {new}\nNo longer in the sources: {gone}")


def test_template_matches_the_sources(extracted):
    committed = {_key(m) for m in _messages(_read(POT))}
    fresh = {_key(m) for m in _messages(extracted)}
    assert committed == fresh, (
        f"{POT.name} is out of date: missing {sorted(repr(k[0])[:80] for k in fresh - committed)}, "
        f"stale {sorted(repr(k[0])[:80] for k in committed - fresh)}")
