#!/usr/bin/env python3
"""The official Python SDKs as clients of the gateway (tests/gateway/clients.rs).

    sdk_client.py SPEC.json

SPEC: {"base_url": "http://127.0.0.1:PORT", "id": "...", "originals": [...]}.
Runs the Anthropic SDK (messages.stream() with get_final_message(), create(),
count_tokens(), a tool history) and the OpenAI SDK's chat completion stream
against the gateway, whose upstream is the echoing mock (tests/gateway/mock.rs),
and prints one JSON report: {"anthropic": {...}, "openai": {...}}, each check
with the parsed values the SDK returned. Exit 3 when a package is missing.
"""

import json
import sys

try:
    import anthropic
    import openai
except ImportError as e:  # pragma: no cover - the Rust test reports it
    print(f"sdk_client: {e}: `make sdks` (or `make test`) installs the SDKs into .venv", file=sys.stderr)
    sys.exit(3)


def main():
    spec = json.load(open(sys.argv[1]))
    originals = spec["originals"]
    headers = {"x-e2e-id": spec["id"]}
    prompt = "Which of these need attention? " + ", ".join(originals)
    bash = {
        "name": "Bash",
        "description": "Run a shell command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}},
    }
    client = anthropic.Anthropic(
        base_url=spec["base_url"], api_key="sk-ant-dummy", default_headers=headers, max_retries=0
    )
    report = {"anthropic": {}, "openai": {}, "versions": {"anthropic": anthropic.__version__, "openai": openai.__version__}}

    def message_of(msg):
        text = "".join(b.text for b in msg.content if b.type == "text")
        tools = [b.input for b in msg.content if b.type == "tool_use"]
        return {"text": text, "tool_inputs": tools, "stop_reason": msg.stop_reason}

    with client.messages.stream(
        model="claude-sonnet-4-5", max_tokens=1024, tools=[bash],
        messages=[{"role": "user", "content": prompt}],
    ) as stream:
        streamed_text = "".join(stream.text_stream)
        final = stream.get_final_message()
    report["anthropic"]["stream"] = dict(message_of(final), streamed_text=streamed_text)

    created = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=1024, tools=[bash],
        messages=[{"role": "user", "content": prompt}],
    )
    report["anthropic"]["create"] = message_of(created)

    counted = client.messages.count_tokens(
        model="claude-sonnet-4-5", messages=[{"role": "user", "content": prompt}],
    )
    report["anthropic"]["count_tokens"] = {"input_tokens": counted.input_tokens}

    history = [
        {"role": "user", "content": prompt},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_01", "name": "Bash",
             "input": {"command": "aws ec2 describe-instances --instance-ids " + " ".join(originals)}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "\n".join(originals)},
        ]},
    ]
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=1024, tools=[bash], messages=history) as s:
        report["anthropic"]["tool_history"] = message_of(s.get_final_message())

    oai = openai.OpenAI(base_url=spec["base_url"] + "/v1", api_key="sk-dummy", default_headers=headers, max_retries=0)
    chunks = oai.chat.completions.create(
        model="gpt-mock", stream=True, messages=[{"role": "user", "content": prompt}],
    )
    text, arguments = "", ""
    seen = []
    for c in chunks:
        seen.append(c.model_dump_json(exclude_none=True))
        if not c.choices:
            continue
        delta = c.choices[0].delta
        text += delta.content or ""
        for call in delta.tool_calls or []:
            arguments += (call.function.arguments or "") if call.function else ""
    try:
        parsed = json.loads(arguments)
    except ValueError as e:
        raise SystemExit(f"OpenAI tool call arguments are no JSON ({e}): {arguments!r}\n" + "\n".join(seen))
    report["openai"]["stream"] = {"text": text, "tool_arguments": parsed}

    print(json.dumps(report))


if __name__ == "__main__":
    main()
