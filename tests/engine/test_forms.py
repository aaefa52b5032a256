"""engine.forms: loading form-js schemas, the FEEL subset, and validating submissions."""
import copy
import json
from datetime import date
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from engine.forms import (FeelError, FormDefinition, FormDefinitionError, FormMessage, build_schema,
                          compile_expression, evaluate, evaluate_expression, parse_draft, submission_values,
                          validate_submission)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

OPTIONS = [{"label": "Deutsch", "value": "de"}, {"label": "Englisch", "value": "en"},
           {"label": "Türkisch", "value": "tr"}]

FULL = {
    "id": "Form_full",
    "type": "default",
    "schemaVersion": 16,
    "exporter": {"name": "form-js (https://demo.bpmn.io)", "version": "1.7.0"},
    "components": [
        {"type": "text", "id": "Intro", "text": "# Willkommen\n\nBitte **alles** ausfüllen."},
        {"type": "textfield", "id": "Field_name", "key": "name", "label": "Name",
         "description": "Vor- und Nachname", "validate": {"required": True, "minLength": 2, "maxLength": 40}},
        {"type": "textfield", "id": "Field_email", "key": "email", "label": "E-Mail",
         "validate": {"validationType": "email"}},
        {"type": "textfield", "id": "Field_phone", "key": "phone", "label": "Telefon",
         "validate": {"validationType": "phone"}},
        {"type": "textfield", "id": "Field_zip", "key": "zip", "label": "PLZ", "validate": {"pattern": "^[0-9]{5}$"}},
        {"type": "textarea", "id": "Field_notes", "key": "notes", "label": "Notizen", "validate": {"maxLength": 200}},
        {"type": "number", "id": "Field_staff", "key": "staff", "label": "Beschäftigte", "decimalDigits": 0,
         "increment": "1", "validate": {"min": 1, "max": 500}},
        {"type": "number", "id": "Field_salary", "key": "salary", "label": "Gehalt", "decimalDigits": 2,
         "appearance": {"suffixAdorner": "EUR"}},
        {"type": "number", "id": "Field_ratio", "key": "ratio", "label": "Anteil"},
        {"type": "checkbox", "id": "Field_consent", "key": "consent", "label": "Einwilligung",
         "validate": {"required": True}},
        {"type": "checkbox", "id": "Field_family", "key": "family", "label": "Mit Familie"},
        {"type": "checklist", "id": "Field_langs", "key": "languages", "label": "Sprachen", "values": OPTIONS},
        {"type": "radio", "id": "Field_sector", "key": "sector", "label": "Branche",
         "values": [{"label": "Pflege", "value": "care"}, {"label": "IT", "value": "it"}],
         "validate": {"required": True}},
        {"type": "select", "id": "Field_region", "key": "region", "label": "Region", "defaultValue": "ac",
         "values": [{"label": "Aachen", "value": "ac"}, {"label": "Düren", "value": "dn"}]},
        {"type": "datetime", "id": "Field_start", "key": "start", "subtype": "date", "dateLabel": "Arbeitsbeginn"},
        {"type": "datetime", "id": "Field_slot", "key": "slot", "subtype": "time", "timeLabel": "Uhrzeit"},
        {"type": "datetime", "id": "Field_meet", "key": "meeting", "subtype": "datetime", "dateLabel": "Termin"},
        {"type": "taglist", "id": "Field_tags", "key": "tags", "label": "Schlagworte",
         "values": [{"label": "dringend", "value": "urgent"}, {"label": "Familie", "value": "family"}]},
        {"type": "separator", "id": "Sep"},
        {"type": "group", "id": "Group_family", "label": "Familie",
         "conditional": {"hide": "=not(family)"},
         "components": [
             {"type": "number", "id": "Field_children", "key": "children", "label": "Kinder",
              "decimalDigits": 0, "validate": {"required": True, "min": 0}},
             {"type": "textfield", "id": "Field_school", "key": "school", "label": "Schule",
              "conditional": {"hide": "=children = 0 or children = null"}, "validate": {"required": True}},
         ]},
        {"type": "spacer", "id": "Spacer"},
        {"type": "button", "id": "Submit", "key": "submit", "label": "Absenden", "action": "submit"},
    ],
}

