"""Naming templates for the numbers and memos of QuickBooks sales forms (plain Python)."""
import string

DOC_NUMBER_MAX = 21
TEMPLATE_VARIABLES = ("number", "origin", "customer_ref", "customer", "date", "salesperson", "year")
SAMPLE_VALUES = {
    "number": "INV/2025/00042",
    "origin": "S00042",
    "customer_ref": "C-1007",
    "customer": "Harbour Lights Ltd",
    "date": "2025-03-14",
    "salesperson": "Mitchell Admin",
    "year": "2025",
}


class TemplateError(ValueError):
    pass


def template_variables(template):
    """The variables a template uses; raises TemplateError on a malformed or unknown one."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template or ""))
    except ValueError as exc:
        raise TemplateError(str(exc)) from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_VARIABLES or spec or conversion:
            raise TemplateError(field or "{}")
        names.append(field)
    return names


def render_template(template, values):
    template_variables(template)
    return string.Formatter().vformat(template or "", (), {k: values.get(k) or "" for k in TEMPLATE_VARIABLES})
