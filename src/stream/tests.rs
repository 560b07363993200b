use super::*;
use crate::token::TokenKey;
use proptest::prelude::*;
use serde_json::{json, Value};

const EC2: &str = "i-0123456789abcdef0";
const ARN: &str = "arn:aws:iam::123456789012:role/My \"quoted\" Role";

fn key() -> TokenKey {
    TokenKey::new(b"stream test secret, 32 bytes....")
}

/// A map with an EC2 id and an ARN (whose original needs JSON escaping).
fn map() -> (TokenMap, String, String) {
    let mut m = TokenMap::new("AWS_".into());
    let ec2 = m.issue(&key(), "EC2", EC2).to_string();
    let arn = m.issue(&key(), "ARN_IAM", ARN).to_string();
    (m, ec2, arn)
}

fn sse(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// A delta event in Anthropic's own compact form (the fast path).
fn delta_event(index: u64, ty: &str, field: &str, value: &str) -> String {
    let v = serde_json::to_string(value).unwrap();
    format!(
        "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":{index},\"delta\":{{\"type\":\"{ty}\",\"{field}\":{v}}}}}\n\n"
    )
}

/// The same delta with members in another order and spaced (the general
/// path).
fn delta_event_general(index: u64, ty: &str, field: &str, value: &str) -> String {
    sse(
        "content_block_delta",
        &json!({"type":"content_block_delta","index":index,"delta":{"type":ty,field:value}}),
    )
    .replace("\"index\":", "\"index\": ")
}

fn text_delta(index: u64, text: &str) -> String {
    delta_event(index, "text_delta", "text", text)
}

fn json_delta(index: u64, partial: &str) -> String {
    delta_event(index, "input_json_delta", "partial_json", partial)
}

fn block_stop(index: u64) -> String {
    sse(
        "content_block_stop",
        &json!({"type":"content_block_stop","index":index}),
    )
}

/// Runs `input` through a fresh restorer, cut into chunks of the given
/// sizes (cycled); returns the output and the restored count.
fn run_with(map: &TokenMap, thinking: bool, input: &[u8], sizes: &[usize]) -> (Vec<u8>, u64) {
    let mut r = SseRestorer::new(map.clone(), thinking);
    let mut out = Vec::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        let (a, b) = rest.split_at(n);
        r.push(a, &mut out);
        rest = b;
        i += 1;
    }
    r.finish(&mut out);
    (out, r.restored())
}

/// Runs `input` whole, byte by byte and in assorted chunkings, asserts
/// all outputs agree, and returns it.
fn run_all(map: &TokenMap, thinking: bool, input: &str) -> (String, u64) {
    let input = input.as_bytes();
    let (whole, n) = run_with(map, thinking, input, &[input.len().max(1)]);
    for sizes in [&[1usize][..], &[2], &[3, 1, 7], &[16], &[64, 5], &[1000]] {
        let (out, m) = run_with(map, thinking, input, sizes);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&whole),
            "chunking {sizes:?}"
        );
        assert_eq!(m, n, "count with chunking {sizes:?}");
    }
    (String::from_utf8(whole).expect("utf-8 output"), n)
}

