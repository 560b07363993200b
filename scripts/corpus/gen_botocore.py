#!/usr/bin/env python3
"""Positives from AWS's own text: every example of botocore's
`examples-1.json` files, and the API reference documentation of its
service models that shows customer values, from one pinned botocore
release (scripts/corpus/botocore_src.py). Writes
tests/corpus/positives/botocore.jsonl.

An example is rendered as a user would paste it or a tool would print it:
an AWS CLI call with its JSON output, a boto3 call with the printed
response (a Python repr), or a Messages API request whose tool call
carries the input as JSON and whose tool result carries the output.
Values are labelled by shape and by the member they are the value of
(scripts/corpus/label.py); AWS-owned ARNs, documentation address ranges
and public resolvers are not labelled.

    python3 scripts/corpus/gen_botocore.py [--cache DIR] [--out FILE]
"""

import argparse
import hashlib
import html
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import botocore_src  # noqa: E402
from corpus import Writer, spelled_in_json  # noqa: E402
from label import Labeller  # noqa: E402
from values import Values  # noqa: E402

SEED = 13
# Documentation paragraphs per record, and most doc records per service:
# the reference repeats the same few ARN formats thousands of times.
DOCS_PER_RECORD = 6
MAX_DOC_RECORDS_PER_SERVICE = 4


def kebab(op):
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", op)
    return s.lower()


def snake(op):
    return kebab(op).replace("-", "_")


def strings(obj, key=None):
    """(key, string) of every string in a JSON value, keys included."""
    if isinstance(obj, str):
        yield key, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield None, k
            yield from strings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v, key)


def name_keys(models):
    """Members named `...Name` or `...Identifier` whose shape is a free
    string (no enum): the names customers give their resources."""
    keys = set()
    prefixes = set()
    for _, model in models:
        md = model.get("metadata", {})
        for p in (md.get("endpointPrefix"), md.get("signingName")):
            if p:
                prefixes.add(p)
        shapes = model.get("shapes", {})
        for shape in shapes.values():
            for member, ref in shape.get("members", {}).items():
                if not re.search(r"(Name|Identifier)$", member) or member == "Name":
                    continue
                target = shapes.get(ref.get("shape"), {})
                if target.get("type") == "string" and "enum" not in target:
                    keys.add(member)
    return keys, prefixes


def doc_text(doc):
    """A documentation string as a reader copies it from the web page."""
    t = re.sub(r"</?(p|li|ul|ol|note|important|para)>", "\n", doc)
    t = re.sub(r"<[^>]+>", "", t)
    t = html.unescape(t)
    t = re.sub(r"[ \t]+", " ", t)
    return re.sub(r"\n\s*\n+", "\n\n", t).strip()


def docs_of(model):
    out = []

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "documentation" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(model)
    return out


class Gen:
    def __init__(self, bc, out):
        self.models = list(bc.models())
        keys, prefixes = name_keys(self.models)
        self.lab = Labeller(prefixes, keys)
        self.v = Values(SEED)
        self.w = Writer(out, self.v)
        self.bc = bc

    def labels(self, service, objs, texts):
        out = []
        for obj in objs:
            for key, s in strings(obj):
                self.lab.by_shape(s, out)
                self.lab.by_key(service, key, s, out)
        for t in texts:
            self.lab.by_shape(t, out)
        # A value recognised by its shape keeps that kind, not the kind
        # of the member it sits under.
        shaped = {x for x, k in out if k != "named_resources"}
        return [(x, k) for x, k in out if k != "named_resources" or x not in shaped]

    def pick(self, ident, n):
        return int(hashlib.sha256(ident.encode()).hexdigest(), 16) % n

    def example(self, svc, op, i, ex):
        inp = ex.get("input") or {}
        outp = ex.get("output") or {}
        title = ex.get("title") or ""
        desc = ex.get("description") or ""
        ident = ex.get("id") or f"{svc}-{op}-{i}"
        labels = self.labels(svc, [inp, outp], [title, desc])
        if not labels:
            return
        form = self.pick(ident, 4)
        source = f"botocore {botocore_src.VERSION}: data/{svc}/*/examples-1.json {op} [{i}] ({ident})"
        if form == 0:
            text = f"# {title}\n# {desc}\n$ aws {svc} {kebab(op)} --cli-input-json '{json.dumps(inp)}'\n"
            if outp:
                text += json.dumps(outp, indent=4) + "\n"
            self.w.add("botocore_cli", text, labels, source, body="text")
        elif form == 1:
            args = ",\n".join(f"    {k}={v!r}" for k, v in inp.items())
            text = (f"import boto3\n\n# {title}\nclient = boto3.client({svc!r})\n"
                    f"response = client.{snake(op)}(\n{args}\n)\nprint(response)\n")
            if outp:
                text += f">>> {outp!r}\n"
            labels = [(x, k) for x, k in labels if x in text]
            self.w.add("botocore_python", text, labels, source, body="text")
        elif form == 2:
            text = f"{desc}\n\nInput:\n{json.dumps(inp, indent=2)}\n\nOutput:\n{json.dumps(outp, indent=2)}\n"
            self.w.add("botocore_text", text, labels, source, body="json")
        else:
            tid = "toolu_01" + self.v.chars("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789", 22)
            body = {
                "model": "claude-sonnet-4-5-20250929", "max_tokens": 16000, "stream": True,
                "system": [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."}],
                "messages": [
                    {"role": "user", "content": title or f"Run {op}"},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": desc},
                        {"type": "tool_use", "id": tid, "name": "aws_api",
                         "input": {"service": svc, "operation": op, "parameters": inp}}]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": tid, "content": json.dumps(outp, indent=2)}]},
                ],
            }
            text = json.dumps(body, ensure_ascii=False, indent=None, separators=(",", ":"))
            spelled = []
            for x, k in labels:
                once = spelled_in_json(x)
                twice = spelled_in_json(once)
                spelled.append((once, k))
                if twice != once and twice in text:
                    spelled.append((twice, k))
            spelled = [(x, k) for x, k in spelled if x in text]
            self.w.add("botocore_messages", text, spelled, source, body="json", prewrapped=True)

    def documentation(self, svc, model):
        seen = set()
        paras = []
        for d in docs_of(model):
            t = doc_text(d)
            if t in seen or len(t) > 3000:
                continue
            seen.add(t)
            found = []
            self.lab.by_shape(t, found)
            if found:
                paras.append((t, found))
        for n, start in enumerate(range(0, len(paras), DOCS_PER_RECORD)):
            if n >= MAX_DOC_RECORDS_PER_SERVICE:
                break
            chunk = paras[start:start + DOCS_PER_RECORD]
            text = "\n\n".join(t for t, _ in chunk) + "\n"
            labels = [lv for _, f in chunk for lv in f]
            source = f"botocore {botocore_src.VERSION}: data/{svc}/*/service-2.json documentation"
            self.w.add("botocore_docs", text, labels, source, wrap_ratio=0.3)

    def run(self):
        for svc, data in self.bc.examples():
            for op, exs in sorted(data.get("examples", {}).items()):
                for i, ex in enumerate(exs):
                    self.example(svc, op, i, ex)
        for svc, model in self.models:
            self.documentation(svc, model)
        return self.w.write()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=None, help="directory of the cached botocore wheel")
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "corpus", "positives", "botocore.jsonl"))
    args = ap.parse_args()
    bc = botocore_src.Botocore(botocore_src.wheel_path(args.cache))
    g = Gen(bc, os.path.normpath(args.out))
    n = g.run()
    print(f"{g.w.path}: {n} records")


if __name__ == "__main__":
    main()