VALID = {"name": "  Ana Silva ", "email": "ana@example.com", "phone": "+49 241 123456", "zip": "52062",
         "notes": "Zeile 1\r\nZeile 2", "staff": "12", "salary": "3500,50", "ratio": "0.5", "consent": "true",
         "languages": ["de", "en"], "sector": "care", "region": "dn", "start": "2026-09-01", "slot": "09:30",
         "meeting": "2026-09-01T10:15", "tags": ["urgent"]}


def full():
    return FormDefinition.from_json(copy.deepcopy(FULL))


def form(*components, **extra):
    return FormDefinition.from_json({"id": "F", "components": list(components), **extra})


def submit(defn, data, **kw):
    md = MultiDict()
    for k, v in data.items():
        for item in (v if isinstance(v, list) else [v]):
            md.add(k, item)
    return validate_submission(defn, md, **kw)


# --------------------------------------------------------------------------- loading

def test_loads_every_supported_component_and_keeps_groups():
    d = full()
    assert d.id == "Form_full"
    types = [c.type for c in d.components]
    assert types[0] == "text" and "group" in types and "separator" in types and "spacer" in types
    assert "button" not in types  # the page brings its own buttons
    ids = [c.id for c in d.components]
    assert ids.index("Group_family") < ids.index("Field_children") < ids.index("Field_school")
    assert list(d.fields) == ["name", "email", "phone", "zip", "notes", "staff", "salary", "ratio", "consent",
                              "family", "languages", "sector", "region", "start", "slot", "meeting", "tags",
                              "children", "school"]
    assert d.fields["children"].parent.id == "Group_family"
    assert [c.key for c in d.component("Group_family").children] == ["children", "school"]
    assert d.fields["start"].label == "Arbeitsbeginn" and d.fields["slot"].label == "Uhrzeit"
    assert d.fields["region"].default == "ac"
    assert d.fields["name"].required and d.fields["name"].min_length == 2


def test_loads_json_text_and_fixture_file():
    d = FormDefinition.from_json(json.dumps(FULL))
    assert "name" in d.fields
    intake = FormDefinition.from_file(FIXTURES / "forms" / "intake_form.form")
    assert intake.id == "intake_form" and intake.fields["salary"].required