/// The data JSON of every event of an LF-framed stream.
fn events(stream: &str) -> Vec<Value> {
    stream
        .split("\n\n")
        .filter_map(|ev| {
            let data: Vec<&str> = ev
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|v| v.strip_prefix(' ').unwrap_or(v))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .filter_map(|d| serde_json::from_str(&d).ok())
        .collect()
}

/// Concatenated `field` of the deltas of content block `index`.
fn block_text(stream: &str, index: u64, field: &str) -> String {
    events(stream)
        .iter()
        .filter(|e| e["type"] == "content_block_delta" && e["index"] == index)
        .filter_map(|e| e["delta"][field].as_str().map(str::to_string))
        .collect()
}

fn anthropic_stream(ec2: &str, arn: &str) -> String {
    let (a, b) = ec2.split_at(9);
    let (c, d) = arn.split_at(3);
    let partial = format!(r#"{{"instance_id": "{ec2}", "role": "{c}"#);
    let (p1, p2) = partial.split_at(20);
    let mut s = String::new();
    s += &sse(
        "message_start",
        &json!({"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}),
    );
    s += &sse(
        "content_block_start",
        &json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
    );
    s += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
    s += &text_delta(0, "Instance ");
    s += &text_delta(0, a);
    s += &text_delta(0, &format!("{b} runs A"));
    s += &text_delta(
        0,
        &format!("WS stuff, role {arn}, unknown AWS_EC2_deadbeef, cut {a}"),
    );
    s += &text_delta(0, "!");
    s += &block_stop(0);
    s += &sse(
        "content_block_start",
        &json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"describe","input":{}}}),
    );
    s += &json_delta(1, "");
    s += &json_delta(1, p1);
    s += &json_delta(1, p2);
    s += &json_delta(1, &format!(r#"{d}"}}"#));
    s += &block_stop(1);
    s += &sse(
        "message_delta",
        &json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}),
    );
    s += &sse("message_stop", &json!({"type":"message_stop"}));
    s
}

#[test]
fn anthropic_stream_is_restored_across_deltas_and_chunks() {
    let (m, ec2, arn) = map();
    let compact = anthropic_stream(&ec2, &arn);
    for input in [compact.clone(), reordered(&compact)] {
        check_anthropic_stream(&m, &ec2, &arn, &input);
    }
}

/// `stream` with every JSON data line re-serialized with its members in
/// sorted order (not the order Anthropic sends).
fn reordered(stream: &str) -> String {
    stream
        .split_inclusive('\n')
        .map(
            |l| match l.strip_prefix("data: ").map(serde_json::from_str::<Value>) {
                Some(Ok(v)) => format!("data: {v}\n"),
                _ => l.to_string(),
            },
        )
        .collect()
}

fn check_anthropic_stream(m: &TokenMap, ec2: &str, arn: &str, input: &str) {
    let (out, n) = run_all(m, false, input);
    let (a, _) = ec2.split_at(9);
    assert_eq!(
        block_text(&out, 0, "text"),
        format!("Instance {EC2} runs AWS stuff, role {ARN}, unknown AWS_EC2_deadbeef, cut {a}!")
    );
    let args: Value = serde_json::from_str(&block_text(&out, 1, "partial_json")).unwrap();
    assert_eq!(args, json!({"instance_id": EC2, "role": ARN}));
    assert_eq!(n, 4);
    // Untouched events are byte-identical; the event sequence is kept.
    for keep in input.split_inclusive("\n\n").filter(|e| {
        e.starts_with("event: ping")
            || e.starts_with("event: message_")
            || e.contains("input_json_delta\",\"partial_json\":\"\"")
    }) {
        assert!(out.contains(keep), "{keep}");
    }
    let types: Vec<String> = events(&out)
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    let in_types: Vec<String> = events(input)
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, in_types);
    assert!(!out.contains(ec2) && !out.contains(arn));
}

#[test]
fn stream_without_tokens_is_byte_identical() {
    let (m, _, _) = map();
    let mut input = String::new();
    input += &text_delta(0, "AWS A AW AWS_ AWS_EC2 \u{e9}\u{1F600} \"q\" \\ end A");
    input += "event: content_block_delta\r\ndata:{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"  AWS\"}}\r\n\r\n";
    input += ": keep-alive\r\r";
    input += &block_stop(0);
    input += "data: not json at all A\n\n";
    input += "id: 7\nretry: 100\n\n";
    let (out, n) = run_all(&m, false, &input);
    assert_eq!(n, 0);
    // A held `A` / `AWS` is released unchanged in the next delta or a
    // synthetic one, so compare the restored text, then identity on a
    // stream whose deltas end cleanly.
    let lf = out.replace("\r\n", "\n");
    assert!(block_text(&lf, 0, "text").ends_with("end A  AWS"), "{out}");
    let clean = input.replace(" end A", " end.").replace("  AWS", "  AWS.");
    let (out, _) = run_all(&m, false, &clean);
    assert_eq!(out, clean);
    let empty = TokenMap::new("AWS_".into());
    let (out, _) = run_all(&empty, false, &input);
    assert_eq!(out, input);
}

