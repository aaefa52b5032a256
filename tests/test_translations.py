"""Every worker-facing text has English (what `make translations-check` checks; CI fails without it)."""
import shutil

from web import translations_check


def test_every_worker_facing_text_has_english():
    assert translations_check.catalog_gaps()["en"] == []
    assert translations_check.process_gaps()["en"] == []


def test_the_check_finds_a_worker_task_without_english(tmp_path):
    (tmp_path / "bpmn").mkdir()
    (tmp_path / "forms").mkdir()
    shutil.copy("tests/fixtures/forms/wk_address.form", tmp_path / "forms")
    text = open("tests/fixtures/bpmn/wk_steps.bpmn", encoding="utf-8").read()
    (tmp_path / "bpmn" / "wk_steps.bpmn").write_text(text.replace('name="name:en"', 'name="name:xx"'),
                                                     encoding="utf-8")
    gaps = translations_check.process_gaps(tmp_path)
    assert gaps["en"] == ["wk_steps.bpmn register_address: name 'Melden Sie Ihre Adresse an'"]
    assert "wk_address.form: 'Angemeldet am'" in gaps["tr"]
