//! Real clients through the gateway: the Claude Code CLI (`claude -p`,
//! from npm, pinned in the Makefile), pointed at a real Envoy with the
//! filter by `ANTHROPIC_BASE_URL`, against the scripted model
//! (`scripted.rs`); the official Anthropic SDKs for Python and TypeScript
//! and the OpenAI Python SDK against the echoing mock (`sdk_client.py`,
//! `sdk_client.cjs`). The CLI comes from `AWS_MASKER_CLAUDE` (default
//! `.tools/claude-code/node_modules/.bin/claude`, `make claude-code`), the
//! SDKs from `make sdks`; a missing one fails its test, saying how to get
//! it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, EnvoySpec};
use crate::scripted::{Script, ScriptedModel, EDIT_FROM, EDIT_TO, FIRST_THOUGHT, SIGNATURE};

/// The filter configuration of the clients' gateway.
const CONFIG: &str = r#"{"secret": "clients-secret-0123456789abcdef"}"#;

/// A file of AWS values as a user keeps them, one line (`status: pending`)
/// for the model to edit. No `\u` sequences: Claude Code's Write decodes
/// them.
const FILE: &str = "\
# prod inventory, exported 2026-11-30
instance i-0a1b2c3d4e5f67890 in vpc-0123abcd4567ef890 subnet-0f1e2d3c4b5a69788
role arn:aws:iam::123456789012:role/payments-deployer status: pending
db prod-payments.c9akciq32.us-west-2.rds.amazonaws.com at 10.0.1.23
bucket s3://acme-payments-logs-prod/2026/11/
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
security group sg-0badc0ffee1234567, public 54.210.33.7
";

/// The AWS values in [`FILE`]: none may reach the model.
const VALUES: &[&str] = &[
    "i-0a1b2c3d4e5f67890",
    "vpc-0123abcd4567ef890",
    "subnet-0f1e2d3c4b5a69788",
    "arn:aws:iam::123456789012:role/payments-deployer",
    "123456789012",
    "prod-payments.c9akciq32.us-west-2.rds.amazonaws.com",
    "10.0.1.23",
    "acme-payments-logs-prod",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "sg-0badc0ffee1234567",
    "54.210.33.7",
];

/// The Claude Code CLI. Missing fails the test (never skips).
fn claude_bin() -> PathBuf {
    let path = match std::env::var_os("AWS_MASKER_CLAUDE") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => harness::root().join(".tools/claude-code/node_modules/.bin/claude"),
    };
    assert!(
        path.is_file(),
        "Claude Code not found at {}: run `make claude-code` (or `make test`; it needs npm), or set AWS_MASKER_CLAUDE",
        path.display()
    );
    path
}

/// A child process killed when dropped, so a failing test leaves none.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `cmd` to its end or `timeout`: exit code, stdout, stderr.
fn run(mut cmd: Command, timeout: Duration) -> (Option<i32>, String, String) {
    let dir = std::env::temp_dir().join(format!("aws-masker-claude-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("output dir");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"));
    let mut child = Reaped(cmd.spawn().expect("start claude"));
    let deadline = Instant::now() + timeout;
    let code = loop {
        if let Some(status) = child.0.try_wait().expect("wait for claude") {
            break status.code();
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(child);
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (code, read(&out), read(&err))
}

/// Every decoded string of a JSON document, keys included.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out);
        }),
        _ => {}
    }
}

