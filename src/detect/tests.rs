//! Catalog-level tests: overlap resolution, allowlist, custom patterns,
//! switches, `find_in_value`, the clean corpus, the shared passes against each family alone.

use super::*;
use memchr::memmem::Finder;

/// The values a family's `find` reports on `input`, in order of start.
pub(crate) fn values_of(f: fn(&[u8], &mut Vec<Match<'_>>), input: &str) -> Vec<&str> {
    let mut out = Vec::new();
    f(input.as_bytes(), &mut out);
    out.sort_by_key(|m| m.start);
    out.iter().map(|m| &input[m.start..m.end]).collect()
}

/// What `f` appends for `input`, as (value, kind) pairs in text order:
/// the families' table tests.
pub(crate) fn kinds_of(
    input: &str,
    f: impl FnOnce(&[u8], &mut Vec<Match<'static>>),
) -> Vec<(&str, &'static str)> {
    let mut out = Vec::new();
    f(input.as_bytes(), &mut out);
    out.sort_by_key(|m| m.start);
    out.iter()
        .map(|m| (&input[m.start..m.end], m.kind))
        .collect()
}

fn detector(json: &str) -> Detector {
    Detector::new(&Config::from_json(json.as_bytes()).unwrap(), [0x5a; 16])
}

fn found<'i>(d: &Detector, key: Option<&str>, input: &'i str) -> Vec<(&'i str, String)> {
    let mut out = Vec::new();
    d.find_in_value(key, input, &mut out);
    for w in out.windows(2) {
        assert!(
            w[0].end <= w[1].start,
            "overlap or unsorted in {input:?}: {out:?}"
        );
    }
    out.iter()
        .map(|m| (&input[m.start..m.end], m.kind.to_string()))
        .collect()
}

fn values<'i>(d: &Detector, input: &'i str) -> Vec<&'i str> {
    found(d, None, input).into_iter().map(|(v, _)| v).collect()
}

/// A text of `count` pieces picked by a xorshift generator whose state is
/// `seed` (deterministic, so a failure repeats).
fn random_text(pieces: &[&str], count: usize, seed: &mut u64) -> String {
    let mut s = String::new();
    for _ in 0..count {
        *seed = xorshift(*seed);
        s.push_str(pieces[(*seed % pieces.len() as u64) as usize]);
    }
    s
}

use crate::test_rng::{step as xorshift, XorShift};

