"""The API's browsable page: Swagger UI (npm swagger-ui-dist, bundled by assets/build.mjs) on the OpenAPI
document at /api/v1/openapi.json. Both are public: they describe the API, they hold no data."""
from flask import Blueprint, render_template

bp = Blueprint("api_docs_page", __name__, template_folder="templates")


@bp.route("/api/v1/docs")
def docs():
    return render_template("api/docs.html")
