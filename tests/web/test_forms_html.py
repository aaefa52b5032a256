"""web.forms_html: form-js forms rendered as accessible HTML that works without JavaScript."""
import copy
from html.parser import HTMLParser
from pathlib import Path

from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from engine.forms import FormDefinition, FormMessage, validate_submission
from web.forms_html import SCRIPT_PATH, build_view, message_text, render_form, translate_errors, ui_text

from tests.engine.test_forms import FULL, VALID

VOID = {"input", "br", "hr", "img", "meta", "link"}


class Doc(HTMLParser):
    """Just enough of a DOM: every element with its attributes, parent chain and text."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements, self.stack, self.by_id = [], [], {}
        self.feed(str(html))

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": {k: "" if v is None else v for k, v in attrs}, "parents": list(self.stack), "text": ""}
        self.elements.append(el)
        if "id" in el["attrs"]:
            assert el["attrs"]["id"] not in self.by_id, f"duplicate id {el['attrs']['id']}"
            self.by_id[el["attrs"]["id"]] = el
        if tag not in VOID:
            self.stack.append(el)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1]["tag"] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

    def find(self, tag=None, **attrs):
        out = []
        for el in self.elements:
            if tag and el["tag"] != tag:
                continue
            if all(el["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(el)
        return out

    def one(self, tag=None, **attrs):
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]

    def label_for(self, id_):
        return self.one("label", **{"for": id_})

    def text(self, id_):
        return " ".join(self.by_id[id_]["text"].split())


def full():
    return FormDefinition.from_json(copy.deepcopy(FULL))


def form(*components):
    return FormDefinition.from_json({"id": "F", "components": list(components)})


def md(data):
    out = MultiDict()
    for k, v in data.items():
        for item in (v if isinstance(v, list) else [v]):
            out.add(k, item)
    return out


# --------------------------------------------------------------------------- structure

def test_every_component_renders_with_labels():
    html = render_form(full())
    assert isinstance(html, Markup)
    doc = Doc(html)
    assert doc.elements[0]["attrs"].get("data-lotse-form") == ""
    # every form control has a label pointing at it (radios and checkboxes per option)
    controls = doc.find("input") + doc.find("select") + doc.find("textarea")
    assert len(controls) >= 20
    for el in controls:
        label = doc.label_for(el["attrs"]["id"])
        assert label["text"].strip()
    types = {k: doc.one(name=k)["attrs"].get("type") for k in
             ("name", "email", "phone", "staff", "start", "slot", "meeting", "consent")}
    assert types == {"name": "text", "email": "email", "phone": "tel", "staff": "text", "start": "date",
                     "slot": "time", "meeting": "datetime-local", "consent": "checkbox"}
    assert doc.one(name="staff")["attrs"]["inputmode"] == "numeric"
    assert doc.one(name="salary")["attrs"]["inputmode"] == "decimal"
    assert doc.one("textarea", name="notes")
    assert doc.one("select", name="region")
    # markdown text, separator, spacer, group with legend; no button (the page brings its own)
    assert "<h1>Willkommen</h1>" in html and "<strong>alles</strong>" in html
    assert doc.find("hr") and doc.find("div", **{"class": "form-spacer", "aria-hidden": "true"})
    group = doc.one("fieldset", data_form_component="Group_family")
    assert doc.one("legend", **{"class": "form-group__legend"})["text"] == "Familie"
    assert "Absenden" not in html and "<button" not in html and "<form" not in html
    assert group is not None


def test_labels_and_required_markers():
    doc = Doc(render_form(full()))
    name = doc.one("input", name="name")
    assert name["attrs"]["aria-required"] == "true"
    assert "*" in doc.label_for("f-name")["text"]
    assert "aria-required" not in doc.one("input", name="email")["attrs"]
    assert "*" not in doc.label_for("f-email")["text"]
    assert doc.find("p", **{"class": "form-required-hint"})
    # radios: a fieldset with legend, role radiogroup and aria-required
    sector = doc.one("fieldset", data_form_key="sector")
    assert sector["attrs"]["role"] == "radiogroup" and sector["attrs"]["aria-required"] == "true"
    legend = [el for el in doc.find("legend") if sector in el["parents"]][0]
    assert legend["text"].startswith("Branche")
    radios = doc.find("input", type="radio", name="sector")
    assert [r["attrs"]["value"] for r in radios] == ["care", "it"]
    assert all(sector in r["parents"] for r in radios)
    # checklists and taglists: fieldset + legend, checkboxes
    langs = doc.one("fieldset", data_form_key="languages")
    assert [el["attrs"]["value"] for el in doc.find("input", name="languages")] == ["de", "en", "tr"]
    assert all(langs in el["parents"] for el in doc.find("input", name="languages"))
    assert doc.label_for("f-languages-2")["text"] == "Türkisch"
    assert len(doc.find("input", type="checkbox", name="tags")) == 2


def test_description_is_linked_with_aria_describedby():
    doc = Doc(render_form(full()))
    name = doc.one("input", name="name")
    hint_id = name["attrs"]["aria-describedby"]
    assert doc.text(hint_id) == "Vor- und Nachname"
    salary = doc.one("input", name="salary")
    assert doc.text(salary["attrs"]["aria-describedby"]) == "EUR"  # the suffix adorner


def test_defaults_and_typed_values_are_shown():
    doc = Doc(render_form(full(), values={"name": "Ana", "staff": 12, "consent": True, "languages": ["en"],
                                          "start": "2026-09-01", "notes": "\nZeile"}))
    assert doc.one("input", name="name")["attrs"]["value"] == "Ana"
    assert doc.one("input", name="staff")["attrs"]["value"] == "12"
    assert "checked" in doc.one("input", name="consent")["attrs"]
    assert "checked" in doc.one("input", name="languages", value="en")["attrs"]
    assert "checked" not in doc.one("input", name="languages", value="de")["attrs"]
    assert doc.one("input", name="start")["attrs"]["value"] == "2026-09-01"
    # a browser drops the first newline after <textarea>, so the value's own one survives
    # (this simple parser does not drop it)
    assert doc.one("textarea")["text"] == "\n\nZeile"
    # defaultValue for fields without a value
    assert "selected" in doc.one("option", value="ac")["attrs"]
    assert "selected" not in doc.one("option", value="dn")["attrs"]
    assert doc.one("option", value="")["text"] == "Bitte auswählen"


# --------------------------------------------------------------------------- errors

def test_invalid_submission_keeps_values_and_shows_errors_at_the_fields():
    sent = md(dict(VALID, name="A", staff="zwölf", zip="abc", languages=["de", "tr"], consent="true",
                   region="dn", sector="it"))
    clean, errors = validate_submission(full(), sent)
    assert set(errors) == {"name", "staff", "zip"}
    html = render_form(full(), sent, errors)
    doc = Doc(html)
    # what the user typed is back, even where it is invalid
    assert doc.one("input", name="name")["attrs"]["value"] == "A"
    assert doc.one("input", name="staff")["attrs"]["value"] == "zwölf"
    assert doc.one("input", name="zip")["attrs"]["value"] == "abc"
    assert doc.one("input", name="email")["attrs"]["value"] == "ana@example.com"
    assert "checked" in doc.one("input", name="languages", value="tr")["attrs"]
    assert "checked" in doc.one("input", name="consent")["attrs"]
    assert "checked" in doc.one("input", name="sector", value="it")["attrs"]
    assert "selected" in doc.one("option", value="dn")["attrs"]
    assert "selected" not in doc.one("option", value="ac")["attrs"]  # the user's choice, not the default
    # the message sits at the field, tied to the input
    staff = doc.one("input", name="staff")
    assert staff["attrs"]["aria-invalid"] == "true"
    error_id = staff["attrs"]["aria-describedby"].split()[-1]
    assert doc.text(error_id) == "Fehler: Bitte geben Sie eine ganze Zahl ein."
    assert "aria-invalid" not in doc.one("input", name="email")["attrs"]
    # the error summary comes first and links to each field
    summary = doc.one("div", data_error_summary="")
    assert doc.elements.index(summary) < doc.elements.index(doc.one("input", name="name"))
    assert summary["attrs"]["role"] == "alert" and summary["attrs"]["tabindex"] == "-1"
    assert doc.text(summary["attrs"]["aria-labelledby"]) == "Es gibt ein Problem"
    links = [el for el in doc.find("a") if summary in el["parents"]]
    assert [(a["attrs"]["href"], a["text"]) for a in links] == [
        ("#f-name", "Name: Bitte geben Sie mindestens 2 Zeichen ein."),
        ("#f-zip", "PLZ: Dieser Wert hat nicht das erwartete Format."),
        ("#f-staff", "Beschäftigte: Bitte geben Sie eine ganze Zahl ein."),
    ]
    for a in links:
        assert a["attrs"]["href"][1:] in doc.by_id


def test_error_on_a_choice_group_links_to_the_first_option():
    sent = md(dict(VALID, sector=""))
    _, errors = validate_submission(full(), sent)
    doc = Doc(render_form(full(), sent, errors))
    summary = doc.one("div", data_error_summary="")
    link = [el for el in doc.find("a") if summary in el["parents"]][0]
    assert link["attrs"]["href"] == "#f-sector-0" and "f-sector-0" in doc.by_id
    fieldset = doc.one("fieldset", data_form_key="sector")
    assert doc.text(fieldset["attrs"]["aria-describedby"]).endswith("Bitte wählen Sie eine Option aus.")
    assert all(r["attrs"]["aria-invalid"] == "true" for r in doc.find("input", name="sector"))


def test_errors_without_a_field_appear_in_the_summary():
    doc = Doc(render_form(form({"type": "textfield", "key": "a"}), errors={"_form": ["Gespeichert wurde nichts."]}))
    assert "Gespeichert wurde nichts." in doc.one("div", data_error_summary="")["text"]
    assert not doc.find("a")


def test_no_summary_without_errors():
    assert "data-error-summary" not in render_form(full(), md(VALID))


# --------------------------------------------------------------------------- conditions

def test_hidden_components_are_rendered_hidden_with_their_expression():
    doc = Doc(render_form(full()))
    group = doc.one("fieldset", data_form_component="Group_family")
    assert "hidden" in group["attrs"] and group["attrs"]["data-hide"] == "=not(family)"
    school = doc.one("div", data_form_key="school")
    assert school["attrs"]["data-hide"] == "=children = 0 or children = null"
    # children's inputs are still in the page for the live script, inside the hidden group
    assert group in doc.one("input", name="children")["parents"]
    doc = Doc(render_form(full(), values={"family": True, "children": 2}))
    assert "hidden" not in doc.one("fieldset", data_form_component="Group_family")["attrs"]
    assert "hidden" not in doc.one("div", data_form_key="school")["attrs"]
    assert "hidden" not in doc.one("div", data_form_key="children")["attrs"]


def test_conditions_follow_the_submitted_values():
    d = form({"type": "checkbox", "key": "other", "label": "Sonstiges"},
             {"type": "textfield", "key": "detail", "label": "Welche?", "validate": {"required": True},
              "conditional": {"hide": "=not(other)"}})
    sent = MultiDict([("other", "true")])
    _, errors = validate_submission(d, sent)
    doc = Doc(render_form(d, sent, errors))
    detail = doc.one("div", data_form_key="detail")
    assert "hidden" not in detail["attrs"] and "form-field--error" in detail["attrs"]["class"]
    sent = MultiDict([("detail", "typed")])
    assert validate_submission(d, sent) == ({"other": False}, {})
    doc = Doc(render_form(d, sent))
    assert "hidden" in doc.one("div", data_form_key="detail")["attrs"]
    assert doc.one("input", name="detail")["attrs"]["value"] == "typed"  # kept, in case it is shown again


def test_required_hint_ignores_hidden_required_fields():
    d = form({"type": "textfield", "key": "x", "validate": {"required": True}, "conditional": {"hide": "=true"}})
    assert "form-required-hint" not in render_form(d)


def test_only_conditions_on_the_forms_own_fields_are_left_to_the_live_script():
    # the page holds the form's values, not the case data: the script must not read a missing
    # case variable as null (which would hide the component); the server's rendering stands there
    d = form({"type": "checkbox", "key": "other", "label": "Sonstiges"},
             {"type": "textfield", "key": "detail", "conditional": {"hide": "=not(other)"}},
             {"type": "textfield", "key": "visa", "conditional": {"hide": '=citizenship = "EU" and other'}})
    doc = Doc(render_form(d, {}, context={"citizenship": "IN"}))
    assert "data-hide-live" in doc.one("div", data_form_key="detail")["attrs"]
    assert "data-hide-live" not in doc.one("div", data_form_key="visa")["attrs"]
    script = Path(__file__).resolve().parents[2] / "web" / "static" / SCRIPT_PATH
    assert script.is_file(), "run `make setup` (npm run build) to build the live script"


def test_options_that_are_not_strings_carry_their_json_value():
    d = form({"type": "radio", "key": "n", "values": [{"label": "eins", "value": 1}, {"label": "a", "value": "a"}]})
    doc = Doc(render_form(d))
    assert doc.one("input", value="1")["attrs"]["data-json"] == "1"
    assert "data-json" not in doc.one("input", value="a")["attrs"]


# --------------------------------------------------------------------------- escaping

HOSTILE = '<script>alert("x")</script>'


def test_hostile_labels_values_and_options_are_escaped():
    d = FormDefinition.from_json({"id": "F<x>", "components": [
        {"type": "text", "id": "T", "text": f"Hallo {HOSTILE} [klick](javascript:alert(1)) {{{{ name }}}}"},
        {"type": "textfield", "key": "name", "label": HOSTILE, "description": "<img src=x onerror=alert(1)>",
         "validate": {"required": True}, "appearance": {"prefixAdorner": "<b>€</b>"}},
        {"type": "radio", "key": "r", "label": "R", "values": [{"label": HOSTILE, "value": '"><script>'}]},
        {"type": "select", "key": "s", "label": "S", "values": [{"label": HOSTILE, "value": "'onmouseover='x"}]},
        {"type": "textarea", "key": "t", "label": "T"},
        {"type": "textfield", "key": "c", "label": "C", "conditional": {"hide": '=name = "</div><script>"'}},
    ]})
    values = md({"name": HOSTILE, "t": "</textarea><script>x</script>", "r": '"><script>'})
    errors = {"name": [f"bad {HOSTILE}"]}
    html = str(render_form(d, values, errors))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "javascript:" not in html.replace("[klick](javascript:alert(1))", "")
    assert "&lt;script&gt;" in html
    doc = Doc(html)  # still well formed
    assert doc.one("input", name="name")["attrs"]["value"] == HOSTILE
    assert doc.one("textarea")["text"].strip() == "</textarea><script>x</script>"
    assert doc.label_for("f-name")["text"].startswith(HOSTILE)
    assert doc.one("input", name="r")["attrs"]["value"] == '"><script>'
    assert doc.one("option", value="'onmouseover='x")["text"] == HOSTILE
    assert doc.one("div", data_form_key="c")["attrs"]["data-hide"] == '=name = "</div><script>"'
    # the {{ name }} template inserts the typed value as text, never as markup
    assert doc.text("f-T-field") .startswith(f"Hallo {HOSTILE}")
    assert doc.text("f-T-field").endswith(HOSTILE)


def test_text_component_markdown_and_templates():
    d = form({"type": "text", "id": "T", "text": "Fall **{{ ref }}** für {{ firm.name }}: {{ count(docs) }} "
                                                "Dokumente {{#if x}}bleibt{{/if}} {{ unknown( }}"})
    doc = Doc(render_form(d, values={}, context={"ref": "WC-AC-2026-00042", "firm": {"name": "*ACME*"},
                                                 "docs": [1, 2]}))
    assert doc.text("f-T-field") == ("Fall WC-AC-2026-00042 für *ACME*: 2 Dokumente {{#if x}}bleibt{{/if}} "
                                     "{{ unknown( }}")
    assert doc.one("strong")["text"] == "WC-AC-2026-00042"
    assert not doc.find("em")  # Markdown in data is escaped


def test_text_expression_component():
    d = form({"type": "text", "id": "T", "text": '="Hallo " + name'})
    assert Doc(render_form(d, values={"name": "Ana"})).text("f-T-field") == "Hallo Ana"


# --------------------------------------------------------------------------- modes

def test_readonly_form():
    html = render_form(full(), values={"name": "Ana", "sector": "it", "consent": True}, readonly=True)
    doc = Doc(html)
    assert "readonly" in doc.one("input", name="name")["attrs"]
    assert "readonly" in doc.one("textarea")["attrs"]
    assert "disabled" in doc.one("select")["attrs"]
    assert all("disabled" in r["attrs"] for r in doc.find("input", name="sector"))
    assert "disabled" in doc.one("input", name="consent")["attrs"]
    assert "aria-required" not in html and "form-required-hint" not in html


def test_readonly_field_from_definition():
    d = form({"type": "textfield", "key": "ref", "label": "Aktenzeichen", "readonly": True},
             {"type": "checkbox", "key": "ok", "label": "OK", "disabled": True})
    doc = Doc(render_form(d, values={"ref": "WC-1", "ok": True}))
    assert "readonly" in doc.one("input", name="ref")["attrs"]
    assert "disabled" in doc.one("input", name="ok")["attrs"]


def test_prefix_namespaces_names_and_ids():
    d = form({"type": "textfield", "key": "a", "label": "A", "validate": {"required": True}},
             {"type": "radio", "key": "b", "label": "B", "values": [{"label": "x", "value": "x"}]})
    sent = MultiDict([("t1.a", "typed"), ("t1.b", "x")])
    assert validate_submission(d, sent, prefix="t1.") == ({"a": "typed", "b": "x"}, {})
    doc = Doc(render_form(d, sent, prefix="t1."))
    a = doc.one("input", name="t1.a")
    assert a["attrs"]["id"] == "f-t1-a" and a["attrs"]["value"] == "typed"
    assert doc.label_for("f-t1-a")
    assert "checked" in doc.one("input", name="t1.b")["attrs"]


def test_values_key_options_render_from_context():
    d = form({"type": "select", "key": "advisor", "label": "Berater:in", "valuesKey": "advisors"})
    doc = Doc(render_form(d, values={"advisor": "b"}, context={"advisors": [{"label": "Frau A", "value": "a"},
                                                                            {"label": "Herr B", "value": "b"}]}))
    assert [(o["attrs"]["value"], o["text"]) for o in doc.find("option")] == [("", "Bitte auswählen"),
                                                                               ("a", "Frau A"), ("b", "Herr B")]
    assert "selected" in doc.one("option", value="b")["attrs"]


def test_build_view_is_plain_data():
    view = build_view(full(), values={"family": True})
    keys = [c.get("key") or c["component_id"] for c in view["components"]]
    assert keys[:3] == ["Intro", "name", "email"]
    group = [c for c in view["components"] if c["type"] == "group"][0]
    assert [c["key"] for c in group["children"]] == ["children", "school"]
    assert view["summary"] == [] and view["has_required"] is True


# --------------------------------------------------------------------------- language

def test_messages_default_to_german_outside_a_request():
    assert message_text(FormMessage("max_length", max=5)) == "Bitte geben Sie höchstens 5 Zeichen ein."
    assert ui_text("error_summary_title") == "Es gibt ein Problem"
    assert translate_errors({"a": [FormMessage("required")], "b": "plain"}) == {
        "a": ["Bitte füllen Sie dieses Feld aus."], "b": ["plain"]}


def _app(locale, translations_dir=None):
    from flask import Flask
    from flask_babel import Babel
    app = Flask(__name__)
    if translations_dir:
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(translations_dir)
    Babel(app, locale_selector=lambda: locale)
    return app


def test_english_in_an_english_request():
    app = _app("en")
    sent = md({"name": "A"})
    _, errors = validate_submission(full(), sent)
    with app.test_request_context("/"):
        html = render_form(full(), sent, errors)
        assert message_text(FormMessage("min", min="1")) == "Enter a number of at least 1."
    assert "There is a problem" in html and "Enter at least 2 characters." in html
    assert "Please tick this box to continue." in html and "Please select" in html
    assert "Fields marked with * are required." in html and "Es gibt" not in html


def test_german_in_a_german_request_without_catalog():
    with _app("de").test_request_context("/"):
        assert message_text(FormMessage("required")) == "Bitte füllen Sie dieses Feld aus."
        assert ui_text("error_prefix") == "Fehler:"


def test_an_app_without_babel_still_renders():
    from flask import Flask
    with Flask(__name__).test_request_context("/"):
        assert "Bitte füllen Sie dieses Feld aus." in render_form(
            form({"type": "textfield", "key": "a", "label": "A"}), errors={"a": [FormMessage("required")]})


def test_labels_and_messages_go_through_the_catalogs(tmp_path):
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    catalog = Catalog(locale="en")
    catalog.add("Vorname", "First name")
    catalog.add("Bitte wählen", "Please choose")
    catalog.add("There is a problem", "Something went wrong")
    catalog.add("Enter at least %(min)s characters.", "Type %(min)s characters or more.")
    catalog.add("## Angaben\n\nBitte vollständig.", "## Details\n\nPlease complete.")
    (tmp_path / "en" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "en" / "LC_MESSAGES" / "messages.mo", "wb") as fh:
        write_mo(fh, catalog)
    d = form({"type": "text", "text": "## Angaben\n\nBitte vollständig."},
             {"type": "textfield", "key": "first", "label": "Vorname", "validate": {"minLength": 3}},
             {"type": "radio", "key": "r", "label": "Bitte wählen", "values": [{"label": "Vorname", "value": "v"}]})
    sent = md({"first": "A"})
    _, errors = validate_submission(d, sent)
    with _app("en", tmp_path).test_request_context("/"):
        doc = Doc(render_form(d, sent, errors))
    assert doc.label_for("f-first")["text"] == "First name"
    assert doc.label_for("f-r-0")["text"] == "First name"
    assert doc.one("legend")["text"] == "Please choose"
    assert "Something went wrong" in doc.elements[1]["text"]
    assert doc.text("f-first-error") == "Error: Type 3 characters or more."
    headings = [el["text"] for el in doc.elements if el["tag"] == "h2"]                  # text blocks too
    assert "Details" in headings and "Angaben" not in str(doc.elements)
