"""The app's templates escape every output value exactly as markupsafe's `escape` does (web/templating.py
writes `escape_text` in its place, which returns text rather than a Markup)."""
import re

import jinja2
import pytest
from markupsafe import Markup, escape

from web.templating import escape_text


class Html:
    def __html__(self):
        return "<b>safe</b>"

    def __repr__(self):     # the test's id: the same in every xdist worker (the default repr holds an address)
        return "Html()"


class Text(str):
    pass


VALUES = ["plain", "<script>alert('x') & \"y\"</script>", "", "Müller & Söhne <GmbH>", Text("<em>'sub'</em>"),
          Markup("<i>already safe</i>"), Html(), 42, 3.5, None, True, ["<a>", 1], jinja2.Undefined(name="gone")]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_escape_text_gives_what_escape_gives(value):
    assert escape_text(value) == str(escape(value))
    assert type(escape_text(value)) is str or isinstance(value, (Markup, Html))


def test_the_apps_templates_escape_every_value_as_markupsafe_does(app):
    source = ("{% for v in values %}[{{ v }}|{{ v ~ '<' }}|{{ v if v else '&' }}]{% endfor %}"
              "{% set block %}{{ values[1] }}{% endset %}{{ block }}"
              "{% autoescape escaping %}({{ values[1] }}){% endautoescape %}")    # decided when rendered
    plain = jinja2.Environment(autoescape=True)
    for escaping in (True, False):
        expected = plain.from_string(source).render(values=VALUES, escaping=escaping)
        assert app.jinja_env.from_string(source).render(values=VALUES, escaping=escaping) == expected
    assert "&lt;script&gt;alert(&#39;x&#39;) &amp; &#34;y&#34;&lt;/script&gt;" in expected
    compiled = app.jinja_env.compile(source, raw=True)
    assert "escape_text(" in compiled                  # the app's templates do take this path


def test_the_templates_links_are_flasks_links_under_any_script_root(app):
    source = ("{{ url_for('advisor.inbox') }} {{ url_for('static', filename='css/lotse.css') }} "
              "{{ url_for('advisor.inbox', view='group') }} {{ url_for('advisor.deadlines', _anchor='x') }}")
    from flask import url_for
    for root in ("", "/lotse", "", "/other"):           # the same links again, and under other roots
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
            expected = (f"{url_for('advisor.inbox')} {url_for('static', filename='css/lotse.css')} "
                        f"{url_for('advisor.inbox', view='group')} {url_for('advisor.deadlines', _anchor='x')}")
            assert app.jinja_env.from_string(source).render() == expected
            assert re.fullmatch(f"{root}/ {root}/static/css/lotse.css\\?v=[0-9a-f]{{12}} {root}/\\?view=group "
                                f"{root}/deadlines#x", expected)


def test_a_render_leaves_what_the_view_passed_to_reference_counting_not_to_the_garbage_collector(app):
    """A template's macros are closures over the render's context: without web.templating.Template, the
    context and every value passed in would stay until the next collection (a cycle)."""
    import gc
    import weakref

    class Rows(list):
        pass

    source = "{% macro cell(v) %}<td>{{ v }}{{ mark }}</td>{% endmacro %}{% for r in rows %}{{ cell(r) }}{% endfor %}"
    with app.test_request_context():
        template = app.jinja_env.from_string(source)
        rows = Rows(["<a>", 1])
        gone = weakref.ref(rows)
        gc.disable()
        try:
            assert template.render(rows=rows, mark="*") == "<td>&lt;a&gt;*</td><td>1*</td>"
            del rows
            assert gone() is None
        finally:
            gc.enable()
    assert isinstance(template, jinja2.Template)


def test_a_failing_render_still_raises_the_templates_error(app):
    with app.test_request_context(), pytest.raises(ZeroDivisionError):
        app.jinja_env.from_string("{% macro m() %}x{% endmacro %}{{ m() }}{{ 1 // 0 }}").render()