@pytest.mark.parametrize("components, expected", [
    ([{"type": "textfield", "id": "A", "key": "x"}, {"type": "number", "id": "B", "key": "x"}],
     ["'B'", "duplicate key 'x'", "'A'"]),
    ([{"type": "dynamiclist", "id": "L", "key": "rows"}], ["'L'", "unknown", "'dynamiclist'"]),
    ([{"type": "textfield", "id": "NoKey", "label": "Name"}], ["'NoKey'", "no 'key'"]),
    ([{"type": "textfield", "id": "Re", "key": "zip", "validate": {"pattern": "([0-9"}}],
     ["'Re'", "key 'zip'", "pattern", "not a valid regular expression"]),
    ([{"type": "number", "id": "N", "key": "n", "validate": {"min": 10, "max": 2}}],
     ["'N'", "key 'n'", "min (10) is greater than validate.max (2)"]),
    ([{"type": "textfield", "id": "T", "key": "t", "validate": {"minLength": 5, "maxLength": 1}}],
     ["'T'", "minLength (5)"]),
    ([{"type": "textfield", "id": "TN", "key": "typename"}], ["'TN'", "reserved"]),
    ([{"type": "textfield", "id": "P", "key": "_secret"}], ["'P'", "reserved"]),
    ([{"type": "textfield", "id": "D", "key": "address.street"}], ["'D'", "plain name"]),
    ([{"type": "textfield", "id": "C", "key": "c", "conditional": {"hide": "=a === 1"}}],
     ["'C'", "conditional.hide", "=a === 1"]),
    ([{"type": "textfield", "id": "C2", "key": "c", "conditional": {"hide": "=matches(a, \"x\")"}}],
     ["'C2'", "unsupported function 'matches'"]),
    ([{"type": "textfield", "id": "C3", "key": "c", "conditional": {"hide": "a = 1"}}],
     ["'C3'", "starting with '='"]),
    ([{"type": "select", "id": "S", "key": "s", "valuesExpression": "=opts"}], ["'S'", "valuesExpression"]),
    ([{"type": "radio", "id": "R", "key": "r"}], ["'R'", "no options"]),
    ([{"type": "radio", "id": "R2", "key": "r", "values": [{"label": "a", "value": "a"}], "defaultValue": "b"}],
     ["'R2'", "defaultValue 'b'"]),
    ([{"type": "checklist", "id": "R3", "key": "r", "values": [{"value": "a"}, {"value": "a"}]}],
     ["'R3'", "duplicate option value"]),
    ([{"type": "datetime", "id": "DT", "key": "d", "subtype": "week"}], ["'DT'", "subtype 'week'"]),
    ([{"type": "textfield", "id": "V", "key": "v", "validate": {"validationType": "iban"}}], ["'V'", "'iban'"]),
    ([{"type": "group", "id": "G", "path": "address", "components": []}], ["'G'", "path"]),
    ([{"type": "group", "id": "G2", "components": [{"type": "iframe", "id": "Frame"}]}], ["'Frame'", "'iframe'"]),
    ([{"type": "number", "id": "Dd", "key": "n", "decimalDigits": -1}], ["'Dd'", "decimalDigits"]),
    ([{"type": "text", "id": "Tx", "text": "=a +"}], ["'Tx'", "text expression"]),
    ([{"type": "textfield", "id": "Ro", "key": "r", "readonly": "=a = "}], ["'Ro'", "readonly"]),
    ([{"key": "x", "id": "NoType"}], ["'NoType'", "no 'type'"]),
])
def test_malformed_definitions_are_rejected_naming_the_component(components, expected):
    with pytest.raises(FormDefinitionError) as info:
        FormDefinition.from_json({"id": "Form_bad", "components": components})
    message = str(info.value)
    assert "form 'Form_bad'" in message
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize("source, expected", [
    ("not json", "not valid JSON"),
    ("[]", "JSON object"),
    ('{"id": "x"}', "no 'components' list"),
])
def test_malformed_documents_are_rejected(source, expected):
    with pytest.raises(FormDefinitionError, match=expected):
        FormDefinition.from_json(source)


def test_error_carries_component_details():
    with pytest.raises(FormDefinitionError) as info:
        form({"type": "textfield", "id": "A", "key": "a", "validate": {"pattern": "("}})
    err = info.value
    assert (err.component_id, err.key, err.component_type, err.form_id) == ("A", "a", "textfield", "F")


# --------------------------------------------------------------------------- FEEL subset

