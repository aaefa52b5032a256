"""How the app's templates compile, render and link: every `{{ … }}` is still autoescaped, into plain text; a
render leaves no garbage cycle behind; the fixed links are built once.

Jinja's compiled templates pass each value they output through markupsafe's `escape`, which wraps the escaped
text in a new `Markup` (a Python-level `__new__` per value) only for the template to join it into the page
straight away. A page writes hundreds of values (the inbox about 25 a row), so that wrapper was a large part
of a page's CPU. `escape_text` escapes exactly as `escape` does and returns the text: the same bytes, with
no value left unescaped. `tests/web/test_templating.py` holds it to `escape`'s output.
"""
from flask import has_request_context, request
import jinja2
from jinja2 import compiler
from markupsafe import _escape_inner     # markupsafe's own escaping of a str (C), which `escape` calls

from web import static_files


def escape_text(value, str=str) -> str:
    """`str(markupsafe.escape(value))`: a str is escaped, an object with `__html__` gives its HTML, anything
    else is escaped as its `str()`."""
    if type(value) is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    return _escape_inner(str(value))


class TextEscapingCodeGenerator(compiler.CodeGenerator):
    """Writes `escape_text(…)` where Jinja writes `escape(…)` around an output in autoescaped code. Where
    autoescaping is decided at render time (`{% autoescape %}` with an expression), Jinja's code stays."""

    def visit_Template(self, node, frame=None):
        self.writeline(f"from {__name__} import escape_text")
        super().visit_Template(node, frame)

    def _output_child_pre(self, node, frame, finalize):
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("escape_text(")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)


class Template(jinja2.Template):
    """A render's context forgets its variables when the render ends. A template's macros are closures over
    the context and are kept in its variables: a cycle, so the context and everything the view passed in (a
    page's rows, the session's user, …) could only be freed by the garbage collector, a few hundred objects a
    page, which made a young-generation collection every two or three requests. Without the variables the
    context is freed as soon as the render returns, and with it the page's data."""

    def render(self, *args, **kwargs) -> str:
        if self.environment.is_async:
            return super().render(*args, **kwargs)
        context = self.new_context(dict(*args, **kwargs))
        try:
            return self.environment.concat(self.root_render_func(context))
        except Exception:
            self.environment.handle_exception()
        finally:
            context.vars.clear()


def fixed_links(url_for, static_versions):
    """The templates' `url_for`: a link with no values (or a static file's) is the same for every request of
    an app under one script root, and a page's header alone makes about fifteen, each a few µs in werkzeug's
    builder; so those are built once. Any other link, or outside a request, is `url_for`'s; so is a static
    file's while `static_versions` rechecks the files (development: its version may change)."""
    built: dict = {}

    def template_url_for(endpoint, **values):
        # the cheapest tests first: most links with values are a view's, most without are fixed
        if (values and (endpoint != "static" or any(name[:1] == "_" for name in values))) or endpoint[:1] == "." \
                or (endpoint == "static" and static_versions.recheck) or not has_request_context():
            return url_for(endpoint, **values)
        key = (request.script_root, endpoint, *values.items())
        link = built.get(key)
        if link is None:
            link = built[key] = url_for(endpoint, **values)
        return link
    return template_url_for


def init_app(app):
    """Before the first template compiles, after `web.static_files`."""
    app.jinja_env.code_generator_class = TextEscapingCodeGenerator
    app.jinja_env.template_class = Template
    app.jinja_env.globals["url_for"] = fixed_links(app.url_for, static_files.versions(app))