#[test]
fn held_tail_is_flushed_before_block_stop_and_at_finish() {
    let (m, ec2, _) = map();
    let cut = &ec2[..ec2.len() - 2];
    let input = format!(
        "{}{}{}{}",
        text_delta(0, "x "),
        text_delta(0, cut),
        block_stop(0),
        text_delta(1, &format!("y {cut}"))
    );
    let (out, n) = run_all(&m, false, &input);
    assert_eq!(n, 0);
    assert_eq!(block_text(&out, 0, "text"), format!("x {cut}"));
    assert_eq!(block_text(&out, 1, "text"), format!("y {cut}"));
    let stop = out.find("content_block_stop").unwrap();
    let synthetic = out.find(&format!("\"text\":\"{cut}\"")).unwrap();
    assert!(synthetic < stop, "{out}");
    // The delta whose text was all held is still emitted, empty.
    assert!(out.contains(r#""text":"""#));
    // An incomplete final event is passed on as is.
    let (out, _) = run_all(&m, false, "data: {\"type\":\"ping\"");
    assert_eq!(out, "data: {\"type\":\"ping\"");
}

#[test]
fn thinking_and_signature_follow_the_setting() {
    let (m, ec2, _) = map();
    let (a, b) = ec2.split_at(5);
    let think = |t: &str| delta_event(0, "thinking_delta", "thinking", t);
    let sig = sse(
        "content_block_delta",
        &json!({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":ec2}}),
    );
    let start = sse(
        "content_block_start",
        &json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":ec2,"signature":""}}),
    );
    let input = format!("{start}{}{}{sig}{}", think(a), think(b), block_stop(0));
    let (out, n) = run_all(&m, false, &input);
    assert_eq!(out, input);
    assert_eq!(n, 0);
    let (out, n) = run_all(&m, true, &input);
    assert_eq!(n, 2);
    assert_eq!(block_text(&out, 0, "thinking"), EC2);
    assert!(out.contains(&sig));
    assert_eq!(events(&out)[0]["content_block"]["thinking"], EC2);
}

#[test]
fn citations_and_other_events_are_restored_whole() {
    let (m, ec2, arn) = map();
    let input = format!(
        "{}{}",
        sse(
            "content_block_delta",
            &json!({"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"char_location","cited_text":format!("see {ec2}"),"document_title":arn}}}),
        ),
        sse(
            "error",
            &json!({"type":"error","error":{"type":"overloaded_error","message":format!("{ec2} busy")}})
        )
    );
    let (out, n) = run_all(&m, false, &input);
    assert_eq!(n, 3);
    let evs = events(&out);
    assert_eq!(
        evs[0]["delta"]["citation"]["cited_text"],
        format!("see {EC2}")
    );
    assert_eq!(evs[0]["delta"]["citation"]["document_title"], ARN);
    assert_eq!(evs[1]["error"]["message"], format!("{EC2} busy"));
}

#[test]
fn non_json_multiline_and_invalid_utf8_data() {
    let (m, ec2, _) = map();
    let input = format!("data: raw {ec2} text\n\ndata: {{\"a\":\ndata: \"{ec2}\"}}\n\n");
    let (out, n) = run_all(&m, false, &input);
    assert_eq!(n, 2);
    assert_eq!(
        out,
        format!("data: raw {EC2} text\n\ndata: {{\"a\":\ndata: \"{EC2}\"}}\n\n")
    );
    let mut bytes = b"data: \xff\xfe{\"text\":\"".to_vec();
    bytes.extend_from_slice(ec2.as_bytes());
    bytes.extend_from_slice(b"\x80\"}\n\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"\xc3\"}}\n\n");
    let (out, n) = run_with(&m, false, &bytes, &[1]);
    let (whole, _) = run_with(&m, false, &bytes, &[bytes.len()]);
    assert_eq!(out, whole);
    assert_eq!(n, 1);
    assert!(out.windows(EC2.len()).any(|w| w == EC2.as_bytes()));
}

#[test]
fn line_endings_and_data_style_are_kept() {
    let (m, ec2, _) = map();
    let input = format!(
        "event: content_block_delta\r\nid: 1\r\ndata:{{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{ec2}\"}}}}\r\n: c\r\n\r\n"
    );
    let (out, _) = run_all(&m, false, &input);
    assert_eq!(out, input.replace(&ec2, EC2));
    let cr = input.replace("\r\n", "\r");
    let (out, _) = run_all(&m, false, &cr);
    assert_eq!(out, cr.replace(&ec2, EC2));
}

fn openai_chunk(choice: Value) -> String {
    format!(
        "data: {}\n\n",
        json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[choice]})
    )
}

#[test]
fn openai_stream_is_restored() {
    let (m, ec2, arn) = map();
    let (a, b) = ec2.split_at(6);
    let args = format!(r#"{{"id":"{ec2}","arn":"{arn}"}}"#);
    let (p1, p2) = args.split_at(args.len() - 10);
    let mut input = String::new();
    input += &openai_chunk(
        json!({"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}),
    );
    input += &openai_chunk(
        json!({"index":0,"delta":{"content":format!("Stop {a}")},"finish_reason":null}),
    );
    input += &openai_chunk(
        json!({"index":0,"delta":{"content":format!("{b} and {}", &ec2[..4])},"finish_reason":null}),
    );
    input += &openai_chunk(
        json!({"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"stop","arguments":p1}}]},"finish_reason":null}),
    );
    input += &openai_chunk(
        json!({"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":p2}}]},"finish_reason":null}),
    );
    input += &openai_chunk(
        json!({"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":&ec2[..7]}}]},"finish_reason":null}),
    );
    input += &openai_chunk(json!({"index":0,"delta":{},"finish_reason":"tool_calls"}));
    input += "data: [DONE]\n\n";
    let (out, n) = run_all(&m, false, &input);
    assert_eq!(n, 3);
    let evs = events(&out);
    let content: String = evs
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, format!("Stop {EC2} and {}", &ec2[..4]));
    let args_of = |t: u64| -> String {
        evs.iter()
            .flat_map(|e| {
                e["choices"][0]["delta"]["tool_calls"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|tc| tc["index"] == t)
            .filter_map(|tc| tc["function"]["arguments"].as_str().map(str::to_string))
            .collect()
    };
    let parsed: Value = serde_json::from_str(&args_of(0)).unwrap();
    assert_eq!(parsed, json!({"id": EC2, "arn": ARN}));
    assert_eq!(args_of(1), &ec2[..7]);
    // Held tails come out before the finishing chunk; [DONE] is last.
    let fin = out.find("\"finish_reason\":\"tool_calls\"").unwrap();
    let flushed = out.find(&format!("\"content\":\"{}\"", &ec2[..4])).unwrap();
    assert!(flushed < fin);
    assert!(out.ends_with("data: [DONE]\n\n"));
    assert!(out.contains(r#""id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o""#));
}

#[test]
fn openai_finish_chunk_with_content_restores_in_place() {
    let (m, ec2, _) = map();
    let (a, b) = ec2.split_at(10);
    let input = format!(
        "{}{}data: [DONE]\n\n",
        openai_chunk(json!({"index":0,"delta":{"content":a},"finish_reason":null})),
        openai_chunk(json!({"index":0,"delta":{"content":b},"finish_reason":"stop"}))
    );
    let (out, n) = run_all(&m, false, &input);
    assert_eq!(n, 1);
    let evs = events(&out);
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0]["choices"][0]["delta"]["content"], "");
    assert_eq!(evs[1]["choices"][0]["delta"]["content"], EC2);
}

#[test]
fn nested_tokens_wait_for_the_longer_one() {
    let mut m = TokenMap::new("AWS_".into());
    let short = m.issue(&key(), "X", "short").to_string();
    let hash = short.trim_start_matches("AWS_X_").to_string();
    let long = m.issue(&key(), &format!("X_{hash}"), "long").to_string();
    let tail = &long[short.len()..];
    let input = format!(
        "{}{}{}{}{}",
        text_delta(0, &short),
        text_delta(0, tail),
        text_delta(0, &format!(" {short}")),
        text_delta(0, " end"),
        text_delta(1, &short),
    );
    let (out, n) = run_all(&m, false, &input);
    assert_eq!(block_text(&out, 0, "text"), "long short end");
    // Flushed at finish, and restored then.
    assert_eq!(block_text(&out, 1, "text"), "short");
    assert_eq!(n, 3);
}

#[test]
fn text_stream_restorer_holds_only_prefix_tails() {
    let (m, ec2, arn) = map();
    let text = format!("a {ec2} b {arn}\u{e9} AWS_EC2_deadbeef \u{1} {}", &ec2[..5]);
    // Invalid UTF-8 in place of the \u{1}.
    let to_bytes = |s: &str| {
        s.replace('\u{1}', "\u{2}")
            .into_bytes()
            .into_iter()
            .map(|b| if b == 2 { 0xff } else { b })
            .collect::<Vec<u8>>()
    };
    for esc in [Escape::Raw, Escape::Json] {
        let want = {
            let mut s = text.replace(&ec2, EC2);
            let mut a = String::new();
            match esc {
                Escape::Raw => a.push_str(ARN),
                Escape::Json => crate::json::escape_into(ARN, &mut a),
            }
            s = s.replace(&arn, &a);
            to_bytes(&s)
        };
        let input = to_bytes(&text);
        for size in [1, 2, 3, 5, 8, 100] {
            let mut r = TextStreamRestorer::new(m.clone(), esc);
            let mut out = Vec::new();
            for c in input.chunks(size) {
                r.push(c, &mut out);
                // Never more than a token's length is held.
                assert!(r.held.len() < ec2.len().max(arn.len()));
            }
            r.finish(&mut out);
            assert_eq!(out, want, "size {size}");
            assert_eq!(r.restored(), 2);
        }
    }
}

/// Fragments streamed text is built from: tokens, cut tokens, prefix
/// pieces, unknown tokens and characters that need escaping.
fn fragment(ec2: &str, arn: &str) -> impl Strategy<Value = String> {
    let ec2 = ec2.to_string();
    let arn = arn.to_string();
    prop_oneof![
        Just(ec2.clone()),
        Just(arn.clone()),
        (1usize..16).prop_map(move |n| ec2[..n].to_string()),
        (1usize..20).prop_map(move |n| arn[..n].to_string()),
        Just("A".to_string()),
        Just("AW".to_string()),
        Just("AWS_".to_string()),
        Just("AWS_EC2_deadbeef".to_string()),
        Just(" ".to_string()),
        Just("\"\\\n\t".to_string()),
        Just("\u{e9}\u{1F600}".to_string()),
        "[a-z ]{0,6}",
    ]
}

/// Expected restoration of a whole text (restore of the concatenation).
fn expect(m: &TokenMap, text: &str, esc: Escape) -> String {
    let mut out = String::new();
    Restorer::new(m).restore_into(text, esc, &mut out);
    out
}

/// Splits `s` at the given fractions (on char boundaries).
fn split_at_fracs(s: &str, fracs: &[u16]) -> Vec<String> {
    let mut cuts: Vec<usize> = fracs
        .iter()
        .map(|f| {
            let mut c = s.len() * usize::from(*f) / 1000;
            while !s.is_char_boundary(c) {
                c -= 1;
            }
            c
        })
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut parts = Vec::new();
    let mut last = 0;
    for c in cuts {
        parts.push(s[last..c].to_string());
        last = c;
    }
    parts.push(s[last..].to_string());
    parts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_split_and_chunking_restores_the_same(
        text_frags in proptest::collection::vec(fragment(&map().1, &map().2), 0..12),
        json_frags in proptest::collection::vec(fragment(&map().1, &map().2), 0..8),
        text_cuts in proptest::collection::vec(0u16..1000, 0..6),
        json_cuts in proptest::collection::vec(0u16..1000, 0..6),
        chunks in proptest::collection::vec(1usize..64, 1..8),
        crlf in any::<bool>(),
        general in any::<bool>(),
    ) {
        let delta = if general { delta_event_general } else { delta_event };
        let (m, _, _) = map();
        let text: String = text_frags.concat();
        let value: String = json_frags.concat();
        let partial = serde_json::to_string(&json!({"v": value})).unwrap();
        let mut input = String::new();
        input += &delta(0, "text_delta", "text", "");
        for part in split_at_fracs(&text, &text_cuts) {
            input += &delta(0, "text_delta", "text", &part);
        }
        input += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
        input += &block_stop(0);
        for part in split_at_fracs(&partial, &json_cuts) {
            input += &delta(1, "input_json_delta", "partial_json", &part);
        }
        input += &block_stop(1);
        if crlf {
            input = input.replace('\n', "\r\n");
        }
        let bytes = input.as_bytes();
        let (whole, n) = run_with(&m, false, bytes, &[bytes.len()]);
        let (chunked, n2) = run_with(&m, false, bytes, &chunks);
        prop_assert_eq!(&whole, &chunked);
        prop_assert_eq!(n, n2);
        let out = String::from_utf8(whole).unwrap().replace("\r\n", "\n");
        prop_assert_eq!(block_text(&out, 0, "text"), expect(&m, &text, Escape::Raw));
        let restored_partial = block_text(&out, 1, "partial_json");
        prop_assert_eq!(&restored_partial, &expect(&m, &partial, Escape::Json));
        let v: Value = serde_json::from_str(&restored_partial).unwrap();
        prop_assert_eq!(v["v"].as_str().unwrap(), expect(&m, &value, Escape::Raw));
        if Restorer::new(&m).holdback_len(&text) == 0
            && Restorer::new(&m).restore_text(&text) == text
            && !text_frags.iter().any(|f| f.starts_with('A'))
            && !json_frags.iter().any(|f| f.starts_with('A'))
        {
            // Nothing token-like at all: byte-identical.
            prop_assert_eq!(out, input.replace("\r\n", "\n"));
        }
    }

    #[test]
    fn openai_any_split_restores_the_same(
        frags in proptest::collection::vec(fragment(&map().1, &map().2), 0..10),
        arg_frags in proptest::collection::vec(fragment(&map().1, &map().2), 0..6),
        cuts in proptest::collection::vec(0u16..1000, 0..6),
        arg_cuts in proptest::collection::vec(0u16..1000, 0..6),
        chunks in proptest::collection::vec(1usize..64, 1..8),
        finish_with_content in any::<bool>(),
    ) {
        let (m, _, _) = map();
        let text: String = frags.concat();
        let args = serde_json::to_string(&json!({"v": arg_frags.concat()})).unwrap();
        let mut input = String::new();
        let parts = split_at_fracs(&text, &cuts);
        let n_parts = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            let fin = (finish_with_content && i + 1 == n_parts).then_some("stop");
            input += &openai_chunk(json!({"index":0,"delta":{"content":part},"finish_reason":fin}));
            if i == 0 {
                for a in split_at_fracs(&args, &arg_cuts) {
                    input += &openai_chunk(json!({"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":a}}]},"finish_reason":null}));
                }
            }
        }
        if !finish_with_content {
            input += &openai_chunk(json!({"index":0,"delta":{},"finish_reason":"stop"}));
        }
        input += "data: [DONE]\n\n";
        let bytes = input.as_bytes();
        let (whole, n) = run_with(&m, false, bytes, &[bytes.len()]);
        let (chunked, n2) = run_with(&m, false, bytes, &chunks);
        prop_assert_eq!(&whole, &chunked);
        prop_assert_eq!(n, n2);
        let out = String::from_utf8(whole).unwrap();
        prop_assert!(out.ends_with("data: [DONE]\n\n"));
        let evs = events(&out);
        let content: String = evs
            .iter()
            .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
            .collect();
        prop_assert_eq!(content, expect(&m, &text, Escape::Raw));
        let got_args: String = evs
            .iter()
            .filter_map(|e| e["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
            .collect();
        prop_assert_eq!(got_args, expect(&m, &args, Escape::Json));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        chunks in proptest::collection::vec(1usize..32, 1..4),
    ) {
        let (m, _, _) = map();
        let (a, _) = run_with(&m, false, &bytes, &chunks);
        let (b, _) = run_with(&m, false, &bytes, &[bytes.len().max(1)]);
        prop_assert_eq!(a, b);
    }
}

