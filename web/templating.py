"""How the app's templates compile: every `{{ … }}` is still autoescaped, into plain text.

Jinja's compiled templates pass each value they output through markupsafe's `escape`, which wraps the escaped
text in a new `Markup` (a Python-level `__new__` per value) only for the template to join it into the page
straight away. A page writes hundreds of values (the inbox about 25 a row), so that wrapper was a large part
of a page's CPU. `escape_text` escapes exactly as `escape` does and returns the text: the same bytes, with
no value left unescaped. `tests/web/test_templating.py` holds it to `escape`'s output.
"""
from jinja2 import compiler
from markupsafe import _escape_inner     # markupsafe's own escaping of a str (C), which `escape` calls


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


def init_app(app):
    """Before the first template compiles."""
    app.jinja_env.code_generator_class = TextEscapingCodeGenerator
