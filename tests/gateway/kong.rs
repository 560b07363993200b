//! The Kong files: `kong/aws_masker.meta.json` mirrors the filter's own
//! config parser, and the declarative configs parse and hold a filter
//! config both accept.

use std::path::{Path, PathBuf};

use aws_masker::config::{self, Config};
use serde_json::Value;

use crate::harness::root;
use crate::schema::validate;

/// The `config_schema` of kong/aws_masker.meta.json.
fn config_schema() -> Value {
    let text = std::fs::read_to_string(root().join("kong/aws_masker.meta.json"))
        .expect("kong/aws_masker.meta.json");
    let meta: Value = serde_json::from_str(&text).expect("meta.json is JSON");
    meta.get("config_schema")
        .cloned()
        .expect("meta.json has config_schema")
}

fn fixtures(kind: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = root().join("tests/kong/fixtures").join(kind);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read fixture");
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Both validators' verdicts on one document: (schema, parser).
fn verdicts(schema: &Value, doc: &[u8]) -> (Result<(), Vec<String>>, Result<(), String>) {
    let value: Value = serde_json::from_slice(doc).expect("fixture is JSON");
    (
        validate(schema, &value),
        Config::from_json(doc)
            .map(|_| ())
            .map_err(|e| e.to_string()),
    )
}

#[test]
fn valid_fixtures_pass_schema_and_parser() {
    let schema = config_schema();
    let all = fixtures("valid");
    assert!(all.len() >= 8, "at least 8 valid fixtures");
    for (path, doc) in all {
        let (s, p) = verdicts(&schema, &doc);
        assert!(
            s.is_ok(),
            "{}: schema rejects a valid config: {s:?}",
            name(&path)
        );
        assert!(
            p.is_ok(),
            "{}: parser rejects a valid config: {p:?}",
            name(&path)
        );
    }
}

#[test]
fn invalid_fixtures_fail_schema_and_parser() {
    let schema = config_schema();
    let all = fixtures("invalid");
    assert!(all.len() >= 8, "at least 8 invalid fixtures");
    for (path, doc) in all {
        let (s, p) = verdicts(&schema, &doc);
        assert!(
            s.is_err(),
            "{}: schema accepts an invalid config",
            name(&path)
        );
        let err = p.expect_err(&format!(
            "{}: parser accepts an invalid config",
            name(&path)
        ));
        assert!(err.starts_with("invalid aws-masker config"), "{err}");
    }
}

/// What JSON Schema cannot express (a regex that does not compile or
/// matches the empty string, duplicate pattern names): Kong accepts these,
/// and the filter refuses them in `on_configure` with its error line.
#[test]
fn parser_only_fixtures_are_caught_by_the_filter() {
    let schema = config_schema();
    for (path, doc) in fixtures("parser_only") {
        let (s, p) = verdicts(&schema, &doc);
        assert!(
            s.is_ok(),
            "{}: the schema catches it: move it to invalid/ ({s:?})",
            name(&path)
        );
        assert!(
            p.is_err(),
            "{}: the filter's parser accepts it",
            name(&path)
        );
    }
}

/// Every field of the schema has a description and a default; the fields,
/// detector families, bounds and defaults are those of src/config.rs.
#[test]
fn meta_json_mirrors_the_config() {
    let schema = config_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    let props = schema["properties"].as_object().expect("properties");
    let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "allowlist",
            "custom_patterns",
            "detectors",
            "max_body_bytes",
            "max_values_per_request",
            "memo_texts",
            "restore_thinking",
            "secret",
            "secret_sharing",
            "token_prefix",
            "token_scope",
            "token_scope_header"
        ]
    );
    for (field, sub) in props {
        assert!(
            sub["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{field} lacks a description"
        );
        assert!(sub.get("default").is_some(), "{field} lacks a default");
    }
    let families = schema["properties"]["detectors"]["properties"]
        .as_object()
        .expect("detector families");
    let mut listed: Vec<&str> = families.keys().map(String::as_str).collect();
    listed.sort_unstable();
    let mut expected = config::DETECTOR_FAMILIES.to_vec();
    expected.sort_unstable();
    assert_eq!(
        listed, expected,
        "detector families differ from config::DETECTOR_FAMILIES"
    );
    for (family, sub) in families {
        assert_eq!(sub["type"], "boolean", "{family}");
        assert_eq!(sub["default"], true, "{family}");
        assert!(sub["description"].is_string(), "{family}");
    }

    // The schema's defaults are the parser's defaults.
    let defaults = Config::default();
    let p = &schema["properties"];
    assert_eq!(p["secret"]["default"], Value::Null);
    assert_eq!(p["secret"]["minLength"], config::MIN_SECRET_CHARS);
    assert_eq!(p["token_prefix"]["default"], defaults.token_prefix);
    assert_eq!(p["max_body_bytes"]["default"], defaults.max_body_bytes);
    assert_eq!(
        p["max_body_bytes"]["default"],
        config::DEFAULT_MAX_BODY_BYTES
    );
    assert_eq!(p["max_body_bytes"]["maximum"], config::MAX_MAX_BODY_BYTES);
    assert_eq!(p["max_body_bytes"]["minimum"], 1);
    assert_eq!(p["memo_texts"]["default"], defaults.memo_texts);
    assert_eq!(p["memo_texts"]["maximum"], config::MAX_MEMO_TEXTS);
    assert_eq!(p["memo_texts"]["minimum"], 0);
    assert_eq!(p["restore_thinking"]["default"], defaults.restore_thinking);
    assert_eq!(
        p["max_values_per_request"]["default"],
        config::DEFAULT_MAX_VALUES_PER_REQUEST
    );
    assert_eq!(
        p["max_values_per_request"]["maximum"],
        config::MAX_MAX_VALUES_PER_REQUEST
    );
    assert_eq!(p["token_scope"]["default"], "credential");
    assert_eq!(defaults.token_scope, config::TokenScope::Credential);
    assert_eq!(p["token_scope_header"]["default"], Value::Null);
    assert_eq!(p["secret_sharing"]["default"], "auto");
    assert_eq!(defaults.secret_sharing, config::SecretSharing::Auto);
    assert_eq!(p["custom_patterns"]["default"], serde_json::json!([]));
    assert_eq!(p["allowlist"]["default"], serde_json::json!([]));

    // A config made of every default is accepted by both, and parses to
    // the defaults.
    let all_defaults: serde_json::Map<String, Value> = props
        .iter()
        .map(|(k, v)| (k.clone(), v["default"].clone()))
        .collect();
    let doc = Value::Object(all_defaults);
    validate(&schema, &doc).expect("the defaults satisfy the schema");
    let cfg =
        Config::from_json(doc.to_string().as_bytes()).expect("the parser accepts the defaults");
    assert_eq!(cfg.detectors, defaults.detectors);
    assert_eq!(cfg.max_body_bytes, defaults.max_body_bytes);
    assert_eq!(cfg.token_prefix, defaults.token_prefix);
}