@pytest.mark.parametrize("expr, data, expected", [
    ('=a = "x"', {"a": "x"}, True),
    ('=a = "x"', {"a": "y"}, False),
    ('=a = "x"', {}, False),
    ('=a != "x"', {"a": "y"}, True),
    ("=not(a)", {"a": False}, True),
    ("=not(a)", {"a": True}, False),
    ("=not(a)", {}, None),
    ("=a", {"a": True}, True),
    ("=a", {"a": "yes"}, "yes"),
    ("=a = true", {"a": True}, True),
    ("=a = true", {"a": "true"}, None),
    ("=a > 3", {"a": 4}, True),
    ("=a > 3", {"a": 3}, False),
    ("=a >= 3.5", {"a": 3.5}, True),
    ("=a > 3", {}, None),
    ('=a > 3', {"a": "4"}, None),
    ("=a < 3 and b", {"a": 1, "b": True}, True),
    ("=a < 3 and b", {"a": 5, "b": None}, False),
    ("=a or b", {"a": None, "b": True}, True),
    ("=a or b", {"a": None, "b": False}, None),
    ("=a != null", {"a": 0}, True),
    ("=a = null", {"a": None}, True),
    ('=(a = "x" or a = "y") and not(b)', {"a": "y", "b": False}, True),
    ('=list contains(langs, "de")', {"langs": ["en", "de"]}, True),
    ('=list contains(langs, "fr")', {"langs": ["en", "de"]}, False),
    ('=list contains(langs, "fr")', {}, None),
    ("=count(langs) > 1", {"langs": ["en", "de"]}, True),
    ('=a in ("x", "y")', {"a": "y"}, True),
    ("=a between 1 and 5", {"a": 5}, True),
    ("=person.age >= 18", {"person": {"age": 30}}, True),
    ("=person.age >= 18", {"person": None}, None),
    ("=a + 1 = 3", {"a": 2}, True),
    ('=first + " " + last', {"first": "Ana", "last": "Silva"}, "Ana Silva"),
    ("=-a < 0", {"a": 2}, True),
    ("=string length(s) > 2", {"s": "abc"}, True),
    ("=true", {}, True),
    ('="Grüße \\"x\\""', {}, 'Grüße "x"'),
])
def test_feel_subset(expr, data, expected):
    assert evaluate_expression(expr, data) == expected


@pytest.mark.parametrize("expr", ["=", "=a ==", "=a = ", "=(a", "=a b", "=foo(1)", "=a && b", "=a === 1",
                                  "='x'", "=a = \"unterminated", "=not a", "=count(a, b)", "=__import__(\"os\")",
                                  "=a; b", "=a[0]"])
def test_feel_rejects_unknown_syntax(expr):
    with pytest.raises(FeelError):
        compile_expression(expr)


@pytest.mark.parametrize("expr, hint", [("=a is null", "write 'x = null'"), ("=a is not null", "write 'x = null'"),
                                        ("=is defined(a)", "write 'x != null'")])
def test_feel_rejects_what_form_js_cannot_evaluate_with_a_hint(expr, hint):
    # feelin (form-js's FEEL) cannot parse `is null` and has no `is defined()`: in the browser such a
    # condition would be null, so the server refuses it at deployment instead of reading it otherwise
    with pytest.raises(FeelError, match=hint):
        compile_expression(expr)


def test_feel_names_and_no_python_eval():
    e = compile_expression('=a.b = "x" and list contains(c, d)')
    assert e.names == {"a", "c", "d"}
    # a dunder path is just a missing key, never an attribute lookup
    assert evaluate_expression("=x.__class__ = null", {"x": "s"}) is True


# --------------------------------------------------------------------------- validation

def test_valid_submission_is_typed_and_stripped():
    clean, errors = submit(full(), VALID)
    assert errors == {}
    assert clean == {
        "name": "Ana Silva", "email": "ana@example.com", "phone": "+49 241 123456", "zip": "52062",
        "notes": "Zeile 1\nZeile 2", "staff": 12, "salary": 3500.5, "ratio": 0.5, "consent": True,
        "family": False, "languages": ["de", "en"], "sector": "care", "region": "dn", "start": "2026-09-01",
        "slot": "09:30", "meeting": "2026-09-01T10:15", "tags": ["urgent"],
    }
    assert isinstance(clean["staff"], int) and isinstance(clean["salary"], float)
    # the family group is hidden: its fields are neither required nor in the output
    assert "children" not in clean and "school" not in clean


def test_empty_optional_fields_have_empty_values():
    clean, errors = submit(full(), {"name": "Ana", "consent": "true", "sector": "it"})
    assert errors == {}
    assert clean["email"] is None and clean["staff"] is None and clean["start"] is None
    assert clean["languages"] == [] and clean["tags"] == [] and clean["family"] is False
    assert clean["region"] is None  # the default is for display; an emptied select stays empty


