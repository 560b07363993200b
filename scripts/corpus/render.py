"""Renderers for the shapes tools print: AWS CLI --output text/table,
Markdown and CSV tables, Python reprs, YAML and HCL blocks."""

import json


def cli_table(title, rows, width=None):
    """AWS CLI --output table of key/value rows (a list of (key, value)),
    optionally grouped: rows may hold ("## Section", None) lines."""
    body = [(k, v) for k, v in rows if v is not None]
    kw = max([len(k) for k, _ in body] + [10]) + 2
    vw = max([len(str(v)) for _, v in body] + [10]) + 2
    inner = kw + vw + 3
    if width:
        inner = max(inner, width)
        vw = inner - kw - 3
    out = ["-" * (inner + 2), "|" + title.center(inner) + "|", "+" + "-" * inner + "+"]
    for k, v in rows:
        if v is None:
            out.append("||" + k.lstrip("# ").center(inner - 2) + "||")
            out.append("|+" + "-" * kw + "+" + "-" * (vw + 1) + "+|")
            continue
        out.append("||  " + k.ljust(kw - 2) + "|  " + str(v).ljust(vw - 1) + "||")
    out.append("|+" + "-" * kw + "+" + "-" * (vw + 1) + "+|")
    return "\n".join(out)


def cli_table_columns(title, headers, rows):
    """AWS CLI --output table with column headers (list results)."""
    widths = [max(len(h), *(len(str(r[i])) for r in rows)) + 2 for i, h in enumerate(headers)]
    inner = sum(widths) + len(widths) - 1
    sep = "+" + "+".join("-" * w for w in widths) + "+"
    out = ["-" * (inner + 2), "|" + title.center(inner) + "|", sep,
           "|" + "|".join(h.center(w) for h, w in zip(headers, widths)) + "|", sep]
    for r in rows:
        out.append("|" + "|".join((" " + str(c)).ljust(w) for c, w in zip(r, widths)) + "|")
    out.append(sep)
    return "\n".join(out)


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def csv_table(headers, rows):
    def cell(c):
        c = str(c)
        return '"' + c.replace('"', '""') + '"' if any(x in c for x in ',"\n') else c
    return "\n".join([",".join(headers)] + [",".join(cell(c) for c in r) for r in rows])


def yaml(obj, indent=0):
    """A small YAML emitter for dicts, lists and scalars (block style)."""
    pad = " " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:")
                lines.append(yaml(v, indent + 2))
            else:
                lines.append(f"{pad}{k}: {scalar(v)}")
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, dict) and v:
                sub = yaml(v, indent + 2).split("\n")
                sub[0] = pad + "- " + sub[0].lstrip()
                lines.extend(sub)
            else:
                lines.append(f"{pad}- {scalar(v)}")
    else:
        lines.append(pad + scalar(obj))
    return "\n".join(lines)


def scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if s == "" or s[0] in "!&*{}[]|>%@`'\"#,?:-" or ": " in s or s.lower() in ("yes", "no", "true", "false", "null", "on", "off") or s.replace(".", "").isdigit():
        return json.dumps(s)
    return s


def py_repr(obj):
    """Python repr of a dict as boto3 prints it (pprint-like, one line)."""
    return repr(obj)


def hcl_value(v, indent):
    pad = " " * indent
    if isinstance(v, dict):
        inner = "\n".join(f"{pad}  {k} = {hcl_value(x, indent + 2)}" for k, x in v.items())
        return "{\n" + inner + f"\n{pad}}}"
    if isinstance(v, list):
        return "[" + ", ".join(hcl_value(x, indent) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v)


def hcl_block(kind, labels, attrs, indent=0):
    pad = " " * indent
    head = kind + "".join(f' "{l}"' for l in labels)
    width = max([len(k) for k in attrs] + [1])
    lines = [f"{pad}{head} {{"]
    for k, v in attrs.items():
        lines.append(f"{pad}  {k.ljust(width)} = {hcl_value(v, indent + 2)}")
    lines.append(pad + "}")
    return "\n".join(lines)