#[test]
fn catalog_table() {
    let d = detector("{}");
    let cases: &[(&str, &[&str])] = &[
        ("role arn:aws:iam::123456789012:role/Admin", &["arn:aws:iam::123456789012:role/Admin"]),
        ("arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0", &["arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"]),
        ("key/1234abcd-12ab-34cd-56ef-1234567890ab in arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", &["1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]),
        ("push 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1", &["123456789012.dkr.ecr.us-east-1.amazonaws.com", "app"]),
        ("https://sqs.us-east-1.amazonaws.com/123456789012/payments-settlement-dlq", &["123456789012", "payments-settlement-dlq"]),
        ("ip-10-0-1-23.us-west-2.compute.internal (10.0.1.23)", &["ip-10-0-1-23.us-west-2.compute.internal", "10.0.1.23"]),
        ("AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]),
        ("\"VpcId\": \"vpc-0a1b2c3d\", \"CidrBlock\": \"10.0.0.0/16\"", &["vpc-0a1b2c3d", "10.0.0.0/16"]),
        ("aws s3 cp s3://acme-payments-logs-prod/x .", &["acme-payments-logs-prod"]),
        ("Order number 123456789012 was paid", &[]),
        ("", &[]),
        // Percent-encoded, once and twice: masked as the raw bytes.
        ("https://console.aws.amazon.com/go/view?arn=arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Apay&source=x", &["arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Apay"]),
        ("logs-insights$3FqueryDetail$3D~(source~(~'arn%253Aaws%253Alogs%253Aeu-west-1%253A123456789012%253Alog-group%253A%252Faws%252Flambda%252Fpay))", &["arn%253Aaws%253Alogs%253Aeu-west-1%253A123456789012%253Alog-group%253A%252Faws%252Flambda%252Fpay"]),
        ("100% sure, 50%3A50", &[]),
        ("{\"InstanceId\":\"i\\u002d0123456789abcdef0\"}", &["i\\u002d0123456789abcdef0"]),
    ];
    for (input, want) in cases {
        assert_eq!(values(&d, input), *want, "{input}");
    }
}

/// `aws configure set <name> <value>`: a name and its value apart by
/// blanks, anywhere in a text (a shell history, a README, a script).
#[test]
fn configure_set_names_its_value() {
    let d = detector("{}");
    let key = "Zk3v9QpL2mN8xR4tY7uW1sE6aB0cD5fG9hJ2kL4m";
    let cases: &[(String, &[&str])] = &[
        (
            format!("notes\n$ aws configure set aws_secret_access_key {key}\nnext"),
            &[key],
        ),
        (
            format!("aws configure set default.aws_secret_access_key {key} --profile x"),
            &[key],
        ),
        (
            format!("aws configure set aws_secret_access_key \"{key}\""),
            &[key],
        ),
        (
            format!("aws configure  set\taws_secret_access_key {key}"),
            &[key],
        ),
        (
            "aws configure set profile.dev.aws_access_key_id AKIAZ3XQ7RT2MN4PL6KD".into(),
            &["AKIAZ3XQ7RT2MN4PL6KD"],
        ),
        (
            "aws configure set aws_session_token IQoJb3JpZ2luX2VjEJr//////////wEaCXVz".into(),
            &["IQoJb3JpZ2luX2VjEJr//////////wEaCXVz"],
        ),
        // Settings that are no secret, and names without a value.
        ("aws configure set region us-east-1".into(), &[]),
        ("aws configure set cli_pager \"\"".into(), &[]),
        (
            "aws configure set aws_secret_access_key --profile x".into(),
            &[],
        ),
        ("aws configure set aws_secret_access_key".into(), &[]),
        (format!("reconfigure settings {key}"), &[]),
        (format!("configure setaws_secret_access_key {key}"), &[]),
    ];
    for (input, want) in cases {
        assert_eq!(values(&d, input), *want, "{input}");
    }
}

/// The values of secrets AWS keeps for the customer, in the forms its
/// CLI prints and takes them: masked whole, escapes and all; placeholders
/// and names of code stay readable.
#[test]
fn secret_values_are_masked_whole() {
    let d = detector("{}");
    let cases: &[(&str, &[&str])] = &[
        (r#""SecretString": "{\"username\":\"admin\",\"password\":\"Xq7#mP2vL9sK4wR8\"}""#, &[r#"{\"username\":\"admin\",\"password\":\"Xq7#mP2vL9sK4wR8\"}"#]),
        (r#"{\"SecretString\": \"{\\\"password\\\":\\\"Xq7#mP2vL9\\\"}\", \"Name\": \"n\"}"#, &[r#"{\\\"password\\\":\\\"Xq7#mP2vL9\\\"}"#]),
        (r#"{"Parameter": {"Name": "/prod/api-key", "Type": "SecureString", "Value": "sk_live_51HqLyjWDarjt", "Version": 3}}"#, &["sk_live_51HqLyjWDarjt"]),
        ("aws rds create-db-instance --master-user-password 'Xq7#mP2vL9sK4wR8' --engine postgres", &["Xq7#mP2vL9sK4wR8"]),
        ("aws rds modify-db-instance --master-user-password Xq7#mP2vL9sK4wR8\n", &["Xq7#mP2vL9sK4wR8"]),
        (r#"aws secretsmanager put-secret-value --secret-id x --secret-string '{"password":"Xq7#mP2v"}'"#, &[r#"{"password":"Xq7#mP2v"}"#]),
        ("aws ssm put-parameter --name /x --type SecureString --value 'tok_9f8e7d6c5b4a'", &["tok_9f8e7d6c5b4a"]),
        ("aws ssm put-parameter --value tok_9f8e7d6c5b4a --type SecureString", &["tok_9f8e7d6c5b4a"]),
        (r#""ClientSecret": "1d2h3m4s5e6c7r8e9t0k1e2y3v4a5l6u7e8""#, &["1d2h3m4s5e6c7r8e9t0k1e2y3v4a5l6u7e8"]),
        ("COGNITO_CLIENT_SECRET=abc123XYZ987", &["abc123XYZ987"]),
        // Placeholders, references and code.
        ("aws ssm put-parameter --name /x --type String --value 'plain-value'", &[]),
        ("--master-user-password $DB_PASSWORD", &[]),
        (r#""SecretString": "{{resolve:secretsmanager:prod/db}}""#, &[]),
        ("--secret-string file://creds.json", &[]),
        (r#""ClientSecret": "<client-secret>""#, &[]),
        (r#""SecretString": "****""#, &[]),
        ("client_secret = config.client_secret", &[]),
        (r#"clientSecret: os.environ["CLIENT_SECRET"]"#, &[]),
        (r#""SecretString": "unterminated"#, &[]),
    ];
    for (input, want) in cases {
        assert_eq!(values(&d, input), *want, "{input}");
    }
    // An unquoted value runs to a blank within 512 bytes, or is none.
    let long = "a1B".repeat(200);
    assert!(values(&d, &format!("CLIENT_SECRET={long}\n")).is_empty());
    let short = "a1B".repeat(170);
    assert_eq!(
        values(&d, &format!("CLIENT_SECRET={short}\n")),
        [short.as_str()]
    );
}

/// Environment variables as ECS task definitions and Kubernetes pods
/// write them: the variable's name, a sibling member, says what its value
/// is.
#[test]
fn environment_entries_name_their_value() {
    let d = detector("{}");
    let key = "Wk3v9QpL2mN8xR4tY7uW1sE6aB0cD5fG9hJ2kL4u";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            format!(r#""environment": [{{"name": "AWS_SECRET_ACCESS_KEY", "value": "{key}"}}]"#),
            vec![key],
        ),
        (
            r#"[{"name": "S3_BUCKET", "value": "acme-media-prod"}]"#.into(),
            vec!["acme-media-prod"],
        ),
        (
            format!("env:\n        - name: AWS_SECRET_ACCESS_KEY\n          value: {key}\n"),
            vec![key],
        ),
        (
            format!("env:\n- name: \"AWS_SECRET_ACCESS_KEY\"\n  value: \"{key}\"\n"),
            vec![key],
        ),
        (
            "Tags:\n  - Key: Name\n    Value: web-1\n".into(),
            vec!["web-1"],
        ),
        // Names that say nothing about AWS.
        (
            r#"[{"name": "LOG_LEVEL", "value": "debug-verbose-1"}]"#.into(),
            vec![],
        ),
        ("- name: GREETING\n  value: hello-world-2\n".into(), vec![]),
    ];
    for (input, want) in cases {
        assert_eq!(values(&d, &input), want, "{input}");
    }
}

/// A CDK environment names its account: `aws://<account>/<region>`.
#[test]
fn cdk_environments_name_their_account() {
    let d = detector("{}");
    let cases: &[(&str, &[&str])] = &[
        (
            "cdk bootstrap aws://123456789012/us-east-1",
            &["123456789012"],
        ),
        (
            r#""env": "aws://123456789012", "region": "x""#,
            &["123456789012"],
        ),
        (
            " ✅  Environment aws://123456789012/eu-west-1 bootstrapped.",
            &["123456789012"],
        ),
        // In a raw JSON literal, after a `\n` escape.
        (
            r"bootstrap:\naws://123456789012/eu-west-1",
            &["123456789012"],
        ),
        (
            "kaws://123456789012/x aws://1234567890123/x aws://12345678901/x",
            &[],
        ),
    ];
    for (input, want) in cases {
        assert_eq!(values(&d, input), *want, "{input}");
    }
}

/// JSON-escaped text (a JSON document inside a text body or inside another
/// JSON string): the letter of `\n`, `\t`, `\r` is no word character.
#[test]
fn escaped_line_breaks_are_boundaries() {
    let d = detector("{}");
    let cases: &[(&str, &[&str])] = &[
        (
            r"[p]\naws_secret_access_key=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n",
            &["je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"],
        ),
        (
            r"ids:\ni-0123456789abcdef0\tvpc-0a1b2c3d\r10.1.2.3",
            &["i-0123456789abcdef0", "vpc-0a1b2c3d", "10.1.2.3"],
        ),
        (r"\nAKIAIOSFODNN7EXAMPLE\n", &["AKIAIOSFODNN7EXAMPLE"]),
        (
            r"run\n--function-name settle-payments-v2",
            &["settle-payments-v2"],
        ),
        (
            r"\narn:aws:iam::123456789012:role/x",
            &["arn:aws:iam::123456789012:role/x"],
        ),
        // A plain letter before an id is still part of a longer word.
        ("ni-0123456789abcdef0 xvpc-0a1b2c3d", &[]),
        // A secret key near an access key starts after the escape.
        (
            r"AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            &[
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ],
        ),
        // `\n` ends the line a context word must share with an account id,
        // as a newline does.
        (r"OwnerId \n123456789012", &[]),
        ("OwnerId \n123456789012", &[]),
        (r"OwnerId 123456789012\n", &["123456789012"]),
    ];
    for (input, want) in cases {
        assert_eq!(values(&d, input), *want, "{input}");
    }
}

#[test]
fn longest_wins() {
    let mut v = vec![
        Match {
            start: 5,
            end: 9,
            kind: "A",
            family: Family::Custom,
        },
        Match {
            start: 0,
            end: 4,
            kind: "B",
            family: Family::Custom,
        },
        Match {
            start: 2,
            end: 12,
            kind: "C",
            family: Family::Custom,
        },
        Match {
            start: 12,
            end: 14,
            kind: "D",
            family: Family::Custom,
        },
    ];
    resolve(&mut v, 0);
    let kinds: Vec<&str> = v.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, ["C", "D"]);
}

#[test]
fn allowlist_custom_and_switches() {
    let d = detector(
        r#"{"allowlist": [{"value": "10.0.0.1"}, {"regex": "sg-0+"}],
            "custom_patterns": [{"name": "jira", "regex": "PAY-[0-9]+", "kind": "JIRA"}],
            "detectors": {"ec2_ids": false}}"#,
    );
    assert_eq!(
        found(&d, None, "10.0.0.1 10.0.0.2 sg-00000000 PAY-123 i-0123abcd"),
        vec![
            ("10.0.0.2", "IP".to_string()),
            ("PAY-123", "JIRA".to_string())
        ]
    );
    let d = detector(r#"{"detectors": {"named_resources": false, "ip_addresses": false}}"#);
    assert!(values(&d, "\"FunctionName\": \"settle-payments-v2\" 10.0.0.2").is_empty());
    assert!(found(&d, Some("FunctionName"), "settle-payments-v2").is_empty());
}

/// `(key, value, expected (value, kind) pairs)`.
type ValueCase<'c> = (&'c str, &'c str, &'c [(&'c str, &'c str)]);

#[test]
fn in_value() {
    let d = detector("{}");
    let cases: &[ValueCase] = &[
        (
            "FunctionName",
            "settle-payments-v2",
            &[("settle-payments-v2", "LAMBDA")],
        ),
        (
            "DBInstanceIdentifier",
            "prod-payments-db",
            &[("prod-payments-db", "RDS_DB")],
        ),
        (
            "Bucket",
            "acme-payments-logs-prod",
            &[("acme-payments-logs-prod", "S3_BUCKET")],
        ),
        (
            "SecretAccessKey",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            &[("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "SECRET_KEY")],
        ),
        ("OwnerId", "123456789012", &[("123456789012", "ACCOUNT")]),
        // Not a valid name: falls back to ordinary detection.
        ("FunctionName", "see i-0123abcd", &[("i-0123abcd", "EC2")]),
        ("Description", "settle-payments-v2", &[]),
    ];
    for (key, input, want) in cases {
        let got = found(&d, Some(key), input);
        let want: Vec<(&str, String)> = want.iter().map(|(v, k)| (*v, k.to_string())).collect();
        assert_eq!(got, want, "{key}: {input}");
    }
    let d = detector(r#"{"allowlist": [{"value": "settle-payments-v2"}]}"#);
    assert!(found(&d, Some("FunctionName"), "settle-payments-v2").is_empty());
}

#[test]
fn clean_corpus_has_nothing() {
    let d = detector("{}");
    let corpus = include_str!("../../tests/fixtures/clean_corpus.txt");
    let got = found(&d, None, corpus);
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn fixture_originals_are_found() {
    let d = detector("{}");
    let body = include_str!("../../tests/fixtures/claude_code_request.json");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    let mut masked = Vec::new();
    fn walk(d: &Detector, key: Option<&str>, v: &serde_json::Value, masked: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => {
                for (value, _) in found(d, key, s) {
                    masked.push(value.to_string());
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(d, None, x, masked)),
            serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| walk(d, Some(k), x, masked)),
            _ => {}
        }
    }
    walk(&d, None, &json, &mut masked);
    let originals = include_str!("../../tests/fixtures/claude_code_request.originals.txt");
    let missing: Vec<&str> = originals
        .lines()
        .filter(|o| !o.is_empty() && !masked.iter().any(|m| m.contains(o)))
        .collect();
    assert!(
        missing.is_empty(),
        "not masked: {missing:?}\nmasked: {masked:#?}"
    );
}

fn dense_mb() -> String {
    let mut s = String::new();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut hex = |k: usize| -> String {
        (0..k)
            .map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize]))
            .collect()
    };
    while s.len() < 1 << 20 {
        s.push_str(&format!(
            "{{\"InstanceId\": \"i-{}\", \"ImageId\": \"ami-{}\", \"OwnerId\": \"123456789012\",\n \"PrivateIpAddress\": \"10.1.2.3\", \"PrivateDnsName\": \"ip-10-1-2-3.us-west-2.compute.internal\",\n \"SubnetId\": \"subnet-{}\", \"VpcId\": \"vpc-{}\", \"GroupId\": \"sg-{}\",\n \"Arn\": \"arn:aws:iam::123456789012:instance-profile/web-{}\", \"State\": {{\"Code\": 16, \"Name\": \"running\"}}}},\n",
            hex(17), hex(17), hex(17), hex(8), hex(17), hex(4)
        ));
    }
    s
}

/// Random strings over an alphabet rich in anchors never panic and always
/// give sorted, non-overlapping, non-empty ranges on char boundaries.
#[test]
fn random_inputs_keep_invariants() {
    let pieces: &[&str] = &[
        "i-",
        "vpc-",
        "0a1b2c3d",
        "0123456789abcdef0",
        "arn:aws:",
        "iam",
        "::",
        ":",
        "123456789012",
        ".",
        "10",
        "255",
        "/16",
        "2600:1f14::",
        "fd00::1",
        "ip-10-0-1-23",
        ".amazonaws.com",
        ".cn",
        "s3",
        "s3://",
        "my-bucket",
        "/",
        "=",
        "\"",
        "'",
        " ",
        "\n",
        "--",
        "FunctionName",
        "bucket",
        "AKIA",
        "IOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "IQoJb3JpZ2luX2Vj",
        "é",
        "😀",
        "o-",
        "ou-",
        "r-",
        "mrk-",
        "key/",
        "account",
        "\\",
        "{",
        "}",
        ",",
        "-",
        "_",
        "x",
    ];
    let d = detector("{}");
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    for _ in 0..3000 {
        seed = xorshift(seed);
        let s = random_text(pieces, (seed % 24) as usize, &mut seed);
        for key in [None, Some("FunctionName"), Some("Bucket"), Some("KeyId")] {
            let mut out = Vec::new();
            d.find_in_value(key, &s, &mut out);
            let mut last = 0;
            for m in &out {
                assert!(m.start < m.end && m.start >= last, "{s:?}: {out:?}");
                assert!(
                    s.is_char_boundary(m.start) && s.is_char_boundary(m.end),
                    "{s:?}"
                );
                last = m.end;
            }
        }
    }
}

/// The prefilter that lets short strings skip every scanner must not drop
/// a value made of letters only.
#[test]
fn prefilter_is_sound() {
    let d = detector("{}");
    assert_eq!(values(&d, "AKIAABCDEFGHIJKLMNOP"), ["AKIAABCDEFGHIJKLMNOP"]);
    assert!(could_hold_builtin(b"AKIAABCDEFGHIJKLMNOP"));
    for word in [&b"assistant"[..], b"role", b"tool_result", b"Hello World"] {
        assert!(
            !could_hold_builtin(word),
            "{}",
            String::from_utf8_lossy(word)
        );
    }
    // Custom patterns still run on such strings.
    let d = detector(r#"{"custom_patterns": [{"name": "t", "regex": "secretword", "kind": "T"}]}"#);
    assert_eq!(values(&d, "a secretword"), ["secretword"]);
}

/// The catalog's one pass over the anchor bytes finds exactly what each
/// family's own search finds, on realistic and on random inputs (the
/// per-family `find`s are the reference, each with its own needles).
#[test]
fn shared_passes_find_what_each_family_finds() {
    let own = |b: &[u8]| {
        let f = |n: &[u8]| Finder::new(n).into_owned();
        let mut out = Vec::new();
        arns::find(b, &f(b"arn:"), &mut out);
        ec2_ids::find(b, &mut out);
        organizations::find(b, &mut out);
        kms_keys::find(b, &f(b"key/"), &f(b"mrk-"), &mut out);
        let needles = account_ids::Needles {
            ecr: f(b".dkr.ecr."),
            aws_path: f(b".amazonaws.com/"),
        };
        account_ids::find(b, &needles, true, &mut out);
        let keys = access_keys::spans(b);
        access_keys::push(&keys, &mut out);
        access_keys::push_session_names(b, &keys, &mut out);
        secret_keys::find_near(b, &keys, &mut out);
        session_tokens::find(b, &mut out);
        ip_addresses::find(b, &mut out);
        hostnames::find(b, &f(b"ip-"), &mut out);
        s3_buckets::find(b, &f(b"://"), &f(b".amazonaws.com/"), &mut out);
        named_resources::find(b, &Detectors::default(), &f(b"--"), &mut out);
        resolve(&mut out, 0);
        out
    };
    let shared = |b: &[u8]| {
        let mut out = Vec::new();
        Detector::collect_builtin(&Detectors::default(), b, &mut out);
        resolve(&mut out, 0);
        out
    };
    let mut inputs = vec![
        dense_mb()[..64 * 1024].to_string(),
        include_str!("../../tests/fixtures/clean_corpus.txt").to_string(),
        include_str!("../../tests/fixtures/claude_code_request.json").to_string(),
        "see ip-10-0-1-23.us-west-2.compute.internal, mrk-0123456789abcdef0123456789abcdef, \
         123456789012.dkr.ecr.us-east-1.amazonaws.com/app, \
         https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo, \
         https://s3.us-west-2.amazonaws.com/my-bucket/key, o-abc123defg, ou-ab12-cdef5678, \
         r-ab12, 10.0.0.1/16, db.abc123.us-east-1.rds.amazonaws.com"
            .to_string(),
        "Ipv6Address: 2600:1f14:abc:de00::1234, FunctionName=my-func-1, \
         \"DBInstanceIdentifier\": \"prod-db\", --function-name my-func-2, \
         std::collections::BTreeMap a::b x := 1 fd12:3456:789a:1::1/64"
            .to_string(),
    ];
    let pieces = [
        "2600:1f14::",
        "fd00::1",
        "FunctionName",
        "Ipv6Address",
        "prod-db",
        "--function-name ",
        "i-",
        "0123456789abcdef0",
        "ip-",
        "10",
        "-",
        ".",
        "mrk",
        "0123456789abcdef",
        "o-",
        "ou-",
        "r-",
        "ab12cd34",
        ".dkr.ecr.",
        ".amazonaws.com/",
        "123456789012",
        "/",
        "sqs",
        "s3",
        "us-east-1",
        "my-bucket",
        " ",
        "\n",
        "\\n",
        ":",
        "=",
        "\"",
        "arn:",
        "aws",
        "iam::123456789012:role/r",
        "key/",
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "1234abcd",
        "--",
        "---",
        "bucket ",
        "AKIA",
        "IOSFODNN7EXAMPLE",
        "AROACLKWSDQRAOEXAMPLE:",
        "app1",
        ":s3,",
        "k=v:",
        "s3://",
        "A",
    ];
    let mut x = 0x853c_49e6_748f_ea9bu64;
    for _ in 0..400 {
        inputs.push(random_text(&pieces, 24, &mut x));
    }
    for input in &inputs {
        let b = input.as_bytes();
        assert_eq!(shared(b), own(b), "{}", &input[..input.len().min(300)]);
    }
}

/// Passing over the second separator of `::`, `:=`, `==` and `=:` finds
/// exactly what visiting every `:` and `=` finds, on random texts rich in
/// separators, ARNs, IPv6 addresses, `s3://` and keys.
#[test]
fn separator_pairs_passed_over_lose_nothing() {
    let pieces: &[&str] = &[
        "::",
        ":",
        "=",
        "==",
        ":=",
        "=:",
        "arn",
        "arn:aws:iam::123456789012:role/x",
        "aws",
        "fe80",
        "2600:1f14",
        "fd00",
        "1",
        "a",
        "s3",
        "//",
        "/",
        "bucket",
        "Bucket",
        "KeyId",
        "owner",
        "account",
        "123456789012",
        "my-bucket",
        " ",
        "\"",
        "\\",
        "'",
        "n",
        "_",
        "-",
        ".",
        "x",
    ];
    let on = Config::default().detectors;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..5000 {
        let text = random_text(pieces, 12, &mut seed);
        let b = text.as_bytes();
        let mut fast = Anchored::default();
        fast.scan_separators(&on, b);
        let mut every = Anchored::default();
        for p in memchr::memchr2_iter(b':', b'=', b) {
            every.at_separator(&on, b, p);
        }
        assert_eq!(
            (&fast.arns, &fast.v6, &fast.s3_scheme, &fast.keyed),
            (&every.arns, &every.v6, &every.s3_scheme, &every.keyed),
            "{text:?}"
        );
    }
}

/// A long text searched window by window gives what a search of the whole
/// text gives, with values of every family placed across the window edges
/// (each piece is put at many offsets relative to an edge).
/// A quoted secret value longer than what is searched past a window (up to
/// Secrets Manager's 64 KiB), which starts just before the window's end, is
/// found whole, as in a search of the whole text: cut by the window, it
/// went unfound and reached the upstream whole.
#[test]
fn a_long_secret_value_across_a_window_edge_is_found_whole() {
    let d = detector("{}");
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for len in [20_000usize, 60_000] {
        let value: String = (0..len)
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.below(36) as usize]))
            .collect();
        for back in [10usize, 100, 5_000, 17_000] {
            let mut text = "lorem ipsum dolor sit amet\n".repeat(WINDOW / 27 + 1);
            text.truncate(WINDOW - back);
            text.push_str("{\"SecretString\": \"");
            let at = text.len();
            text.push_str(&value);
            text.push_str("\", \"VersionId\": \"v1\"}\n");
            text.push_str(&"more output after the secret\n".repeat(10_000));
            let mut windowed = Vec::new();
            for w in windows(&text) {
                assert!(d.find_in_window(&text, w, false, &mut windowed));
            }
            assert!(
                windowed.iter().any(|m| m.start == at && m.end == at + len),
                "a {len}-byte value {back} bytes before the edge: {:?}",
                windowed
                    .iter()
                    .map(|m| (m.start, m.end))
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn windows_find_what_the_whole_text_finds() {
    let d = detector("{}");
    let pieces = [
        "i-0123456789abcdef0 ",
        "arn:aws:iam::123456789012:role/deploy-prod\n",
        "10.20.30.40 ",
        "\"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\n",
        "AKIAIOSFODNN7EXAMPLE ",
        "s3://my-data-bucket/key ",
        "my-db.abc123xyz.us-east-1.rds.amazonaws.com ",
        "\"FunctionName\": \"order-handler\"\n",
        "plain words and code { let x = a.b - c; } ",
        "é ü ",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    let mut text = random_text(&pieces, 2_000, &mut seed);
    while text.len() < 3 * WINDOW + 5_000 {
        text.push_str(&random_text(&pieces, 2_000, &mut seed));
    }
    let mut whole = Vec::new();
    d.find(&text, &mut whole);
    let mut windowed = Vec::new();
    for w in windows(&text) {
        assert!(d.find_in_window(&text, w, false, &mut windowed));
    }
    let spans = |ms: &[Match<'_>]| {
        ms.iter()
            .map(|m| (m.start, m.end, m.kind.to_string()))
            .collect::<Vec<_>>()
    };
    assert!(whole.len() > 1_000, "{}", whole.len());
    let (windowed, whole) = (spans(&windowed), spans(&whole));
    let first_difference = windowed.iter().zip(&whole).position(|(a, b)| a != b);
    assert!(
        windowed.len() == whole.len() && first_difference.is_none(),
        "{} windowed, {} whole, first difference at {first_difference:?}",
        windowed.len(),
        whole.len()
    );
}
