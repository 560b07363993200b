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
    let v = parse(&yaml);
    assert_protocol_limits(&v, 41_943_040);
    let up = upstream_options(&v);
    assert_eq!(
        up.pointer("/auto_config/http2_protocol_options/initial_stream_window_size")
            .and_then(serde_json::Value::as_u64),
        Some(41_943_040),
        "the TLS upstream's HTTP/2 stream window holds the buffer limit: {up}"
    );
    assert_eq!(
        up.pointer("/auto_config/http2_protocol_options/initial_connection_window_size")
            .and_then(serde_json::Value::as_u64),
        Some(41_943_040),
        "{up}"
    );
    assert_eq!(
        up.pointer("/auto_config/http_protocol_options/enable_trailers"),
        Some(&serde_json::Value::Bool(true)),
        "{up}"
    );
}

/// The rendered YAML as a JSON value.
fn parse(yaml: &str) -> serde_json::Value {
    serde_norway::from_str(yaml).unwrap_or_else(|e| panic!("rendered config is not YAML: {e}"))
}

/// The connection manager's typed config.
fn connection_manager(v: &serde_json::Value) -> &serde_json::Value {
    v.pointer("/static_resources/listeners/0/filter_chains/0/filters/0/typed_config")
        .expect("the listener's HttpConnectionManager")
}

/// The upstream cluster's HttpProtocolOptions.
fn upstream_options(v: &serde_json::Value) -> &serde_json::Value {
    v.pointer("/static_resources/clusters/0/typed_extension_protocol_options/envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
        .expect("the cluster's HttpProtocolOptions")
}

/// The limits that let the filter judge every body before Envoy does: the
/// buffer limit on the listener and the cluster, HTTP/2 windows of the
/// same size downstream (a request body waits in the stream window while
/// the filter buffers it), and trailers accepted from HTTP/1.1 clients.
fn assert_protocol_limits(v: &serde_json::Value, buffer_limit: u64) {
    let limit = |p: &str| v.pointer(p).and_then(serde_json::Value::as_u64);
    assert_eq!(
        limit("/static_resources/listeners/0/per_connection_buffer_limit_bytes"),
        Some(buffer_limit)
    );
    assert_eq!(
        limit("/static_resources/clusters/0/per_connection_buffer_limit_bytes"),
        Some(buffer_limit)
    );
    let hcm = connection_manager(v);
    let window = buffer_limit.min(2_147_483_647);
    for name in [
        "initial_stream_window_size",
        "initial_connection_window_size",
    ] {
        assert_eq!(
            hcm.pointer(&format!("/http2_protocol_options/{name}"))
                .and_then(serde_json::Value::as_u64),
            Some(window),
            "downstream HTTP/2 {name}: {hcm}"
        );
    }
    assert_eq!(
        hcm.pointer("/http_protocol_options/enable_trailers"),
        Some(&serde_json::Value::Bool(true)),
        "HTTP/1.1 trailers downstream"
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
    // Buffer limit follows max_body_bytes (64 MiB + 8 MiB), and the HTTP/2
    // windows follow the buffer limit.
    assert!(yaml.contains("per_connection_buffer_limit_bytes: 75497472"));
    let v = parse(&yaml);
    assert_protocol_limits(&v, 75_497_472);
    // The plain upstream speaks HTTP/1.1 with trailers.
    assert_eq!(
        upstream_options(&v).pointer("/explicit_http_config/http_protocol_options/enable_trailers"),
        Some(&serde_json::Value::Bool(true)),
        "{}",
        upstream_options(&v)
    );
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
    // The windows never exceed HTTP/2's maximum, 2^31 - 1, however large
    // the limit (the filter itself accepts at most 1 GiB).
    std::fs::write(&config, r#"{"max_body_bytes": 2147483648}"#).expect("write");
    let v = parse(&render(&[("CONFIG", config.to_str().expect("utf-8"))]));
    let hcm = connection_manager(&v);
    assert_eq!(
        hcm.pointer("/http2_protocol_options/initial_stream_window_size")
            .and_then(serde_json::Value::as_u64),
        Some(2_147_483_647)
    );
    assert_eq!(
        upstream_options(&v)
            .pointer("/auto_config/http2_protocol_options/initial_connection_window_size")
            .and_then(serde_json::Value::as_u64),
        Some(2_147_483_647)
    );
    // Passthrough variant for the benchmark.
    let plain = render(&[("FILTER", "off")]);
    assert!(!plain.contains("envoy.filters.http.wasm"));
    assert!(plain.contains("envoy.filters.http.router"));
}
