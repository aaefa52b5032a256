"""Request bodies of the API: JSON as RFC 8259 defines it, or a problem that says what is wrong.

Python's json module reads more than JSON and fails in ways a view would turn into a 500: it takes
NaN and Infinity, and reads 1e999 as infinity (a case would then hold data no JSON reader accepts back), it raises ValueError for a
number of more than 4,300 digits and RecursionError for arrays nested some thousand deep. PostgreSQL
cannot store U+0000 in text. A body sent as another media type than JSON is refused (415), not read as
an empty body (which would report its fields as missing).
"""
import json

from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import UnsupportedMediaType

from engine.errors import InvalidData


def _no_constant(name):
    raise InvalidData(f"{name} is not a JSON number")


def _finite(text):
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise InvalidData(f"the number {text[:20]} is too large (at most about 1.8e308)")
    return number


def _path(path) -> str:
    return ".".join(str(part) for part in path)


def _refuse_nul(value) -> None:
    """U+0000 in any text or name of the body: InvalidData naming where (iterative: depth is bounded by json)."""
    stack = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidData("text with the character U+0000, which Lotse cannot store", field=_path(path))
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise InvalidData("a name with the character U+0000", field=_path((*path, key)))
                stack.append(((*path, key), child))
        elif isinstance(item, list):
            stack += [((*path, index), child) for index, child in enumerate(item)]


def load(raw: bytes):
    """The JSON document `raw`, or InvalidData naming what is wrong (an empty body: webargs' `missing`)."""
    if not raw.strip():
        return core.missing
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError as error:
        raise InvalidData(f"the body is not UTF-8 (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise InvalidData(f"the body is not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise InvalidData("the body nests arrays or objects too deep") from None
    except ValueError:                  # int's limit on digits
        raise InvalidData("the body holds a number with more than 4,300 digits") from None
    _refuse_nul(value)
    return value


class JsonBodyParser(FlaskParser):
    def _raw_load_json(self, req):
        if not is_json_request(req):
            if req.get_data(cache=True).strip():
                raise UnsupportedMediaType(f"send the body as application/json, not {req.mimetype or 'untyped'}")
            return core.missing
        return load(req.get_data(cache=True))
