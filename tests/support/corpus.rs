//! Text from the labelled corpus, for benchmarks and memory tests that
//! want real AWS output rather than a repeated snippet.

/// The labelled corpus's AWS texts (tests/corpus/positives), one per
/// record, in file order.
pub fn aws_records() -> Vec<String> {
    let mut records = Vec::new();
    for f in ["botocore.jsonl", "handwritten.jsonl"] {
        let path = format!("{}/tests/corpus/positives/{f}", env!("CARGO_MANIFEST_DIR"));
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            records.push(v["text"].as_str().unwrap_or_default().to_string());
        }
    }
    records
}

/// The labelled corpus's AWS texts, record after record, cut at `size`.
#[allow(dead_code)]
pub fn aws_corpus_text(size: usize) -> String {
    let mut s = String::with_capacity(size + 64 * 1024);
    for r in aws_records() {
        s.push_str(&r);
        s.push('\n');
    }
    assert!(s.len() >= size, "the corpus holds less than {size} bytes");
    s.truncate(s.floor_char_boundary(size));
    s
}
