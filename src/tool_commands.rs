//! Commands a model ran, followed across a request's messages to the
//! output they gave. Claude Code's Bash tool sends
//! `aws lambda list-functions --query 'Functions[].FunctionName' --output
//! text` as a `tool_use` block's `input.command`; the output comes back in
//! the `tool_result` that names the same `tool_use_id`, in the next
//! message. Only the query says what that output's bare fields are, so the
//! command is remembered by its id and read with the result.
//!
//! The walk hands every literal in document order; blocks are written
//! `id` before `input`, and `tool_use_id` before `content`, as the API's
//! clients write them. A result whose content comes first is read without
//! its command (as before: nothing is lost, nothing found).

use std::collections::HashMap;

/// Most commands remembered in one request.
const MAX_COMMANDS: usize = 256;

/// The state of one walk over a request body.
#[derive(Debug, Default)]
pub(crate) struct ToolCommands {
    /// The id of the last `tool_use` block seen.
    tool_use: Option<String>,
    /// Commands that ask for `--query … --output text`, by `tool_use` id.
    commands: HashMap<String, String>,
    /// The command of the `tool_result` being walked, until its text.
    result: Option<String>,
}

impl ToolCommands {
    /// Follows the literal `text` under `key`; answers the command whose
    /// output `text` is, when it is the text of a `tool_result` whose
    /// `tool_use` ran a query (once per result: a text block after it is
    /// the user's own).
    pub(crate) fn visit(&mut self, key: Option<&str>, text: &str) -> Option<String> {
        match key? {
            "id" if text.starts_with("toolu_") => {
                self.tool_use = Some(text.to_owned());
                None
            }
            "command" if asks_for_text_output(text) => {
                if let Some(id) = self.tool_use.take() {
                    if self.commands.len() < MAX_COMMANDS {
                        self.commands.insert(id, text.to_owned());
                    }
                }
                None
            }
            "tool_use_id" => {
                self.result = self.commands.get(text).cloned();
                None
            }
            "content" | "text" => self.result.take(),
            _ => None,
        }
    }
}

/// Whether `command` runs a query whose output is text.
fn asks_for_text_output(command: &str) -> bool {
    command.contains("--query") && command.contains("--output text") && command.contains("aws ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_gets_the_command_of_its_tool_use_once() {
        let mut t = ToolCommands::default();
        let cmd = "aws lambda list-functions --query 'Functions[].FunctionName' --output text";
        let walk = [
            (Some("id"), "toolu_01"),
            (Some("name"), "Bash"),
            (Some("command"), cmd),
            (Some("id"), "toolu_02"),
            (Some("command"), "ls -la"),
            (Some("tool_use_id"), "toolu_02"),
            (Some("content"), "a.txt"),
            (Some("tool_use_id"), "toolu_01"),
            (Some("content"), "fn-a\tfn-b"),
            (Some("text"), "what do you think?"),
        ];
        let got: Vec<Option<String>> = walk.iter().map(|&(k, v)| t.visit(k, v)).collect();
        let want: Vec<Option<String>> = walk
            .iter()
            .enumerate()
            .map(|(i, _)| (i == 8).then(|| cmd.to_owned()))
            .collect();
        assert_eq!(got, want);
    }
}
