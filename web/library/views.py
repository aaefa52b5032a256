"""The library's pages: the list of items, one item's form (new or existing), deleting one."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import info_library
from engine.errors import InvalidFields
from engine.worker_links import WORKER_LANGUAGES
from web.library import bp
from web.permissions import library_required

# Each language in its own name (as the worker's language choice shows it), in WORKER_LANGUAGES' order.
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English", "ar": "العربية", "tr": "Türkçe", "uk": "Українська",
                  "ru": "Русский"}


@bp.get("/")
@library_required
def index():
    return render_template("library/index.html", items=info_library.library(current_user), names=LANGUAGE_NAMES)


def _form(item, status=200, errors=None):
    return render_template("library/item.html", item=item, form=request.form if errors else None,
                           errors=errors or {},
                           languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in WORKER_LANGUAGES]), status


@bp.route("/new", methods=["GET", "POST"])
@library_required
def item_new():
    if request.method == "GET":
        return _form(None)
    try:
        item = info_library.save(current_user, None, request.form)
    except InvalidFields as exc:
        return _form(None, 422, exc.errors)
    flash(_("„%(title)s“ ist in der Bibliothek.", title=item.title), "success")
    return redirect(url_for("library.index"))


@bp.route("/<int:item_id>", methods=["GET", "POST"])
@library_required
def item(item_id):
    if request.method == "GET":
        return _form(info_library.item(current_user, item_id))
    try:
        found = info_library.save(current_user, item_id, request.form)
    except InvalidFields as exc:
        return _form(info_library.item(current_user, item_id), 422, exc.errors)
    flash(_("„%(title)s“ ist gespeichert.", title=found.title), "success")
    return redirect(url_for("library.index"))


@bp.post("/<int:item_id>/delete")
@library_required
def item_delete(item_id):
    info_library.delete(current_user, item_id)
    flash(_("Der Eintrag ist gelöscht."), "success")
    return redirect(url_for("library.index"))