/// The model's script through Claude Code: it reads a file of AWS values,
/// writes what it read (tokens, streamed in fragments cut anywhere) to a
/// copy, edits one line of it, and answers with the text. The copy is the
/// original byte for byte (with the edit), the answer shows the originals,
/// no original ever reaches the model, and the thinking blocks come back
/// to it unaltered.
#[test]
fn claude_code_copies_and_edits_a_file_of_aws_values() {
    let claude = claude_bin();
    let home = tempdir("home");
    let work = tempdir("work");
    let source = work.join("inventory.txt");
    let copy = work.join("inventory-copy.txt");
    std::fs::write(&source, FILE).expect("write the source file");
    let model = ScriptedModel::start(Script {
        read_path: source.display().to_string(),
        write_path: copy.display().to_string(),
        seed: 0x5eed_c1a0_de00_0001,
    });
    let envoy = harness::start(&EnvoySpec {
        label: "claude-code",
        config: CONFIG,
        upstream: format!("http://{}", model.addr),
        filter: true,
        concurrency: 1,
    })
    .unwrap_or_else(|log| panic!("Envoy with the filter did not start: {log}"));

    let mut cmd = Command::new(&claude);
    cmd.current_dir(&work)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("ANTHROPIC_BASE_URL", format!("http://{}", envoy.listen))
        .env(
            "ANTHROPIC_API_KEY",
            "sk-ant-dummy-key-for-the-scripted-model",
        )
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .args([
            "-p",
            "Copy inventory.txt to inventory-copy.txt and mark it done.",
            "--allowedTools",
            "Read,Write,Edit,Bash",
            "--permission-mode",
            "acceptEdits",
        ]);
    let (code, stdout, stderr) = run(cmd, Duration::from_secs(180));
    let received = model.received();
    let summary = || {
        let paths: Vec<String> = received
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        format!("exit {code:?}\nstdout:\n{stdout}\nstderr:\n{stderr}\nrequests: {paths:?}\nenvoy log tail:\n{}",
            envoy.log_text().lines().rev().take(20).collect::<Vec<_>>().join("\n"))
    };
    assert_eq!(code, Some(0), "{}", summary());

    // The copy: the original, edited, byte for byte.
    let want = FILE.replace(EDIT_FROM, EDIT_TO);
    let got =
        std::fs::read_to_string(&copy).unwrap_or_else(|e| panic!("no copy ({e}): {}", summary()));
    assert_eq!(got, want, "{}", summary());
    // The answer shows the originals.
    for v in VALUES {
        assert!(
            stdout.contains(v),
            "{v} missing from the answer: {}",
            summary()
        );
    }

    // No original reached the model: raw bodies, decoded strings, headers.
    let messages: Vec<_> = received
        .iter()
        .filter(|r| r.path.starts_with("/v1/messages"))
        .collect();
    assert!(messages.len() >= 4, "{}", summary());
    for r in &received {
        let raw = String::from_utf8_lossy(&r.body);
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        let mut decoded = Vec::new();
        strings(&body, &mut decoded);
        for v in VALUES {
            assert!(
                !raw.contains(v),
                "{v} reached the model in {} {}",
                r.method,
                r.path
            );
            assert!(
                !decoded.iter().any(|s| s.contains(v)),
                "{v} reached the model (decoded) in {}",
                r.path
            );
            assert!(
                !r.headers.iter().any(|(_, h)| h.contains(v)),
                "{v} reached the model in a header"
            );
        }
    }

    // The thinking blocks the model sent come back in the history as
    // they were sent: text and signature.
    let last = messages
        .last()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null));
    let thinking: Vec<(String, String)> = last
        .iter()
        .flat_map(|b| b["messages"].as_array().cloned().unwrap_or_default())
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["type"] == "thinking")
        .map(|c| {
            (
                c["thinking"].as_str().unwrap_or("").to_string(),
                c["signature"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        thinking
            .iter()
            .any(|(t, s)| t == FIRST_THOUGHT && s == SIGNATURE),
        "thinking not sent back unaltered: {thinking:?}"
    );
    assert!(
        thinking
            .iter()
            .any(|(t, s)| t.starts_with("Now mark AWS_") && s == SIGNATURE),
        "the second thinking block (naming a token) not sent back unaltered: {thinking:?}"
    );
}

/// A fresh directory outside the repository (Claude Code puts the git
/// status of its working directory in its prompt).
fn tempdir(label: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("aws-masker-clients-{}-{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Values the SDK tests send: each is found with no context around it.
const SDK_VALUES: &[&str] = &[
    "i-0a1b2c3d4e5f67890",
    "arn:aws:iam::123456789012:role/payments-deployer",
    "prod-payments.c9akciq32.us-west-2.rds.amazonaws.com",
    "10.0.1.23",
    "AKIAIOSFODNN7EXAMPLE",
    "sg-0badc0ffee1234567",
];

/// A fresh request id and a spec file for an SDK client script: the
/// shared gateway's address, the id, the values to send.
fn sdk_spec(gw: &crate::envoy::Gateway, label: &str) -> (String, PathBuf) {
    let id = crate::envoy::unique_id(label);
    let spec = tempdir(label).join("spec.json");
    let spec_json = serde_json::json!({
        "base_url": format!("http://{}", gw.envoy.listen),
        "id": id,
        "originals": SDK_VALUES,
    });
    std::fs::write(&spec, spec_json.to_string()).expect("write spec");
    (id, spec)
}

/// The strings of a JSON array (none if it is no array).
fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A message as an SDK parsed it (`{"text", "tool_inputs",
/// "stop_reason"}`) holds every original in its text and in its tool_use
/// input (`ids` and `command`), and stopped for the tool.
fn assert_message_holds_originals(name: &str, check: &Value) {
    let text = check["text"].as_str().unwrap_or_default();
    let input = &check["tool_inputs"][0];
    let ids = strs(&input["ids"]);
    let command = input["command"].as_str().unwrap_or_default();
    for v in SDK_VALUES {
        assert!(text.contains(v), "{name}: {v} not in the text: {text}");
        assert!(
            ids.contains(v),
            "{name}: {v} not in tool_use input ids: {ids:?}"
        );
        assert!(
            command.contains(v),
            "{name}: {v} not in tool_use input command: {command}"
        );
    }
    assert_eq!(check["stop_reason"], "tool_use", "{name}: {check}");
}

/// The upstream got `count` requests tagged `id`, and none held an
/// original.
fn assert_upstream_clean(gw: &crate::envoy::Gateway, id: &str, count: usize) {
    let received = gw.mock.received_for(id);
    assert_eq!(
        received.len(),
        count,
        "{:?}",
        received.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    for r in &received {
        let raw = String::from_utf8_lossy(&r.body);
        for v in SDK_VALUES {
            assert!(!raw.contains(v), "{v} reached the upstream in {}", r.path);
        }
    }
}

/// The official Python SDKs through the gateway (`sdk_client.py`, the SDK
/// versions pinned in the Makefile): the Anthropic SDK's
/// `messages.stream()` with `get_final_message()`, `create()`,
/// `count_tokens()` and a tool history, and the OpenAI SDK's streamed chat
/// completion. What they parse holds the originals exactly, in text and
/// in tool_use `input`; they raise nothing; the upstream saw no original.
#[test]
fn python_sdks_parse_the_originals() {
    let gw = crate::envoy::shared();
    let (id, spec) = sdk_spec(gw, "python-sdks");
    let python = harness::python();
    let mut cmd = Command::new(&python);
    cmd.arg(harness::root().join("tests/gateway/sdk_client.py"))
        .arg(&spec);
    let (code, stdout, stderr) = run(cmd, Duration::from_secs(120));
    assert_ne!(
        code,
        Some(3),
        "the Python SDKs are not installed for {}: `make sdks` (or `make test`) installs them into .venv\n{stderr}",
        python.display()
    );
    assert_eq!(code, Some(0), "sdk_client.py failed:\n{stderr}\n{stdout}");
    let report: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("report ({e}): {stdout}"));
    let a = &report["anthropic"];
    assert_message_holds_originals("stream", &a["stream"]);
    assert_message_holds_originals("create", &a["create"]);
    assert_eq!(
        a["stream"]["streamed_text"], a["stream"]["text"],
        "text_stream and the final message differ"
    );
    assert!(
        a["count_tokens"]["input_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{}",
        a["count_tokens"]
    );
    let history = a["tool_history"]["text"].as_str().unwrap_or_default();
    let openai = report["openai"]["stream"]["text"]
        .as_str()
        .unwrap_or_default();
    let openai_ids = strs(&report["openai"]["stream"]["tool_arguments"]["ids"]);
    for v in SDK_VALUES {
        assert!(
            history.contains(v),
            "tool history answer lacks {v}: {history}"
        );
        assert!(openai.contains(v), "OpenAI stream lacks {v}: {openai}");
        assert!(
            openai_ids.contains(v),
            "OpenAI tool call arguments lack {v}: {openai_ids:?}"
        );
    }
    assert_upstream_clean(gw, &id, 5);
}

/// The TypeScript SDK (`@anthropic-ai/sdk`, pinned in the Makefile) through
/// the gateway, as a Node backend calls it: `messages.stream()` with
/// `finalMessage()`, and `messages.create()`. Its parsed messages hold the
/// originals exactly, in text and tool_use `input`.
#[test]
fn typescript_sdk_parses_the_originals() {
    let prefix = match std::env::var_os("AWS_MASKER_TS_SDK") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => harness::root().join(".tools/anthropic-sdk"),
    };
    assert!(
        prefix.join("node_modules/@anthropic-ai/sdk/package.json").is_file(),
        "the TypeScript SDK is not installed under {}: run `make sdks` (or `make test`), or set AWS_MASKER_TS_SDK",
        prefix.display()
    );
    let gw = crate::envoy::shared();
    let (id, spec) = sdk_spec(gw, "ts-sdk");
    let mut cmd = Command::new("node");
    cmd.arg(harness::root().join("tests/gateway/sdk_client.cjs"))
        .arg(&spec)
        .arg(&prefix);
    let (code, stdout, stderr) = run(cmd, Duration::from_secs(120));
    assert_eq!(
        code,
        Some(0),
        "sdk_client.cjs failed (node missing? `make test` installs it):\n{stderr}\n{stdout}"
    );
    let report: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("report ({e}): {stdout}"));
    assert_message_holds_originals("stream", &report["stream"]);
    assert_message_holds_originals("create", &report["create"]);
    assert_eq!(report["stream"]["streamed_text"], report["stream"]["text"]);
    assert_upstream_clean(gw, &id, 2);
}
