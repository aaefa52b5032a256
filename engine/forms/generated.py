"""Camunda's generated task forms (`camunda:formData`) as form-js definitions.

A Camunda 7 user task or start event may list its fields in the diagram instead of naming a form:

    <camunda:formField id="loanAmount" label="Loan Amount" type="long" defaultValue="1000">
      <camunda:validation><camunda:constraint name="required"/><camunda:constraint name="max" config="50000"/>
      </camunda:validation></camunda:formField>

`form_data_schema` turns that into the form-js JSON Lotse renders and validates like any deployed
form (string → textfield, textarea → text area, long → number with whole numbers, boolean → checkbox, date → date field,
enum → select with its camunda:value options; constraints required, readonly, minlength, maxlength,
min, max). What has no form-js counterpart raises `GeneratedFormError` naming the field.
"""
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


class GeneratedFormError(ValueError):
    pass


def _c(local):
    return f"{{{CAMUNDA_NS}}}{local}"


def _number(value, field, constraint):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GeneratedFormError(f"form field {field!r}: constraint {constraint} needs a number, not {value!r}") from None
    return int(number) if number.is_integer() else number


def form_data_schema(form_id: str, form_data) -> dict:
    """The form-js schema of a `camunda:formData` element."""
    components = []
    for index, node in enumerate(form_data.iter(_c("formField"))):
        key = node.get("id") or ""
        kind = (node.get("type") or "string").strip()
        label = node.get("label") or key
        component = {"id": f"Field_{index}_{key}"[:64], "key": key, "label": label}
        default = node.get("defaultValue")
        validate = {}
        if kind == "string":
            component["type"] = "textfield"
        elif kind == "textarea":        # not Camunda's own, but the custom type Camunda-dialect users write most
            component["type"] = "textarea"
        elif kind in ("long", "integer", "short", "double"):
            component["type"] = "number"
            if kind != "double":
                component["decimalDigits"] = 0
        elif kind == "boolean":
            component["type"] = "checkbox"
        elif kind == "date":
            component.update(type="datetime", subtype="date", dateLabel=label)
            default = default[:10] if default and len(default) >= 10 and default[4] == "-" else None
        elif kind == "enum":
            options = [{"label": value.get("name") or value.get("id"), "value": value.get("id")}
                       for value in node.iter(_c("value"))]
            if not options:
                raise GeneratedFormError(f"form field {key!r}: an enum field needs camunda:value entries")
            component.update(type="select", values=options)
        else:
            raise GeneratedFormError(f"form field {key!r}: the type {kind!r} is not supported (string, textarea, "
                                     "long, boolean, date, enum)")
        if default not in (None, ""):
            if component["type"] == "number":
                default = _number(default, key, "defaultValue")
            elif component["type"] == "checkbox":
                default = default.strip().lower() == "true"
            component["defaultValue"] = default
        for constraint in node.iter(_c("constraint")):
            name, config = (constraint.get("name") or "").strip(), constraint.get("config")
            if name == "required":
                validate["required"] = True
            elif name == "readonly":
                component["readonly"] = True
            elif name in ("minlength", "maxlength") and component["type"] in ("textfield", "textarea"):
                validate["minLength" if name == "minlength" else "maxLength"] = int(_number(config, key, name))
            elif name in ("min", "max") and component["type"] == "number":
                validate[name] = _number(config, key, name)
            else:
                raise GeneratedFormError(f"form field {key!r}: the constraint {name!r} is not supported on a "
                                         f"{kind} field (required, readonly, minlength/maxlength on strings, min/max "
                                         "on numbers)")
        if validate:
            component["validate"] = validate
        components.append(component)
    if not components:
        raise GeneratedFormError("camunda:formData lists no camunda:formField")
    return {"id": form_id, "type": "default", "schemaVersion": 16, "components": components,
            "exporter": {"name": "Lotse (from camunda:formData)", "version": "1.0"}}