#[test]
fn stream_error_event_is_an_anthropic_error() {
    let text = String::from_utf8(stream_error_event("x")).unwrap();
    let data = text
        .strip_prefix("event: error\ndata: ")
        .and_then(|t| t.strip_suffix("\n\n"))
        .unwrap();
    let v: Value = serde_json::from_str(data).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "api_error");
    assert_eq!(v["error"]["message"], "aws-masker: x");
}

/// A stream without blank lines is not held whole: past the cap it ends
/// with one error event, holds nothing more and drops the rest.
#[test]
fn an_event_past_the_cap_ends_the_stream_with_an_error() {
    let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
    let mut map = TokenMap::new("AWS_".to_string());
    let t = map.issue(&key, "EC2", "i-0123456789abcdef0").to_string();
    let ok = format!("event: ping\ndata: {{\"type\":\"ping\",\"t\":\"{t}\"}}\n\n");
    let mut r = SseRestorer::new(map, false).with_max_event_bytes(4096);
    let mut out = Vec::new();
    r.push(ok.as_bytes(), &mut out);
    assert!(String::from_utf8_lossy(&out).contains("i-0123456789abcdef0"));
    assert!(!r.aborted());
    let line = format!("data: {t} no blank line follows\n");
    let mut fed = 0;
    while fed <= 4096 {
        r.push(line.as_bytes(), &mut out);
        fed += line.len();
    }
    assert!(r.aborted());
    let before = out.len();
    r.push(line.repeat(100).as_bytes(), &mut out);
    r.finish(&mut out);
    assert_eq!(out.len(), before, "nothing after the error event");
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("event: error").count(), 1);
    assert!(text.ends_with("\n\n"));
    assert!(!text.contains("no blank line follows"));
    assert!(r.framer.buffered() == 0);
}

