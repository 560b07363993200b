//! Realistic Claude Code requests and the AWS originals they carry.

use serde_json::{json, Value};

/// Originals in [`claude_code_request`] that must never reach the upstream
/// and must all come back to the client.
pub const ORIGINALS: &[&str] = &[
    "i-0a1b2c3d4e5f67890",
    "ami-0abcdef1234567890",
    "subnet-0f1e2d3c4b5a69788",
    "vpc-0123abcd4567ef890",
    "sg-0badc0ffee1234567",
    "eni-0e1d2c3b4a5968778",
    "10.0.1.23",
    "54.210.33.7",
    "arn:aws:iam::123456789012:instance-profile/web-prod",
    "123456789012",
    "AKIAIOSFODNN7EXAMPLE",
];

/// The `aws ec2 describe-instances` output a tool returned.
pub fn describe_instances() -> String {
    let v = json!({
      "Reservations": [{
        "ReservationId": "r-0f1e2d3c4b5a69788",
        "OwnerId": "123456789012",
        "Instances": [{
          "InstanceId": "i-0a1b2c3d4e5f67890",
          "ImageId": "ami-0abcdef1234567890",
          "InstanceType": "t3.large",
          "State": {"Code": 16, "Name": "running"},
          "PrivateIpAddress": "10.0.1.23",
          "PublicIpAddress": "54.210.33.7",
          "SubnetId": "subnet-0f1e2d3c4b5a69788",
          "VpcId": "vpc-0123abcd4567ef890",
          "SecurityGroups": [{"GroupName": "web", "GroupId": "sg-0badc0ffee1234567"}],
          "IamInstanceProfile": {"Arn": "arn:aws:iam::123456789012:instance-profile/web-prod"},
          "NetworkInterfaces": [{"NetworkInterfaceId": "eni-0e1d2c3b4a5968778", "PrivateIpAddress": "10.0.1.23"}],
          "Tags": [{"Key": "Name", "Value": "web"}]
        }]
      }]
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// A Messages API request as Claude Code sends it: system prompt, tool
/// definitions, a tool_use and its tool_result with AWS CLI output.
pub fn claude_code_request(stream: bool) -> Value {
    json!({
      "model": "claude-sonnet-4-5-20250929",
      "max_tokens": 32000,
      "stream": stream,
      "system": [
        {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
        {"type": "text", "text": "You are an interactive CLI tool that helps users with software engineering tasks.\n\nEnvironment: linux, cwd /home/dev/infra", "cache_control": {"type": "ephemeral"}}
      ],
      "tools": [{
        "name": "Bash",
        "description": "Executes a given bash command in a persistent shell session.",
        "input_schema": {
          "type": "object",
          "properties": {"command": {"type": "string", "description": "The command to execute"}},
          "required": ["command"],
          "additionalProperties": false
        }
      }],
      "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Why can't I reach i-0a1b2c3d4e5f67890 from my laptop? My key is AKIAIOSFODNN7EXAMPLE."}]},
        {"role": "assistant", "content": [
          {"type": "text", "text": "Let me look at the instance."},
          {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "aws ec2 describe-instances --instance-ids i-0a1b2c3d4e5f67890"}}
        ]},
        {"role": "user", "content": [
          {"type": "tool_result", "tool_use_id": "toolu_01", "content": describe_instances()}
        ]}
      ],
      "metadata": {"user_id": "user_e2e_session"}
    })
}

/// A request for one of 50 concurrent clients: its own instance id, IP and
/// account, and the originals it must get back.
pub fn numbered_request(n: u32) -> (Value, Vec<String>) {
    let instance = format!("i-{:017x}", 0x0abc_0000_0000_0000_u64 + u64::from(n));
    let ip = format!("10.{}.{}.{}", 100 + n / 200, n % 200, 7);
    let account = format!("{:012}", 210_987_654_000_u64 + u64::from(n));
    let arn = format!("arn:aws:lambda:us-east-1:{account}:function:billing-{n:03}");
    let body = json!({
      "model": "claude-sonnet-4-5-20250929",
      "max_tokens": 1024,
      "stream": true,
      "messages": [{"role": "user", "content": format!(
        "Instance {instance} at {ip} calls {arn}; what is wrong?")}]
    });
    (body, vec![instance, ip, arn])
}
