"""A worker's page in Arabic shows the demo processes' milestones in English (no Arabic text yet): each English
label stays one run, with its date after it (to its left, right to left), not "held 1" glued to a reversed
sentence. Found by the new user's walk through the demo (Maria Santos's personal link in Arabic)."""
from pathlib import Path

from sqlalchemy import select

from engine import demo, worker_links
from engine.db import db
from engine.models import Case, User
from tests.browser.conftest import screenshot
from tests.conftest import deploy_bundle

ROOT = Path(__file__).resolve().parents[2]

# for each milestone reached: the boxes of its label and of its date, as laid out
BOXES = """() => [...document.querySelectorAll('.milestone--done')].map(li => ({
  label: [...li.querySelector('.milestone__label').getClientRects()].map(r => [r.left, r.right]),
  date: [...li.querySelector('.muted').getClientRects()].map(r => [r.left, r.right]),
  text: li.innerText}))"""


def test_english_milestones_on_an_arabic_page_keep_their_words_in_order(ctx, new_page):
    deploy_bundle()
    demo.load()
    maria = db.session.scalar(select(Case).where(Case.subject == "Maria Santos"))
    anna = db.session.scalar(select(User).where(User.username == "berater"))
    _link, token = worker_links.issue(maria, anna, {"language": "ar"})
    db.session.commit()

    page = new_page(locale="ar")           # desktop width: each milestone on one line
    page.goto(f"/w/{token}?lang=ar")
    page.get_by_role("button", name="افتح صفحتي").click()
    page.wait_for_url("**/w/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    milestones = page.evaluate(BOXES)
    assert len(milestones) >= 2 and "Residence route decided" in milestones[1]["text"]   # English: no Arabic yet
    for m in milestones:
        label_left = min(left for left, _right in m["label"])
        assert all(right <= label_left + 1 for _left, right in m["date"]), m
    screenshot(page, "qa-worker-ar-milestones")
