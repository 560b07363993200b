//! Values that `aws … --query EXPR --output text` prints: bare fields,
//! tab-separated, with no key beside them. Only the query says what they
//! are (`--query 'Functions[].FunctionName'` prints function names), so
//! the query is read for its columns, and the lines printed under the
//! command are read as rows of them:
//!
//! - one column (`Functions[].FunctionName`): every field of every row;
//! - a multi-select (`Accounts[].[Id,Name]`): field `i` of a row of as
//!   many fields is column `i`.
//!
//! A column names values by its key (`FunctionName`); a generic one
//! (`Id`, `Name`) by its list's singular before it (`Accounts[].Id`:
//! `AccountId`; `HostedZones[].Id`: `HostedZoneId`; `SecretList[].Name`:
//! `SecretName`); an instance's `Name` tag (`Tags[?Key=='Name'].Value`)
//! is a name. Each field must be valid for its key, as a JSON value under
//! that key would be.

use super::named_resources::{self, Rule};
use super::util::line_at;
use super::{Family, Match};
use crate::config::Detectors;

/// Most rows read under one command.
const MAX_ROWS: usize = 10_000;
/// Most columns of a multi-select.
const MAX_COLUMNS: usize = 16;
/// Longest key composed from a list's singular and a column.
const MAX_KEY: usize = 64;

/// Appends the values printed under the command whose `--query` flag
/// ends at `flag_end` (the blank after `--query`), when the command asks
/// for text output.
pub(super) fn find(text: &[u8], flag_end: usize, on: &Detectors, out: &mut Vec<Match<'_>>) {
    let (line_end, after) = line_at(text, flag_end);
    let from = flag_end.saturating_sub(4096);
    let head = text.get(from..flag_end).unwrap_or_default();
    let start = from + named_resources::line_start(head);
    let Some(line) = text.get(start..line_end) else {
        return;
    };
    if let Some(columns) = command_columns(line, flag_end - start) {
        rows(text, after, &columns, on, out);
    }
}

/// Appends the values of `output`, the text that `command` (run elsewhere
/// in the body: a `tool_use` block's) printed, when it is an `aws` command
/// whose `--query` asks for text output; offsets in `output`.
pub(super) fn find_in_output(
    command: &[u8],
    output: &[u8],
    on: &Detectors,
    out: &mut Vec<Match<'_>>,
) {
    let (end, _) = line_at(command, 0);
    let line = command.get(..end).unwrap_or_default();
    let Some(flag) = memchr::memmem::find(line, b"--query") else {
        return;
    };
    if !named_resources::invokes_aws(line) {
        return;
    }
    if let Some(columns) = command_columns(line, flag + "--query".len()) {
        rows(output, 0, &columns, on, out);
    }
}

/// The columns of the command line `line` whose `--query` flag ends at
/// `flag_end`, when it asks for text output and a column names values.
fn command_columns(line: &[u8], flag_end: usize) -> Option<Vec<Column>> {
    let rest = line.get(flag_end..)?;
    memchr::memmem::find(rest, b"--output text")?;
    let expr = expression(rest)?;
    let decrypted = memchr::memmem::find(line, b"--with-decryption").is_some();
    let columns: Vec<Column> = columns(expr)
        .into_iter()
        .map(|c| match c {
            Column::Value if decrypted => Column::Secret,
            Column::Value => Column::Other,
            c => c,
        })
        .collect();
    (!columns.iter().all(|c| *c == Column::Other)).then_some(columns)
}

