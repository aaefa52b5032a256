"""bpmn.io form-js forms (`forms/*.form`): the definition, its expressions, the state data gives it,
and validating a submission. Pure and request-independent (no Flask).

- the expression language is `engine.feel` (a safe FEEL subset, shared with the DMN tables);
- `definition`: loading and checking a form-js schema (`FormDefinition`);
- `values`: parsing single submitted values (numbers, dates, ticks, option tokens);
- `state`: what the data makes of a form (`evaluate`: hidden, read-only, options) and reading a
  submission into that data;
- `validation`: the marshmallow schema for a submission (`validate_submission`) and its messages.

What the server accepts is decided here, never by the browser: hidden fields are neither
required nor taken over, read-only and disabled fields are never taken from a submission,
options of select/radio/checklist/taglist are checked against the definition (or against the
case data named by `valuesKey`, never against anything the client sends).
"""
from engine.forms.definition import (CHOICE_TYPES, INPUT_TYPES, LAYOUT_TYPES, MULTI_TYPES, Component,
                                     FormDefinition, FormDefinitionError, Option)
from engine.feel import Expression, FeelError, compile_expression, evaluate_expression
from engine.forms.state import FormState, evaluate, parse_draft, submission_state, submission_values
from engine.forms.validation import MESSAGES, FormMessage, build_schema, validate_submission
from engine.forms.values import (TRUE_STRINGS, option_token, parse_date, parse_number, parse_time,
                                 read_submitted)

__all__ = [
    "FormDefinitionError", "FormDefinition", "Component", "Option", "FormMessage", "FormState",
    "FeelError", "Expression", "compile_expression", "evaluate_expression", "evaluate", "build_schema",
    "validate_submission", "submission_values", "parse_draft", "MESSAGES", "INPUT_TYPES", "LAYOUT_TYPES",
    "CHOICE_TYPES", "MULTI_TYPES", "option_token", "read_submitted", "TRUE_STRINGS", "submission_state",
    "parse_number", "parse_date", "parse_time",
]
