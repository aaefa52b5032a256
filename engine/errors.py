"""Errors the engine raises to its callers (web views, the CLI, jobs). Each has a plain message."""


class LotseError(Exception):
    """Base class: `str(error)` is a message a user can read."""


class NotFound(LotseError):
    """No such object, or not one this user may see (the web answers 404 either way)."""


class UnreadableDefinition(LotseError):
    """A process version's stored specs cannot be restored (written by another engine version, or damaged)."""


class Forbidden(LotseError):
    """The user may see the object but not do this to it."""


class Conflict(LotseError):
    """Someone else changed the case first (task completed, claimed, case moved on)."""


class InvalidData(LotseError):
    """Data that cannot be stored in a case (e.g. a key the serializer cannot round-trip)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class Problem:
    """One thing wrong with a deployment, named by file and BPMN element."""

    def __init__(self, file, message, element_id=None, line=None):
        self.file, self.message, self.element_id, self.line = file, message, element_id, line

    def __str__(self):
        where = self.file
        if self.element_id:
            where += f" [{self.element_id}]"
        if self.line:
            where += f" line {self.line}"
        return f"{where}: {self.message}"

    def as_dict(self):
        return {"file": self.file, "element_id": self.element_id, "line": self.line, "message": self.message}


class DeploymentRejected(LotseError):
    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("deployment rejected: " + "; ".join(str(p) for p in self.problems))


class InvalidFields(InvalidData):
    """Input with one or more wrong fields: {field: message}, each naming what is wrong."""

    def __init__(self, errors: dict):
        self.errors = dict(errors)     # messages may be lazy: translated when shown, in the reader's language
        super().__init__("", field=next(iter(self.errors), None))

    def __str__(self):
        return "; ".join(f"{field}: {message}" for field, message in self.errors.items())
