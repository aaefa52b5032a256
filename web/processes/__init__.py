"""Process owners: the deployed processes and their versions, the modeler and editors, deploy,
compare, migration of running cases and process tests (all under /processes)."""
from flask import Blueprint

bp = Blueprint("processes", __name__, url_prefix="/processes", template_folder="templates")

# Each module below registers its routes on `bp`.

from web.processes import compare, migration, views  # noqa: E402,F401  (they register their routes on bp)