def test_required_fields():
    clean, errors = submit(full(), {"name": "   ", "sector": ""})
    assert set(errors) == {"name", "consent", "sector"}
    assert all(isinstance(m, FormMessage) for msgs in errors.values() for m in msgs)
    assert errors["name"][0].code == "required"
    assert errors["consent"][0].code == "required_checkbox"
    assert errors["sector"][0].code == "required_choice"
    assert errors["name"] == ["Bitte füllen Sie dieses Feld aus."]
    assert errors["name"][0].english == "This field is required."


@pytest.mark.parametrize("field, value, code, params", [
    ("name", "A", "min_length", {"min": 2}),
    ("name", "x" * 41, "max_length", {"max": 40}),
    ("zip", "5206", "pattern", {}),
    ("email", "ana@", "email", {}),
    ("phone", "call me", "phone", {}),
    ("notes", "y" * 201, "max_length", {"max": 200}),
    ("staff", "0", "min", {"min": "1"}),
    ("staff", "501", "max", {"max": "500"}),
    ("staff", "2.5", "not_an_integer", {}),
    ("staff", "zwölf", "not_an_integer", {}),
    ("salary", "10.123", "too_many_decimals", {"digits": 2}),
    ("ratio", "abc", "not_a_number", {}),
    ("ratio", "1e5", "not_a_number", {}),
    ("ratio", "nan", "not_a_number", {}),
    ("consent", "false", "required_checkbox", {}),
    ("family", "maybe", "invalid", {}),
    ("languages", ["de", "fr"], "invalid_choice", {}),
    ("sector", "bakery", "invalid_choice", {}),
    ("region", "<script>", "invalid_choice", {}),
    ("start", "2026-02-30", "invalid_date", {}),
    ("start", "tomorrow", "invalid_date", {}),
    ("slot", "25:00", "invalid_time", {}),
    ("meeting", "2026-09-01", "invalid_datetime", {}),
    ("tags", ["urgent", "secret"], "invalid_choice", {}),
])
def test_field_errors(field, value, code, params):
    data = dict(VALID, **{field: value})
    clean, errors = submit(full(), data)
    assert list(errors) == [field]
    assert [m.code for m in errors[field]] == [code]
    assert errors[field][0].params == params
    assert field not in clean
    other = "zip" if field == "name" else "name"
    assert clean[other] == submit(full(), VALID)[0][other]  # the valid rest is still there


def test_min_and_max_messages_name_the_limits():
    _, errors = submit(full(), dict(VALID, staff="0", name="A"))
    assert errors["staff"] == ["Bitte geben Sie eine Zahl größer oder gleich 1 ein."]
    assert errors["staff"][0].english == "Enter a number of at least 1."
    assert errors["name"] == ["Bitte geben Sie mindestens 2 Zeichen ein."]


def test_several_errors_on_one_field():
    d = form({"type": "textfield", "key": "code", "validate": {"minLength": 5, "pattern": "^[A-Z]+$"}})
    _, errors = validate_submission(d, {"code": "ab"})
    assert [m.code for m in errors["code"]] == ["min_length", "pattern"]


def test_pattern_is_searched_like_form_js():
    d = form({"type": "textfield", "key": "ref", "validate": {"pattern": "WC-[0-9]+"}})
    assert validate_submission(d, {"ref": "Akte WC-42"}) == ({"ref": "Akte WC-42"}, {})
    assert validate_submission(d, {"ref": "Akte 42"})[1]["ref"][0].code == "pattern"


@pytest.mark.parametrize("raw, expected", [("12", 12), ("-3", -3), ("3,5", 3.5), ("2.0", 2), (" 7 ", 7),
                                           ("1 000", 1000)])
