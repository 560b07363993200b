//! The Envoy configuration files: the production envoy/envoy.yaml is the
//! template rendered with the defaults, and the renderer handles every
//! override `make run` documents.

use crate::harness::{render, root};

/// Where the production config expects the filter (documented in README).
const PRODUCTION_WASM: &str = "/etc/envoy/aws_masker.wasm";

#[test]
fn production_envoy_yaml_is_the_rendered_template() {
    let rendered = render(&[("WASM", PRODUCTION_WASM)]);
    let shipped =
        std::fs::read_to_string(root().join("envoy/envoy.yaml")).expect("envoy/envoy.yaml");
    assert!(
        rendered == shipped,
        "envoy/envoy.yaml is out of date: regenerate it with\n  WASM={PRODUCTION_WASM} python3 scripts/render_envoy.py envoy/envoy.yaml"
    );
}

#[test]
fn production_config_has_the_settings_that_matter() {
    let yaml = std::fs::read_to_string(root().join("envoy/envoy.yaml")).expect("envoy/envoy.yaml");
    for needle in [
        "address: \"127.0.0.1\", port_value: 8080",
        "address: \"api.anthropic.com\", port_value: 443",
        "sni: \"api.anthropic.com\"",
        "trusted_ca: { filename: \"/etc/ssl/certs/ca-certificates.crt\" }",
        "auto_host_rewrite: true",
        "timeout: 0s",
        "stream_idle_timeout: 900s",
        "failure_policy: FAIL_CLOSED",
        "vm_id: aws_masker",
        "runtime: envoy.wasm.runtime.v8",
        "per_connection_buffer_limit_bytes: 41943040",
        "http2_protocol_options: {}",
        "envoy.access_loggers.stdout",
        "value: \"{}\"",
        PRODUCTION_WASM,
    ] {
        assert!(yaml.contains(needle), "envoy/envoy.yaml lacks {needle:?}");
    }
    // Admin on loopback only.
    let admin = yaml.split("admin:").nth(1).expect("admin section");
    assert!(admin.contains("address: \"127.0.0.1\", port_value: 9901"));
    assert!(
        !yaml.contains("explicit_http_config"),
        "TLS upstream uses ALPN"
    );
}

#[test]
fn renderer_overrides() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let config = dir.join("render-config.json");
    std::fs::write(
        &config,
        r#"{"max_body_bytes": 67108864, "token_prefix": "M_"}"#,
    )
    .expect("write");
    let yaml = render(&[
        ("LISTEN", "0.0.0.0:9000"),
        ("UPSTREAM", "http://localhost:4000"),
        ("CONFIG", config.to_str().expect("utf-8")),
        ("SECRET", "a \"quoted\" secret value"),
    ]);
    assert!(yaml.contains("address: \"0.0.0.0\", port_value: 9000"));
    assert!(yaml.contains("address: \"localhost\", port_value: 4000"));
    assert!(
        yaml.contains("explicit_http_config"),
        "plain upstream is HTTP/1.1"
    );
    assert!(
        !yaml.contains("transport_socket"),
        "no TLS to a plain upstream"
    );
    // Buffer limit follows max_body_bytes (64 MiB + 8 MiB).
    assert!(yaml.contains("per_connection_buffer_limit_bytes: 75497472"));
    // The config is a JSON string with the secret merged in.
    let line = yaml
        .lines()
        .find(|l| l.trim_start().starts_with("value: "))
        .expect("value line");
    let inner: String =
        serde_json::from_str(line.trim_start().trim_start_matches("value: ")).expect("JSON string");
    let cfg: serde_json::Value = serde_json::from_str(&inner).expect("config JSON");
    assert_eq!(cfg["secret"], "a \"quoted\" secret value");
    assert_eq!(cfg["token_prefix"], "M_");
    // Passthrough variant for the benchmark.
    let plain = render(&[("FILTER", "off")]);
    assert!(!plain.contains("envoy.filters.http.wasm"));
    assert!(plain.contains("envoy.filters.http.router"));
}
