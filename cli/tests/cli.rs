//! The `aws-masker` binary as a user runs it: exit codes, what it prints,
//! and the files it writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const SECRET: &str = "a-cli-test-secret-0123456789";

/// A file of AWS values as a user might paste them, and the values.
const SAMPLE: &str = "Deploy with arn:aws:iam::123456789012:role/Deploy\n\
aws_secret_access_key = Zk3v9QpL2mN8xR4tY7uW1sE6aB0cD5fG9hJ2kL4m\n\
instance i-0123456789abcdef0 in vpc-0a1b2c3d4e5f60718 (10.0.3.17)\n";
const VALUES: [&str; 5] = [
    "arn:aws:iam::123456789012:role/Deploy",
    "Zk3v9QpL2mN8xR4tY7uW1sE6aB0cD5fG9hJ2kL4m",
    "i-0123456789abcdef0",
    "vpc-0a1b2c3d4e5f60718",
    "10.0.3.17",
];

fn run(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aws-masker"));
    cmd.args(args)
        .env_remove("AWS_MASKER_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    // A command that fails before reading its input closes the pipe.
    let _ = pipe.write_all(stdin.unwrap_or_default());
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A fresh directory under the target dir for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn scan_lists_every_value_redacted_and_fails() {
    let dir = scratch("scan");
    let file = dir.join("notes.txt");
    std::fs::write(&file, SAMPLE).unwrap();
    let clean = dir.join("clean.txt");
    std::fs::write(&clean, "fn main() { println!(\"hello\"); }\n").unwrap();
    let out = run(
        &["scan", file.to_str().unwrap(), clean.to_str().unwrap()],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), VALUES.len(), "{stdout}");
    let f = file.display();
    assert!(lines[0].starts_with(&format!("{f}:1:13: ARN_IAM arn:aw… (37 chars)")));
    assert!(lines[1].starts_with(&format!("{f}:2:25: SECRET_KEY Zk3v9Q… (40 chars)")));
    assert!(lines[2].starts_with(&format!("{f}:3:10: EC2 i-0123…")));
    for v in VALUES {
        assert!(!stdout.contains(v), "{v} printed whole: {stdout}");
    }
    let ok = run(&["scan", clean.to_str().unwrap()], None, &[]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(ok.stdout.is_empty());
}

#[test]
fn scan_reads_stdin_and_speaks_json() {
    let out = run(
        &["scan", "--format", "json", "-"],
        Some(SAMPLE.as_bytes()),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), VALUES.len());
    for (row, value) in rows.iter().zip(VALUES) {
        let (start, end) = (
            row["start"].as_u64().unwrap() as usize,
            row["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&SAMPLE[start..end], value);
        assert_eq!(row["file"], "<stdin>");
        assert!(!row["preview"].as_str().unwrap().contains(value));
    }
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ARN_IAM", "SECRET_KEY", "EC2", "VPC", "IP"]);
}

#[test]
fn scan_follows_the_configuration_and_reports_errors() {
    let dir = scratch("scan-config");
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        r#"{"detectors": {"ip_addresses": false}, "allowlist": [{"value": "i-0123456789abcdef0"}]}"#,
    )
    .unwrap();
    let out = run(
        &["scan", "--config", config.to_str().unwrap()],
        Some(SAMPLE.as_bytes()),
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(!stdout.contains(" IP ") && !stdout.contains(" EC2 "));
    let missing = run(&["scan", dir.join("nope").to_str().unwrap()], None, &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("nope"));
}

#[test]
fn mask_then_restore_gives_the_file_back() {
    let dir = scratch("roundtrip");
    let map = dir.join("map.json");
    let masked = run(
        &["mask", "--map", map.to_str().unwrap()],
        Some(SAMPLE.as_bytes()),
        &[("AWS_MASKER_SECRET", SECRET)],
    );
    assert_eq!(masked.status.code(), Some(0), "{}", text(&masked.stderr));
    let body = text(&masked.stdout);
    for v in VALUES {
        assert!(!body.contains(v), "{v} in {body}");
    }
    assert!(body.contains("AWS_EC2_"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&map).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the map is readable by others: {mode:o}");
    }
    // The same secret masks the same way (a flag, or the environment).
    let again = run(&["mask", "--secret", SECRET], Some(SAMPLE.as_bytes()), &[]);
    assert_eq!(text(&again.stdout), body);
    let restored = run(
        &["restore", "--map", map.to_str().unwrap()],
        Some(body.as_bytes()),
        &[],
    );
    assert_eq!(
        restored.status.code(),
        Some(0),
        "{}",
        text(&restored.stderr)
    );
    assert_eq!(text(&restored.stdout), SAMPLE);
}

#[test]
fn json_is_masked_inside_strings_and_restored_exactly() {
    let dir = scratch("json");
    let map = dir.join("map.json");
    let doc = serde_json::json!({
        "messages": [{"role": "user", "content": SAMPLE}],
        "note": "caf\u{e9}",
    })
    .to_string();
    let masked = run(
        &["mask", "--as", "json", "--map", map.to_str().unwrap()],
        Some(doc.as_bytes()),
        &[("AWS_MASKER_SECRET", SECRET)],
    );
    assert_eq!(masked.status.code(), Some(0), "{}", text(&masked.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&masked.stdout).unwrap();
    let content = parsed["messages"][0]["content"].as_str().unwrap();
    for v in VALUES {
        assert!(!content.contains(v));
    }
    let restored = run(
        &["restore", "--map", map.to_str().unwrap()],
        Some(&masked.stdout),
        &[],
    );
    assert_eq!(text(&restored.stdout), doc);
}

#[test]
fn mask_refuses_to_run_without_a_real_secret_and_writes_no_map_unasked() {
    let dir = scratch("secret");
    let none = run(&["mask"], Some(SAMPLE.as_bytes()), &[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("no secret"));
    assert!(none.stdout.is_empty(), "nothing is written unmasked");
    let short = run(&["mask", "--secret", "short"], Some(SAMPLE.as_bytes()), &[]);
    assert_eq!(short.status.code(), Some(2));
    assert!(text(&short.stderr).contains("too short"));
    let plain = run(&["mask", "--secret", SECRET], Some(SAMPLE.as_bytes()), &[]);
    assert_eq!(plain.status.code(), Some(0));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn restore_rejects_a_file_that_is_no_token_map() {
    let dir = scratch("bad-map");
    let map = dir.join("map.json");
    std::fs::write(
        &map,
        r#"{"token_prefix": "AWS_", "tokens": {"nonsense": "x"}}"#,
    )
    .unwrap();
    let out = run(
        &["restore", "--map", map.to_str().unwrap()],
        Some(b"x"),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a token map"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_config_speaks_as_the_gateway_logs() {
    let dir = scratch("check-config");
    let good = dir.join("good.json");
    std::fs::write(
        &good,
        r#"{"secret": "0123456789abcdef0123", "max_body_bytes": 1048576}"#,
    )
    .unwrap();
    let out = run(&["check-config", good.to_str().unwrap()], None, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).ends_with(": valid\n"));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"max_body_bytes": "big"}"#).unwrap();
    let out = run(&["check-config", bad.to_str().unwrap()], None, &[]);
    assert_eq!(out.status.code(), Some(1));
    let want = aws_masker::config::Config::from_json(br#"{"max_body_bytes": "big"}"#)
        .unwrap_err()
        .to_string();
    assert_eq!(text(&out.stdout), format!("{}: {want}\n", bad.display()));
}
