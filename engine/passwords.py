"""The password rule: at least MIN_LENGTH characters and not a common password.

The common passwords are the 30,000 most frequent of a leaked-password corpus that the zxcvbn
package ships (`zxcvbn.frequency_lists`, the "passwords" list); compared case-insensitively. Few of
them are 12 characters long, so a password is also refused when it is a listed one with digits or
signs appended ("password123456", "qwertz!!!!!!"), or
only digits and signs that begin with a listed one ("123456789012").
"""
import re
from functools import lru_cache

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS
    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


_TRAILING = re.compile(r"[\d\W_]+$")


def is_common(password: str) -> bool:
    folded = password.casefold()
    base = _TRAILING.sub("", folded)
    if not base:        # only digits and signs: "123456789012" starts with a listed "123456789"
        return any(folded[:n] in _common() for n in range(6, len(folded) + 1))
    return folded in _common() or base in _common()


def problem(password: str):
    """Why `password` may not be used (a lazy message), or None."""
    if len(password) < MIN_LENGTH:
        return _l("Das Passwort muss mindestens %(count)s Zeichen lang sein.", count=MIN_LENGTH)
    if is_common(password):
        return _l("Dieses Passwort steht in einer Liste häufig benutzter Passwörter. Bitte wählen Sie ein anderes.")
    return None