/// The filter configs in a declarative file: filter_chains entries and
/// plugin entries named `aws_masker`, anywhere in the document.
fn filter_configs(doc: &Value, out: &mut Vec<Value>) {
    match doc {
        Value::Object(map) => {
            if map.get("name").and_then(Value::as_str) == Some("aws_masker") {
                if let Some(cfg) = map.get("config") {
                    // Kong 3.4 takes the config as a JSON string.
                    let cfg = match cfg {
                        Value::String(s) => serde_json::from_str(s).expect("string config is JSON"),
                        other => other.clone(),
                    };
                    out.push(cfg);
                }
            }
            map.values().for_each(|v| filter_configs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| filter_configs(v, out)),
        _ => {}
    }
}

fn declarative(file: &str) -> Value {
    let text = std::fs::read_to_string(root().join("kong").join(file))
        .unwrap_or_else(|e| panic!("kong/{file}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("kong/{file} is not valid YAML: {e}"))
}

fn check_declarative(file: &str, attach: &str) {
    let doc = declarative(file);
    assert_eq!(doc["_format_version"], "3.0", "{file}");
    let service = &doc["services"][0];
    assert_eq!(service["url"], "https://api.anthropic.com", "{file}");
    let paths = &service["routes"][0]["paths"];
    assert_eq!(
        paths,
        &serde_json::json!(["/v1/messages", "/v1/messages/count_tokens"]),
        "{file}"
    );
    assert!(
        service.get(attach).is_some(),
        "{file} attaches the filter with `{attach}`"
    );
    let mut configs = Vec::new();
    filter_configs(&doc, &mut configs);
    assert_eq!(configs.len(), 1, "{file}: one aws_masker config");
    let schema = config_schema();
    for cfg in configs {
        validate(&schema, &cfg)
            .unwrap_or_else(|e| panic!("{file}: schema rejects the config: {e:?}"));
        Config::from_json(cfg.to_string().as_bytes()).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn kong_yml_filter_chain_config_is_valid() {
    check_declarative("kong.yml", "filter_chains");
    let doc = declarative("kong.yml");
    let filters = &doc["services"][0]["filter_chains"][0]["filters"];
    let last = filters.as_array().and_then(|f| f.last()).expect("filters");
    assert_eq!(
        last["name"], "aws_masker",
        "aws_masker must be the last filter of its chain"
    );
}

#[test]
fn kong_3_9_yml_plugin_config_is_valid() {
    check_declarative("kong-3.9.yml", "plugins");
}

/// The kong.conf files set what makes bodies reach the filter, each
/// setting with a comment above it. kong/kong.conf (Kong 3.6 to 3.9) also
/// sizes the response body buffers; kong/kong-3.4.conf (3.4, 3.5) must not,
/// its engine has no such directive (tests/gateway/kong_conf.rs checks
/// every directive against each Kong version).
#[test]
fn kong_conf_settings() {
    for file in ["kong/kong.conf", "kong/kong-3.4.conf"] {
        let text = std::fs::read_to_string(root().join(file)).expect(file);
        let mut settings = std::collections::BTreeMap::new();
        let mut commented = false;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() {
                commented = false;
                continue;
            }
            if let Some(rest) = line.strip_prefix('#') {
                // `#key = value` is a commented-out setting: it too needs a
                // comment above it.
                if !rest.is_empty() && !rest.starts_with(' ') {
                    assert!(commented, "{file}: {line:?} has no comment above it");
                }
                commented = true;
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                assert!(commented, "{file}: {line:?} has no comment above it");
                settings.insert(k.trim().to_string(), v.trim().to_string());
                commented = false;
            }
        }
        assert_eq!(settings["wasm"], "on", "{file}");
        assert!(settings.contains_key("wasm_filters_path"), "{file}");
        let size = |v: &str| -> u64 {
            let (n, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
            n.parse::<u64>().expect("size")
                * match unit {
                    "k" => 1 << 10,
                    "m" => 1 << 20,
                    "g" => 1 << 30,
                    _ => 1,
                }
        };
        assert!(
            size(&settings["nginx_http_client_body_buffer_size"])
                >= config::DEFAULT_MAX_BODY_BYTES as u64,
            "{file}: client body buffer below the default max_body_bytes"
        );
        assert!(
            size(&settings["nginx_http_client_max_body_size"])
                >= config::DEFAULT_MAX_BODY_BYTES as u64,
            "{file}: client_max_body_size below the default max_body_bytes"
        );
        let buffers = settings.get("nginx_http_wasm_response_body_buffers");
        if file == "kong/kong.conf" {
            let buffers = buffers.expect("kong.conf sizes the response body buffers");
            let (count, each) = buffers.split_once(' ').expect("`<count> <size>`");
            assert!(
                count.parse::<u64>().expect("count") * size(each) >= 32 << 20,
                "response buffers below 32 MiB"
            );
        } else {
            assert_eq!(buffers, None, "{file}: Kong 3.4/3.5 have no such directive");
        }
        // No shared-memory zone is set by default: the filter does not use
        // one unless its config says "secret_sharing": "shared_data".
        assert!(
            !settings.keys().any(|k| k.contains("shm")),
            "{file}: a shm zone must stay optional (commented out)"
        );
    }
}