def test_number_parsing(raw, expected):
    d = form({"type": "number", "key": "n"})
    clean, errors = validate_submission(d, {"n": raw})
    assert errors == {} and clean["n"] == expected and type(clean["n"]) is type(expected)


def test_number_with_decimal_digits_is_float_and_int_digits_is_int():
    d = form({"type": "number", "key": "a", "decimalDigits": 2}, {"type": "number", "key": "b", "decimalDigits": 0})
    clean, errors = validate_submission(d, {"a": "4", "b": "4"})
    assert errors == {} and clean == {"a": 4.0, "b": 4}
    assert type(clean["a"]) is float and type(clean["b"]) is int


@pytest.mark.parametrize("raw, expected", [("2026-12-31", "2026-12-31"), ("31.12.2026", "2026-12-31"),
                                           ("1.2.2027", "2027-02-01")])
def test_dates_become_iso(raw, expected):
    d = form({"type": "datetime", "subtype": "date", "key": "d"})
    assert validate_submission(d, {"d": raw}) == ({"d": expected}, {})


def test_disallow_passed_dates_uses_today():
    d = form({"type": "datetime", "subtype": "date", "key": "d", "disallowPassedDates": True})
    today = date(2026, 6, 1)
    assert validate_submission(d, {"d": "2026-06-01"}, today=today) == ({"d": "2026-06-01"}, {})
    assert validate_submission(d, {"d": "2026-05-31"}, today=today)[1]["d"][0].code == "date_in_past"


def test_checkbox_values():
    d = form({"type": "checkbox", "key": "ok"})
    for raw, expected in [("true", True), ("on", True), ("false", False)]:
        assert validate_submission(d, MultiDict([("ok", raw)])) == ({"ok": expected}, {})
    assert validate_submission(d, MultiDict()) == ({"ok": False}, {})
    # a hidden "false" in front of the checkbox: the last value wins
    assert validate_submission(d, MultiDict([("ok", "false"), ("ok", "true")])) == ({"ok": True}, {})


def test_checklist_keeps_option_types_and_order_without_duplicates():
    d = form({"type": "checklist", "key": "n", "values": [{"label": "eins", "value": 1}, {"label": "zwei", "value": 2}],
              "validate": {"required": True}})
    assert validate_submission(d, MultiDict([("n", "2"), ("n", "1"), ("n", "2")])) == ({"n": [2, 1]}, {})
    assert validate_submission(d, MultiDict())[1]["n"][0].code == "required_choice"
    assert validate_submission(d, MultiDict([("n", "")]))[1]["n"][0].code == "required_choice"


def test_typed_json_values_are_accepted():
    clean, errors = validate_submission(full(), {
        "name": "Ana", "consent": True, "sector": "it", "staff": 5, "salary": 12.25, "languages": ["tr"],
        "family": True, "children": 2, "school": "Grundschule"})
    assert errors == {}
    assert clean["staff"] == 5 and clean["salary"] == 12.25 and clean["consent"] is True
    assert clean["children"] == 2 and clean["school"] == "Grundschule"
    _, errors = validate_submission(full(), {"name": ["Ana"], "consent": "yes", "sector": ["it"], "staff": True})
    assert errors["name"][0].code == "invalid" and errors["sector"][0].code == "invalid_choice"
    assert errors["staff"][0].code == "not_an_integer"


def test_unknown_keys_are_ignored():
    clean, errors = submit(full(), dict(VALID, is_admin="true", _csrf_token="x", submit="1"))
    assert errors == {} and "is_admin" not in clean and "_csrf_token" not in clean and "submit" not in clean


def test_key_named_like_a_schema_method_works():
    d = form({"type": "textfield", "key": "load"}, {"type": "number", "key": "fields"})
    assert validate_submission(d, {"load": "x", "fields": "2"}) == ({"load": "x", "fields": 2}, {})


# --------------------------------------------------------------------------- conditions