/// Appends the values of the rows from `at` to the end of the output (a
/// blank line, a prompt, a new command).
fn rows(text: &[u8], mut at: usize, columns: &[Column], on: &Detectors, out: &mut Vec<Match<'_>>) {
    let mut rows = 0;
    while rows < MAX_ROWS && at < text.len() {
        let (end, next) = line_at(text, at);
        let Some(line) = text.get(at..end) else {
            break;
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if ends_output(line) {
            break;
        }
        row(at, line, columns, on, out);
        rows += 1;
        at = next;
    }
}

/// Whether `line` is past the command's output: blank, or a new prompt
/// or command.
fn ends_output(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
        || line.starts_with(b"$ ")
        || line.starts_with(b"% ")
        || line.starts_with(b"> ")
        || line.starts_with(b"# ")
        || line.starts_with("❯ ".as_bytes())
        || line.starts_with(b"```")
        || named_resources::invokes_aws(line)
}

/// The query expression at the start of `rest`: quoted, or up to a blank.
fn expression(rest: &[u8]) -> Option<&[u8]> {
    let s = rest.iter().position(|b| !matches!(b, b' ' | b'\t'))?;
    let rest = rest.get(s..)?;
    match rest.first() {
        Some(&q @ (b'\'' | b'"')) => {
            let body = rest.get(1..)?;
            body.get(..memchr::memchr(q, body)?)
        }
        Some(_) => rest.get(
            ..rest
                .iter()
                .position(|b| matches!(b, b' ' | b'\t'))
                .unwrap_or(rest.len()),
        ),
        None => None,
    }
}

/// A column of the query: the key that names its values, when one does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    /// Values named by this key (`FunctionName`, or `AccountId` composed).
    Key(String),
    /// A resource's name where no key says more: an instance's `Name`
    /// tag, or the `Name` or `Id` field of a list of AWS resources
    /// (`Parameters[].Name`).
    Name,
    /// An SSM parameter's `Value` (made [`Secret`](Column::Secret) when
    /// the command decrypts it).
    Value,
    /// A secret's value, printed decrypted.
    Secret,
    /// A column that names nothing the scanner knows; its fields stay.
    Other,
}

/// The columns `expr` selects: the fields of its last multi-select, or
/// its last field.
fn columns(expr: &[u8]) -> Vec<Column> {
    let expr = String::from_utf8_lossy(expr);
    // A pipe to `[0]` or a function keeps the columns before it.
    let expr = split_top(&expr, '|').first().copied().unwrap_or_default();
    if let Some(inner) = expr.strip_suffix(']') {
        if let Some(open) = matching_open(inner) {
            let (path, list) = (
                inner.get(..open).unwrap_or_default(),
                inner.get(open + 1..).unwrap_or_default(),
            );
            // `[0]`, `[]`, `[-1]`: an index, not a multi-select.
            let index = list.is_empty()
                || list
                    .trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit());
            if !index && !list.starts_with('?') {
                let fields = split_top(list, ',');
                if fields.len() > MAX_COLUMNS {
                    return Vec::new();
                }
                return fields.iter().map(|f| column(path, f)).collect();
            }
        }
    }
    let (path, last) = split_last(expr);
    vec![column(path, last)]
}

