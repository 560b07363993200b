//! The leak hunt's texts (`tests/corpus/hunt/`): realistic texts written
//! apart from the corpus, each masked as a text body and as the
//! `tool_result` of a Claude Code request. A label leaks when its value
//! still stands in either output (anywhere, as the hunt counted it); a
//! `keep` value is masked when it no longer stands in one. Both counts
//! are held by the ratchet's `hunt` entry: neither may grow.

use super::{mask, root, tool_result, SECRET};
use aws_masker::config::Config;
use aws_masker::mask::Engine;
use serde_json::Value;

#[test]
fn hunt_texts_leak_no_more_than_the_ratchet() {
    let dir = root().join("tests/corpus/hunt");
    let labels: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).unwrap()).unwrap();
    let engine = Engine::new(Config::default(), SECRET);
    let show = std::env::var("EVAL_HUNT").is_ok();
    let (mut total, mut leaking, mut kept_masked) = (0u64, 0u64, 0u64);
    for (name, label) in labels.as_object().unwrap() {
        let text = std::fs::read_to_string(dir.join("texts").join(format!("{name}.txt"))).unwrap();
        let as_text = String::from_utf8(mask(&engine, &text, false).out).unwrap();
        let request = String::from_utf8(tool_result::request(&text)).unwrap();
        let as_json = tool_result::text_of(&mask(&engine, &request, true).out);
        for pair in label["mask"].as_array().unwrap() {
            let (kind, value) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            total += 1;
            if as_text.contains(value) || as_json.contains(value) {
                leaking += 1;
                if show {
                    println!("leak  {name}: {kind} {value}");
                }
            }
        }
        for value in label["keep"].as_array().unwrap() {
            let value = value.as_str().unwrap();
            if !as_text.contains(value) || !as_json.contains(value) {
                kept_masked += 1;
                if show {
                    println!("kept masked  {name}: {value}");
                }
            }
        }
    }
    println!(
        "leak hunt: {leaking} of {total} labelled values leak; {kept_masked} values AWS owns are masked"
    );
    let path = root().join("tests/eval/thresholds.json");
    let thresholds: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let hunt = &thresholds["ratchet"]["hunt"];
    let (max_leaking, max_kept_masked) = (
        hunt["leaking"].as_u64().unwrap(),
        hunt["kept_masked"].as_u64().unwrap(),
    );
    assert!(total >= 695, "the hunt's labels went missing: {total}");
    assert!(
        leaking <= max_leaking && kept_masked <= max_kept_masked,
        "leak hunt regressed against {}: {leaking} leaking (ratchet {max_leaking}), \
         {kept_masked} kept values masked (ratchet {max_kept_masked}); EVAL_HUNT=1 lists them",
        path.display()
    );
}