/// `holds` says exactly when `finish` would release something: the filter
/// keeps a chunk on Envoy on its word (see `ChunkRestorer::holds`).
#[test]
fn holds_agrees_with_finish() {
    let (m, tok, _) = map();
    let cut = &tok[..tok.len() - 3];
    let text: &[&str] = &["plain text\n", "ends in a token ", cut, "whole "];
    let mut r = TextStreamRestorer::new(m.clone(), Escape::Raw);
    let mut out = Vec::new();
    let mut held = Vec::new();
    for chunk in text {
        r.push(chunk.as_bytes(), &mut out);
        held.push(r.holds());
    }
    assert_eq!(held, [false, false, true, false], "text");
    let ev = text_delta(0, &format!("a {cut}"));
    let (first, rest) = ev.split_at(10);
    let mut r = SseRestorer::new(m, false);
    let mut held = Vec::new();
    for chunk in [first, rest, &block_stop(0)] {
        r.push(chunk.as_bytes(), &mut out);
        held.push(r.holds());
    }
    // An incomplete event, then a delta that ends in a token's start, then
    // the block's end, which releases it.
    assert_eq!(held, [true, true, false], "sse");
    for r in [
        &mut TextStreamRestorer::new(map().0, Escape::Raw) as &mut dyn ChunkRestorer,
        &mut SseRestorer::new(map().0, false),
    ] {
        let mut out = Vec::new();
        r.push(b"AWS", &mut out);
        let before = out.len();
        assert!(r.holds());
        r.finish(&mut out);
        assert!(out.len() > before && !r.holds());
    }
}