/// Where the `[` that the `]` ending `s` (already cut off) opens stands.
fn matching_open(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices().rev() {
        match c {
            ']' => depth += 1,
            '[' if depth == 0 => return Some(i),
            '[' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `s` split at each `sep` outside brackets and parentheses.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut from) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            c if c == sep && depth == 0 => {
                out.push(s.get(from..i).unwrap_or_default().trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(s.get(from..).unwrap_or_default().trim());
    out
}

/// `expr` split before its last field: (`Functions[]`, `FunctionName`).
fn split_last(expr: &str) -> (&str, &str) {
    let cut = expr.rfind(['.', ']']).map_or(0, |i| i + 1);
    let (path, last) = (
        expr.get(..cut).unwrap_or_default(),
        expr.get(cut..).unwrap_or_default(),
    );
    (path, last.trim())
}

/// The column a field of a multi-select (or the last field) names,
/// under the list path `path` before it.
fn column(path: &str, field: &str) -> Column {
    if field.contains("Key=='Name'")
        || field.contains("Key==`Name`")
        || field.contains("Key == 'Name'")
    {
        return Column::Name;
    }
    // `Config.PrivateZone`, `Aliases.Items[0]`: the last identifier.
    let idents = identifiers(field);
    let Some(last) = idents.last().copied() else {
        return Column::Other;
    };
    let mut parents: Vec<&str> = identifiers(path);
    parents.extend(idents.iter().take(idents.len().saturating_sub(1)));
    if last == "Value" && parents.last().is_some_and(|p| *p == "Parameter") {
        return Column::Value;
    }
    // The nearest list first: its singular makes a generic field a key.
    for parent in parents.iter().rev() {
        let key = format!("{}{last}", singular(parent));
        if key.len() <= MAX_KEY && names(&key) {
            return Column::Key(key);
        }
    }
    if names(last) {
        Column::Key(last.to_owned())
    } else if matches!(last, "Name" | "Id") && !parents.is_empty() {
        Column::Name
    } else {
        Column::Other
    }
}

/// Whether `key` names values (of any family, switched on or not: the
/// row decides with the switches).
fn names(key: &str) -> bool {
    named_resources::names_values(key, &Detectors::default())
}

/// The identifiers of a path, in order, without brackets and filters.
fn identifiers(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = None;
    for (i, c) in path.char_indices().chain([(path.len(), '.')]) {
        let ident = depth == 0 && (c.is_ascii_alphanumeric() || c == '_');
        if ident {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            if let Some(word) = path.get(s..i) {
                if word.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) {
                    out.push(word);
                }
            }
        }
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            _ => {}
        }
    }
    out
}

/// The singular of a list's name, without a `List` ending
/// (`HostedZones`: `HostedZone`, `StackSummaries`: `StackSummary`,
/// `Aliases`: `Alias`, `SecretList`: `Secret`).
fn singular(list: &str) -> String {
    let list = list
        .strip_suffix("List")
        .filter(|s| !s.is_empty())
        .unwrap_or(list);
    if let Some(stem) = list.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for ending in ["sses", "ses", "xes"] {
        if let Some(stem) = list.strip_suffix(ending) {
            return format!(
                "{stem}{}",
                ending.get(..ending.len() - 2).unwrap_or_default()
            );
        }
    }
    list.strip_suffix('s').unwrap_or(list).to_owned()
}

/// The fields of a row: between tabs, or, where a terminal turned the
/// tabs into spaces (no tab on the line), between runs of blanks.
fn fields(line: &[u8]) -> Vec<(usize, usize)> {
    let tabbed = memchr::memchr(b'\t', line).is_some();
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in line.iter().enumerate().chain([(line.len(), &b'\t')]) {
        let sep = b == b'\t' || (!tabbed && b == b' ');
        match (sep, start) {
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            (true, None) if tabbed => out.push((i, i)),
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

/// Appends the fields of the row `line` (at `at` in its text) that its
/// columns name.
fn row(at: usize, line: &[u8], columns: &[Column], on: &Detectors, out: &mut Vec<Match<'_>>) {
    let fields = fields(line);
    let one = columns.len() == 1;
    if !one && fields.len() != columns.len() {
        return;
    }
    for (i, &(fs, fe)) in fields.iter().enumerate() {
        let s = at + fs;
        let Some(field) = line.get(fs..fe) else {
            continue;
        };
        let column = if one { columns.first() } else { columns.get(i) };
        let (Some(column), Ok(value)) = (column, std::str::from_utf8(field)) else {
            continue;
        };
        let found = match column {
            Column::Key(key) => named_resources::whole_value(key, value, on),
            Column::Name => {
                named_resources::whole_as(field, Rule::Name, "NAME", Family::NamedResources, on)
            }
            Column::Secret => named_resources::whole_as(
                field,
                Rule::SecretValue,
                "SECRET_VALUE",
                Family::SecretKeys,
                on,
            ),
            Column::Other | Column::Value => None,
        };
        if let Some(found) = found.filter(|f| f.family != Family::Custom) {
            out.push(Match {
                start: s + found.start,
                end: s + found.end,
                ..found
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Column {
        Column::Key(k.to_owned())
    }

    #[test]
    fn columns_of_queries() {
        let table: &[(&str, Vec<Column>)] = &[
            ("Functions[].FunctionName", vec![key("FunctionName")]),
            (
                "Accounts[].[Id,Name]",
                vec![key("AccountId"), key("AccountName")],
            ),
            (
                "HostedZones[].[Id,Config.PrivateZone]",
                vec![key("HostedZoneId"), Column::Other],
            ),
            ("SecretList[].Name", vec![key("SecretName")]),
            (
                "Roles[?contains(RoleName, `x`)].RoleName",
                vec![key("RoleName")],
            ),
            (
                "Reservations[].Instances[].[InstanceId,Tags[?Key=='Name'].Value|[0]]",
                vec![key("InstanceId"), Column::Name],
            ),
            ("Buckets[0].Name", vec![key("BucketName")]),
            ("Runtime", vec![Column::Other]),
            (
                "Parameters[].[Name,Type]",
                vec![Column::Name, Column::Other],
            ),
            ("Parameter.Value", vec![Column::Value]),
        ];
        for (expr, want) in table {
            assert_eq!(&columns(expr.as_bytes()), want, "{expr}");
        }
    }

    #[test]
    fn singulars() {
        for (list, want) in [
            ("HostedZones", "HostedZone"),
            ("Aliases", "Alias"),
            ("SecretList", "Secret"),
            ("Accounts", "Account"),
            ("Addresses", "Address"),
            ("StackSummaries", "StackSummary"),
        ] {
            assert_eq!(singular(list), want, "{list}");
        }
    }
}
