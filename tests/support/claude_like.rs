//! The synthetic benchmark body: code and prose with an AWS identifier
//! every ~2 KB, shared by the gateway benchmark and the instruction counts
//! (`benches/instructions.rs`) through `#[path]` modules.

/// A Claude-like request body of about `size` bytes: code and prose with an
/// AWS identifier every ~2 KB (64 distinct ones, several families).
pub fn claude_like_body(size: usize) -> Vec<u8> {
    let ids: Vec<String> = (0..64u64)
        .map(|i| match i % 4 {
            0 => format!("i-{:017x}", 0x0a00_0000_0000_0000 + i),
            1 => format!("10.{}.{}.{}", i, i * 3 % 256, 17),
            2 => format!("arn:aws:iam::{:012}:role/deploy-{i}", 123_456_789_000 + i),
            _ => format!("vpc-{:017x}", 0x0b00_0000_0000_0000 + i),
        })
        .collect();
    let code = "pub fn reconcile(state: &mut State, event: &Event) -> Result<Action, Error> {\n    let desired = state.desired_capacity(event.group())?;\n    if desired > state.running() {\n        return Ok(Action::ScaleOut(desired - state.running()));\n    }\n    // Nothing to do: the group already runs what it should.\n    Ok(Action::None)\n}\n";
    let prose = "The deployment pipeline builds the image, pushes it to the registry and rolls the service one task at a time; health checks gate every step, and a failed check rolls back to the previous task definition. ";
    let mut text = String::with_capacity(size + 4096);
    let mut i = 0;
    while text.len() < size.saturating_sub(600) {
        text.push_str(code);
        text.push_str(code);
        text.push_str(prose);
        text.push_str(prose);
        text.push_str(&format!(
            "The failing call came from {} according to CloudTrail.\n",
            ids[i % ids.len()]
        ));
        i += 1;
    }
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5-20250929", "max_tokens": 8192, "stream": false,
        "system": [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."}],
        "messages": [
            {"role": "user", "content": "Why does the deploy fail?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/src/reconcile.rs"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": text}]}
        ]
    }))
    .expect("body")
}
