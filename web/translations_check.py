"""`make translations-check`: what is missing, per language, of the texts workers read.

Worker-facing texts are
- the catalog entries used by the worker's pages (`web/worker/`) and the forms they render
  (`web/forms_html.py`, `engine/forms/`): every language of `engine.worker_links.WORKER_LANGUAGES`;
- the process texts of worker tasks (candidate group `worker` in `bpmn/`): the step's `name:<lang>` and
  the texts of its form (`translations` in `forms/<form>.form`).

Prints one line per missing text and language; exits 1 if a worker-facing text has no English
(`tests/test_translations.py` runs the same check), 0 otherwise: other languages may lag behind
(the page then shows English and says so).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from defusedxml import ElementTree

from engine.worker_links import WORKER_LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "web" / "translations"
WORKER_SOURCES = ("web/worker/", "web/forms_html.py", "engine/forms/")
_CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_FORM_TEXTS = ("label", "description", "text")


def catalog_gaps() -> dict[str, list[str]]:
    """{language: [msgid]} of worker-facing catalog entries without a translation."""
    gaps = {}
    for language in WORKER_LANGUAGES:
        if language == "de":
            continue
        path = CATALOGS / language / "LC_MESSAGES" / "messages.po"
        if not path.exists():
            gaps[language] = ["(no catalog)"]
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        gaps[language] = [m.id for m in catalog if m.id and not m.string
                          and any(loc.startswith(WORKER_SOURCES) for loc, _line in m.locations)]
    return gaps


def _form_texts(schema: dict):
    def walk(components):
        for comp in components or []:
            for prop in _FORM_TEXTS:
                value = comp.get(prop)
                if isinstance(value, str) and value.strip() and not value.startswith("=") and "{{" not in value:
                    yield value
            for option in comp.get("values") or []:
                if isinstance(option, dict) and isinstance(option.get("label"), str):
                    yield option["label"]
            yield from walk(comp.get("components"))
    yield from walk(schema.get("components"))


def process_gaps(root: Path = ROOT) -> dict[str, list[str]]:
    """{language: [where: text]} of worker tasks' titles and form texts without a translation."""
    gaps = {language: [] for language in WORKER_LANGUAGES if language != "de"}
    for bpmn in sorted((root / "bpmn").glob("*.bpmn")):
        for task in ElementTree.parse(bpmn).getroot().iter(f"{_BPMN}userTask"):
            groups = [g.strip() for g in (task.get(f"{_CAMUNDA}candidateGroups") or "").split(",")]
            if "worker" not in groups:
                continue
            props = {p.get("name"): p.get("value") for p in task.iter(f"{_CAMUNDA}property")}
            where = f"{bpmn.name} {task.get('id')}"
            for language in gaps:
                if not props.get(f"name:{language}"):
                    gaps[language].append(f"{where}: name {task.get('name')!r}")
            form = task.get(f"{_CAMUNDA}formRef")
            path = root / "forms" / f"{form}.form"
            if form and path.exists():
                schema = json.loads(path.read_text(encoding="utf-8"))
                translations = schema.get("translations") or {}
                for text in _form_texts(schema):
                    for language in gaps:
                        if not (translations.get(language) or {}).get(text):
                            gaps[language].append(f"{path.name}: {text!r}")
    return gaps


def main() -> int:
    catalog, process = catalog_gaps(), process_gaps()
    for language in catalog:
        missing = catalog[language] + process[language]
        print(f"{language}: {len(missing)} missing")
        for item in missing:
            print(f"  {item}")
    if catalog["en"] or process["en"]:
        print("error: worker-facing texts without English (see 'en' above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
