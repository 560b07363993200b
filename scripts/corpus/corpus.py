"""Record building and writing shared by the corpus generators.

A record is one JSON line:
  {"id", "class", "source", "body": "text"|"json", "text", "values": [{"value", "kind"}]}
Every labelled value occurs verbatim in "text" (checked here). A "json"
record's text is a whole Anthropic Messages API request body with the
artifact inside a tool_result or text block, the way Claude Code sends it.
"""

import json
import os

MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805",
          "claude-haiku-4-5-20251001", "claude-sonnet-4-20250514"]

ASKS = [
    "Why is this failing?", "Can you clean this up?", "What does this output mean?",
    "Summarise the resources here.", "Fix the permissions problem.",
    "Turn this into Terraform.", "Why can't the task reach the database?",
    "Which of these can I delete?", "Review this before I apply it.",
    "The deploy broke after this change, any idea?",
]

READ_PATHS = ["infra/main.tf", "deploy/values.yaml", "config/settings.py", ".env",
              "src/storage.ts", "cmd/worker/main.go", "notes/incident.md",
              "template.yaml", "serverless.yml", "k8s/deployment.yaml",
              "src/main/java/com/acme/S3Client.java", "config/filesystems.php"]

COMMANDS = ["aws sts get-caller-identity", "aws ec2 describe-instances",
            "terraform plan", "kubectl get deploy -o yaml", "cat ~/.aws/config",
            "aws s3 ls", "aws lambda get-function-configuration --function-name x",
            "sam deploy", "cdk diff", "aws logs tail /aws/lambda/x --since 1h"]


def spelled_in_json(value):
    """How a value is spelled inside a JSON string literal."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


class Writer:
    """Collects records of one output file and writes them as JSON Lines."""

    def __init__(self, path, values):
        self.path = path
        self.v = values
        self.records = []
        self.counters = {}

    def add(self, cls, text, labels, source, body=None, wrap_ratio=0.35, prewrapped=False):
        """Adds a record. `labels` is a list of (value, kind); `body` forces
        "text" or "json", otherwise a share `wrap_ratio` is wrapped in a
        Messages request. `prewrapped`: `text` already is a whole JSON
        request body and the labels are spelled as it spells them."""
        seen = set()
        vals = []
        for value, kind in labels:
            if (value, kind) in seen:
                continue
            seen.add((value, kind))
            if value not in text:
                raise ValueError(f"{cls}: labelled value {value!r} not in text:\n{text}")
            vals.append((value, kind))
        if body is None:
            body = "json" if self.v.r.random() < wrap_ratio else "text"
        if body == "json" and not prewrapped:
            text = self.wrap(text)
            vals = [(spelled_in_json(val), kind) for val, kind in vals]
            for val, _ in vals:
                assert val in text, (cls, val)
        n = self.counters.get(cls, 0)
        self.counters[cls] = n + 1
        rec = {"id": f"{cls}-{n:04d}", "class": cls, "source": source, "body": body,
               "text": text, "values": [{"value": val, "kind": kind} for val, kind in vals]}
        self.records.append(rec)
        return rec

    def wrap(self, artifact):
        """A Claude Code shaped request with `artifact` inside it."""
        v = self.v
        r = v.r
        shape = r.randrange(5)
        tid = "toolu_01" + v.chars("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789", 22)
        ask = r.choice(ASKS)
        if shape == 0:
            messages = [
                {"role": "user", "content": ask},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Let me look at that."},
                    {"type": "tool_use", "id": tid, "name": "Bash",
                     "input": {"command": r.choice(COMMANDS), "description": "Inspect the current state"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": tid, "content": artifact}]},
            ]
        elif shape == 1:
            path = "/home/dev/work/" + r.choice(READ_PATHS)
            lines = artifact.split("\n")
            numbered = "\n".join(f"{i + 1:>6}\u2192{line}" for i, line in enumerate(lines))
            messages = [
                {"role": "user", "content": [{"type": "text", "text": ask}]},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": tid, "name": "Read", "input": {"file_path": path}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": tid,
                     "content": [{"type": "text", "text": numbered}]}]},
            ]
        elif shape == 2:
            messages = [{"role": "user", "content": f"{ask}\n\n```\n{artifact}\n```"}]
        elif shape == 3:
            messages = [
                {"role": "user", "content": [
                    {"type": "text", "text": "<system-reminder>\nAs you answer the user's questions, you can use the following context.\n</system-reminder>"},
                    {"type": "text", "text": artifact},
                    {"type": "text", "text": ask, "cache_control": {"type": "ephemeral"}}]},
            ]
        else:
            messages = [
                {"role": "user", "content": ask},
                {"role": "assistant", "content": "I'll run it and check."},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": tid, "is_error": r.random() < 0.3,
                     "content": [{"type": "text", "text": artifact}]},
                    {"type": "text", "text": "keep going"}]},
            ]
        body = {
            "model": r.choice(MODELS),
            "max_tokens": r.choice([8192, 16000, 32000]),
            "system": [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.",
                        "cache_control": {"type": "ephemeral"}}],
            "messages": messages,
            "metadata": {"user_id": f"user_{v.sha256()}_account__session_{v.uuid()}"},
            "stream": True,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    def write(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as f:
            for rec in self.records:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return len(self.records)
