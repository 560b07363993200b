//! Detection on raw JSON literals finds what detection on decoded ones
//! finds: random bodies whose texts are dense with identifiers, context
//! words and newlines (which JSON carries as `\n`), masked by an engine
//! that takes such literals raw and by one that decodes every literal, give
//! the same bytes and the same counts.

use super::SECRET;
use crate::splitmix::Rng;
use aws_masker::config::Config;
use aws_masker::mask::{Engine, MaskReport};

/// Pieces of text a literal may hold raw: no `"`, `\` or control byte but
/// the newline. Identifiers of every family, the words and keys that give
/// context, words starting with the letter of an escape (`nfoo` must not
/// be taken for a word after `\n`), and many newlines.
const RAW_PIECES: &[&str] = &[
    "i-0123456789abcdef0",
    "vpc-0a1b2c3d",
    "subnet-0fedcba9876543210",
    "sg-0123abcd",
    "10.0.1.23",
    "54.239.28.85",
    "10.0.0.0/16",
    "fe80::1ff:fe23:4567:890a",
    "2600:1f18:abcd::1",
    "AKIAIOSFODNN7EXAMPLE",
    "ASIAY34FZKBOKMUTVV7A",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE",
    "aws_secret_access_key=",
    "aws_secret_access_key = ",
    "AWS_SECRET_ACCESS_KEY: ",
    "aws_session_token=",
    "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampletokenAbCdEf0123456789+/=",
    "123456789012",
    "210987654321",
    "account ",
    "Account: ",
    "owner-id ",
    "OwnerId ",
    "principal ",
    "arn:aws:iam::123456789012:role/deploy-1",
    "arn:aws:lambda:us-east-1:123456789012:function:settle-payments",
    "arn:aws:s3:::acme-logs/x",
    "arn:aws:rds:eu-west-1:210987654321:db:nprod-db",
    "prod-db.abc123xyz.us-east-1.rds.amazonaws.com",
    "acme-payments-logs-prod.s3.amazonaws.com",
    "s3://acme-payments-logs-prod/key",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
    "https://sqs.us-east-1.amazonaws.com/123456789012/payments-dlq",
    "ip-10-0-1-23.us-west-2.compute.internal",
    "FunctionName: ",
    "--function-name ",
    "function_name=",
    "Bucket: ",
    "--bucket ",
    "DBInstanceIdentifier: ",
    "KeyId: ",
    "1234abcd-12ab-34cd-56ef-1234567890ab",
    "o-a1b2c3d4e5",
    "ou-ab12-cdef3456",
    "FwoGZXIvYXdzEBYaDHhZ0VexampleAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/0123456789",
    "x-amz-security-token: ",
    "alias/prod-key",
    "LogGroupName: ",
    "/aws/lambda/settle-payments",
    "RoleName=",
    "TableName: ",
    "bucket = ",
    "function_name: ",
    "https://s3.us-east-1.amazonaws.com/acme-logs/x",
    "abc123defg.execute-api.us-east-1.amazonaws.com",
    "nAKIAIOSFODNN7EXAMPLE",
    "ni-0123456789abcdef0",
    "n10.0.1.23",
    "t123456789012",
    "r-ab12",
    "settle-payments",
    "deploy-1",
    "nsettle-payments",
    "nprod-db",
    "tdeploy-1",
    "nfoo-1",
    "n",
    "t",
    "r",
    "north ",
    "the ",
    "run ",
    " ",
    " ",
    ":",
    "=",
    ",",
    ".",
    "/",
    "-",
    "_",
    "::",
    "(",
    ")",
    "\n",
    "\n",
    "\n",
    "\n",
    " \n",
    "\n\n",
    ":\n",
    "=\n",
    ".\n",
    "-\n",
    "/\n",
];

/// Pieces that make a literal be decoded (an escape other than `\n`).
const OTHER_PIECES: &[&str] = &["\"", "\\", "\t", "\\n", "\r", "é", "\"FunctionName\": \""];

/// A text of up to `max` pieces; one text in eight also draws from
/// [`OTHER_PIECES`].
fn text(rng: &mut Rng, max: u64) -> String {
    let count = rng.next() % max;
    let other = rng.next().is_multiple_of(8);
    let mut s = String::new();
    for _ in 0..count {
        let seed = rng.next();
        if other && seed.is_multiple_of(16) {
            s.push_str(OTHER_PIECES[((seed >> 8) % OTHER_PIECES.len() as u64) as usize]);
        } else {
            s.push_str(RAW_PIECES[((seed >> 8) % RAW_PIECES.len() as u64) as usize]);
        }
    }
    s
}

/// A Claude-like request whose texts come from `seed`: prose, a tool
/// result, a command, and values under keys that name resources.
fn body(seed: &mut Rng) -> Vec<u8> {
    let (t1, t2, t3, t4, t5) = (
        text(seed, 60),
        text(seed, 60),
        text(seed, 20),
        text(seed, 4),
        text(seed, 4),
    );
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5",
        "system": [{"type": "text", "text": t3}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": t1},
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": t2},
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_2", "name": "Bash",
                 "input": {"command": t3, "FunctionName": t4, "Bucket": t5, t4.clone(): t5}},
            ]},
        ],
    }))
    .unwrap()
}

fn engine(raw: bool, memo: bool) -> Engine {
    let config = if memo {
        Config::default()
    } else {
        Config::from_json(br#"{"memo_texts": 0}"#).unwrap()
    };
    Engine::new(config, SECRET).with_raw_literals(raw)
}

fn mask(e: &Engine, body: &[u8]) -> (Option<Vec<u8>>, MaskReport) {
    let mut tokens = e.new_token_map();
    let mut report = MaskReport::default();
    let out = e.mask_json(body, &mut tokens, &mut report).unwrap();
    (out, report)
}

/// Where two outputs first differ, with some context, for a failure message.
fn first_difference(raw: Option<&[u8]>, decoded: Option<&[u8]>) -> String {
    let (a, b) = (raw.unwrap_or_default(), decoded.unwrap_or_default());
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let around = |s: &[u8]| {
        String::from_utf8_lossy(&s[at.saturating_sub(80)..(at + 80).min(s.len())]).into_owned()
    };
    format!("raw:     {}\ndecoded: {}", around(a), around(b))
}

#[test]
fn raw_literals_mask_as_decoded_ones() {
    let (raw, decoded, memo) = (
        engine(true, false),
        engine(false, false),
        engine(true, true),
    );
    let mut seed = Rng(0x5eed_1234_abcd_0001);
    let mut masked = 0;
    for case in 0..5000 {
        let body = body(&mut seed);
        let want = mask(&decoded, &body);
        let got = mask(&raw, &body);
        if got.0 != want.0 {
            panic!(
                "case {case}: raw and decoded differ\n{}\nbody: {}",
                first_difference(got.0.as_deref(), want.0.as_deref()),
                String::from_utf8_lossy(&body)
            );
        }
        assert_eq!(got.1, want.1, "case {case}");
        // Twice through one memo: the second time the memo serves the raw
        // texts it remembered.
        for _ in 0..2 {
            assert_eq!(mask(&memo, &body).0, want.0, "case {case}, memo");
        }
        masked += usize::from(want.0.is_some());
    }
    assert!(masked > 4000, "only {masked} bodies had something to mask");
}
