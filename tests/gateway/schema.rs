//! A small JSON Schema draft-4 validator for the keywords the Kong
//! meta.json uses. Any other keyword makes it panic, so the schema cannot
//! rely on a keyword this validator does not check.

use serde_json::Value;

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &["$schema", "title", "description", "default"];

/// Validates `value` against `schema`; `Err` lists every violation with
/// its JSON path.
pub fn validate(schema: &Value, value: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    check(schema, value, "$", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn type_matches(name: &str, v: &Value) -> bool {
    match name {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        // Draft 4: a number without a fraction or exponent part.
        "integer" => v.is_i64() || v.is_u64(),
        other => panic!("unknown type {other:?} in schema"),
    }
}

fn check(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        panic!("schema at {path} is not an object");
    };
    for (keyword, arg) in schema {
        match keyword.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "type" => {
                let ok = match arg {
                    Value::String(t) => type_matches(t, v),
                    Value::Array(ts) => ts
                        .iter()
                        .any(|t| type_matches(t.as_str().expect("type name"), v)),
                    _ => panic!("bad type at {path}"),
                };
                if !ok {
                    errors.push(format!("{path}: expected type {arg}, got {v}"));
                }
            }
            "properties" | "additionalProperties" | "required" => {
                let Some(obj) = v.as_object() else { continue };
                match keyword.as_str() {
                    "properties" => {
                        for (name, sub) in arg.as_object().expect("properties object") {
                            if let Some(child) = obj.get(name) {
                                check(sub, child, &format!("{path}.{name}"), errors);
                            }
                        }
                    }
                    "additionalProperties" => {
                        assert_eq!(
                            arg,
                            &Value::Bool(false),
                            "only additionalProperties: false is supported"
                        );
                        let known = schema.get("properties").and_then(Value::as_object);
                        for name in obj.keys() {
                            if !known.is_some_and(|k| k.contains_key(name)) {
                                errors.push(format!("{path}: unknown property {name:?}"));
                            }
                        }
                    }
                    _ => {
                        for name in arg.as_array().expect("required array") {
                            let name = name.as_str().expect("required name");
                            if !obj.contains_key(name) {
                                errors.push(format!("{path}: missing required property {name:?}"));
                            }
                        }
                    }
                }
            }
            "minLength" | "maxLength" | "pattern" => {
                let Some(s) = v.as_str() else { continue };
                // Draft 4 counts characters (code points), not bytes.
                let len = s.chars().count() as u64;
                match keyword.as_str() {
                    "minLength" if len < arg.as_u64().expect("minLength") => {
                        errors.push(format!("{path}: shorter than {arg}"));
                    }
                    "maxLength" if len > arg.as_u64().expect("maxLength") => {
                        errors.push(format!("{path}: longer than {arg}"));
                    }
                    "pattern" => {
                        let re = regex_lite::Regex::new(arg.as_str().expect("pattern"))
                            .expect("pattern compiles");
                        if !re.is_match(s) {
                            errors.push(format!("{path}: {s:?} does not match {arg}"));
                        }
                    }
                    _ => {}
                }
            }
            "minimum" | "maximum" => {
                let Some(n) = v.as_f64() else { continue };
                let bound = arg.as_f64().expect("numeric bound");
                if (keyword == "minimum" && n < bound) || (keyword == "maximum" && n > bound) {
                    errors.push(format!("{path}: {n} is beyond {keyword} {bound}"));
                }
            }
            "items" => {
                let Some(items) = v.as_array() else { continue };
                for (i, item) in items.iter().enumerate() {
                    check(arg, item, &format!("{path}[{i}]"), errors);
                }
            }
            "oneOf" => {
                let passing = arg
                    .as_array()
                    .expect("oneOf array")
                    .iter()
                    .filter(|sub| {
                        let mut e = Vec::new();
                        check(sub, v, path, &mut e);
                        e.is_empty()
                    })
                    .count();
                if passing != 1 {
                    errors.push(format!(
                        "{path}: matches {passing} of the oneOf schemas, not exactly one"
                    ));
                }
            }
            "enum" => {
                let allowed = arg.as_array().expect("enum array");
                if !allowed.contains(v) {
                    errors.push(format!("{path}: {v} is not one of {arg}"));
                }
            }
            other => {
                panic!("schema keyword {other:?} at {path} is not supported by this validator")
            }
        }
    }
}

#[test]
fn validator_self_check() {
    let schema = serde_json::json!({
        "type": "object", "additionalProperties": false, "required": ["a"],
        "properties": {
            "a": {"type": "integer", "minimum": 1, "maximum": 3},
            "e": {"type": "string", "enum": ["p", "q"]},
            "s": {"type": ["string", "null"], "minLength": 2, "pattern": "^x"},
            "l": {"type": "array", "items": {"oneOf": [
                {"type": "object", "required": ["v"], "additionalProperties": false, "properties": {"v": {"type": "string"}}},
                {"type": "object", "required": ["r"], "additionalProperties": false, "properties": {"r": {"type": "string"}}}
            ]}}
        }
    });
    let ok = |v: Value| validate(&schema, &v).is_ok();
    assert!(ok(
        serde_json::json!({"a": 2, "s": "xy", "l": [{"v": "1"}, {"r": "2"}]})
    ));
    assert!(ok(serde_json::json!({"a": 1, "s": null})));
    assert!(!ok(serde_json::json!({})));
    assert!(!ok(serde_json::json!({"a": 4})));
    assert!(!ok(serde_json::json!({"a": 2.0})));
    assert!(!ok(serde_json::json!({"a": 2, "b": 1})));
    assert!(!ok(serde_json::json!({"a": 2, "s": "x"})));
    assert!(!ok(serde_json::json!({"a": 2, "s": "yy"})));
    assert!(!ok(
        serde_json::json!({"a": 2, "l": [{"v": "1", "r": "2"}]})
    ));
    assert!(!ok(serde_json::json!({"a": 2, "l": [{}]})));
    assert!(ok(serde_json::json!({"a": 1, "e": "q"})));
    assert!(!ok(serde_json::json!({"a": 1, "e": "r"})));
    // Characters, not bytes.
    assert!(ok(serde_json::json!({"a": 2, "s": "xé"})));
}
