//! A text as the one `tool_result` of a Claude Code request, and back:
//! how the engine tests and the leak hunt send a tool's output through
//! the JSON path.

/// `text` as the `tool_result` of a Claude Code request.
pub fn request(text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": text}
        ]}],
    }))
    .expect("a request")
}

/// The text of the `tool_result` of a (masked) [`request`].
pub fn text_of(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).expect("JSON");
    v["messages"][0]["content"][0]["content"]
        .as_str()
        .expect("a tool result's text")
        .to_owned()
}