def test_hidden_group_drops_values_and_requirements():
    data = dict(VALID, children="abc", school="")  # invalid and missing, but hidden: family unticked
    clean, errors = submit(full(), data)
    assert errors == {}
    assert "children" not in clean and "school" not in clean


def test_shown_group_requires_its_fields():
    _, errors = submit(full(), dict(VALID, family="true"))
    assert set(errors) == {"children"}  # school is hidden while children is empty
    _, errors = submit(full(), dict(VALID, family="true", children="2"))
    assert set(errors) == {"school"}
    clean, errors = submit(full(), dict(VALID, family="true", children="0", school="ignored"))
    assert errors == {} and clean["children"] == 0 and "school" not in clean


def test_hidden_value_is_removed_before_later_conditions():
    d = form({"type": "checkbox", "key": "a"},
             {"type": "textfield", "key": "b", "conditional": {"hide": "=not(a)"}},
             {"type": "textfield", "key": "c", "conditional": {"hide": '=b != "show"'}})
    # b is hidden (a unticked), so its submitted "show" does not count for c's condition
    clean, errors = validate_submission(d, MultiDict([("b", "show"), ("c", "typed")]))
    assert errors == {} and clean == {"a": False}
    clean, _ = validate_submission(d, MultiDict([("a", "true"), ("b", "show"), ("c", "typed")]))
    assert clean == {"a": True, "b": "show", "c": "typed"}


def test_conditions_see_typed_values_and_case_context():
    d = form({"type": "number", "key": "age"},
             {"type": "textfield", "key": "guardian", "validate": {"required": True},
              "conditional": {"hide": "=age >= 18"}},
             {"type": "textfield", "key": "visa", "validate": {"required": True},
              "conditional": {"hide": '=citizenship = "EU"'}})
    _, errors = validate_submission(d, {"age": "17"}, context={"citizenship": "EU"})
    assert set(errors) == {"guardian"}
    _, errors = validate_submission(d, {"age": "40"}, context={"citizenship": "IN"})
    assert set(errors) == {"visa"}
    # the client cannot change case data used by conditions: citizenship is no form field
    _, errors = validate_submission(d, {"age": "40", "citizenship": "EU"}, context={"citizenship": "IN"})
    assert set(errors) == {"visa"}


def test_list_contains_condition_on_checklist():
    d = form({"type": "checklist", "key": "docs", "values": [{"label": "Pass", "value": "passport"},
                                                              {"label": "Visum", "value": "visa"}]},
             {"type": "datetime", "key": "visa_until", "subtype": "date", "validate": {"required": True},
              "conditional": {"hide": '=not(list contains(docs, "visa"))'}})
    assert validate_submission(d, MultiDict([("docs", "passport")])) == ({"docs": ["passport"]}, {})
    _, errors = validate_submission(d, MultiDict([("docs", "visa")]))
    assert set(errors) == {"visa_until"}


def test_a_condition_that_is_null_is_met_as_in_form_js():
    # form-js reads `=amount < 1000` as a unary test: while amount is empty the value is null,
    # and null is met, so the reason stays hidden (and not required) until an amount is typed
    d = form({"type": "number", "key": "amount"},
             {"type": "textfield", "key": "reason", "validate": {"required": True},
              "conditional": {"hide": "=amount < 1000"}},
             {"type": "textfield", "key": "note", "readonly": "=locked"})
    assert evaluate(d).hidden_ids == {"Field_reason"} and evaluate(d).readonly_keys == {"note"}
    assert validate_submission(d, {"note": "x"}) == ({"amount": None}, {})  # note: read-only while locked is null
    assert set(validate_submission(d, {"amount": "1500"})[1]) == {"reason"}
    assert validate_submission(d, {"amount": "500"})[1] == {}


def test_readonly_and_disabled_fields_are_never_taken_from_the_submission():
    d = form({"type": "textfield", "key": "ref", "readonly": True, "validate": {"required": True}},
             {"type": "number", "key": "fee", "disabled": True},
             {"type": "textfield", "key": "note", "readonly": "=locked"})
    clean, errors = validate_submission(d, {"ref": "HACK", "fee": "0", "note": "x"}, context={"locked": True})
    assert errors == {} and clean == {}
    clean, errors = validate_submission(d, {"note": "x"}, context={"locked": False})
    assert clean == {"note": "x"}


def test_values_key_options_come_from_the_context_only():
    d = form({"type": "select", "key": "advisor", "valuesKey": "advisors", "validate": {"required": True}})
    ctx = {"advisors": [{"label": "Frau A", "value": "a"}, "b"]}
    assert validate_submission(d, {"advisor": "b"}, context=ctx) == ({"advisor": "b"}, {})
    assert validate_submission(d, {"advisor": "c", "advisors": ["c"]}, context=ctx)[1]["advisor"][0].code == \
        "invalid_choice"
    state = evaluate(d, context=ctx)
    assert [(o.label, o.value) for o in state.options["advisor"]] == [("Frau A", "a"), ("b", "b")]


def test_evaluate_uses_defaults_and_build_schema_skips_hidden_fields():
    d = form({"type": "radio", "key": "kind", "defaultValue": "firm",
              "values": [{"label": "Firma", "value": "firm"}, {"label": "Person", "value": "person"}]},
             {"type": "textfield", "key": "firm_name", "conditional": {"hide": '=kind != "firm"'}},
             {"type": "textfield", "key": "person_name", "conditional": {"hide": '=kind != "person"'}})
    state = evaluate(d)
    assert state.hidden_ids == {"Field_person_name"}
    schema = build_schema(d, state)
    assert {f.data_key for f in schema.fields.values()} == {"kind", "firm_name"}
    assert schema.load({"kind": "firm", "firm_name": "ACME"}) == {"kind": "firm", "firm_name": "ACME"}


def test_submission_values_and_draft_keep_what_was_typed():
    md = MultiDict([("name", " Ana "), ("staff", "zwölf"), ("salary", "3,5"), ("languages", "de"),
                    ("languages", ""), ("extra", "x"), ("zip", "")])
    raw = submission_values(full(), md)
    assert raw == {"name": "Ana", "staff": "zwölf", "salary": "3,5", "languages": ["de"]}
    draft = parse_draft(full(), md)
    assert draft == {"name": "Ana", "staff": "zwölf", "salary": 3.5, "languages": ["de"]}


def test_prefix_reads_prefixed_names():
    d = form({"type": "textfield", "key": "a", "validate": {"required": True}})
    assert validate_submission(d, {"t1-a": "x", "a": ""}, prefix="t1-") == ({"a": "x"}, {})


def test_form_message_survives_copy():
    m = FormMessage("min", min="3")
    c = copy.deepcopy(m)
    assert (c.code, c.params, str(c)) == ("min", {"min": "3"}, str(m))


def test_a_form_validated_again_takes_the_options_of_each_context():
    d = form({"type": "select", "key": "advisor", "valuesKey": "advisors", "validate": {"required": True}})
    assert validate_submission(d, {"advisor": "a"}, context={"advisors": ["a"]}) == ({"advisor": "a"}, {})
    assert validate_submission(d, {"advisor": "a"}, context={"advisors": ["b"]})[1]["advisor"][0].code == \
        "invalid_choice"
    assert validate_submission(d, {"advisor": "b"}, context={"advisors": ["b"]}) == ({"advisor": "b"}, {})
    # options equal in Python but not in type: each context's own value is taken
    clean, _ = validate_submission(d, {"advisor": 1}, context={"advisors": [{"label": "Eins", "value": 1}]})
    assert clean == {"advisor": 1} and type(clean["advisor"]) is int
    clean, _ = validate_submission(d, {"advisor": 1.0}, context={"advisors": [{"label": "Eins", "value": 1.0}]})
    assert clean == {"advisor": 1.0} and type(clean["advisor"]) is float
