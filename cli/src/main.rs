//! `aws-masker`: the gateway filter's engine on the command line.
//!
//! - `scan` lists what the gateway would mask in files (a pre-commit hook
//!   or CI gate: exit 1 when anything is found);
//! - `mask` and `restore` turn text or JSON into its masked form and back,
//!   with the token map written only where `--map` says;
//! - `check-config` validates a filter configuration with the messages the
//!   gateway logs.
//!
//! Exit codes: 0 done (nothing found, for `scan`), 1 values found (`scan`)
//! or an invalid configuration (`check-config`), 2 an error.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aws_masker::config::Config;
use aws_masker::token::TokenMap;
use aws_masker::{BodyKind, Masker};
use clap::{Parser, Subcommand, ValueEnum};

/// Keeps AWS identifiers and secrets out of text: finds, masks and
/// restores them as the aws-masker gateway filter does.
#[derive(Debug, Parser)]
#[command(name = "aws-masker", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List what would be masked: kind, file:line:col and a redacted
    /// preview. Exits 1 when anything is found.
    Scan {
        /// Files to scan; `-` (or none) reads standard input.
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        input: InputOptions,
    },
    /// Write FILE (or standard input) with every value replaced by its
    /// token.
    Mask {
        /// The input; `-` (or none) reads standard input.
        file: Option<PathBuf>,
        /// Token secret (at least 16 characters); else `AWS_MASKER_SECRET`,
        /// else the configuration's `secret`.
        #[arg(long, env = "AWS_MASKER_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// Also write the token map (every token and its original) to
        /// this file. The map holds the originals: keep it as secret as
        /// the input.
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        #[command(flatten)]
        input: InputOptions,
    },
    /// Write FILE (or standard input) with the tokens of a token map
    /// replaced by their originals.
    Restore {
        /// The input; `-` (or none) reads standard input.
        file: Option<PathBuf>,
        /// The token map `mask --map` wrote.
        #[arg(long, value_name = "FILE")]
        map: PathBuf,
        /// How to read the input: JSON is restored inside its strings.
        #[arg(long = "as", value_enum, default_value_t = As::Auto)]
        kind: As,
    },
    /// Validate a filter configuration (the JSON object Envoy and Kong
    /// pass the filter). Exits 1, with the gateway's message, when invalid.
    CheckConfig {
        /// The configuration file.
        config: PathBuf,
    },
}

/// What `scan` and `mask` read, and how.
#[derive(Debug, clap::Args)]
struct InputOptions {
    /// A filter configuration (detector switches, allowlist, custom
    /// patterns, token prefix).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How to read the input: JSON is masked inside its strings; `auto`
    /// takes text that holds JSON as JSON.
    #[arg(long = "as", value_enum, default_value_t = As::Auto)]
    kind: As,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// `file:line:col: KIND preview`, one value a line.
    Text,
    /// One JSON array of `{file, line, column, start, end, kind, preview}`.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum As {
    /// JSON when the input is JSON, else text.
    Auto,
    /// A JSON document.
    Json,
    /// Plain text.
    Text,
}

impl As {
    fn body_kind(self) -> BodyKind {
        match self {
            // The engine masks text that holds JSON as JSON.
            As::Auto | As::Text => BodyKind::Text,
            As::Json => BodyKind::Json,
        }
    }
}

/// The secret `scan` masks under: nothing it derives is shown.
const SCAN_SECRET: &str = "aws-masker scan shows no token";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan {
            files,
            format,
            input,
        } => scan(&files, format, &input),
        Command::Mask {
            file,
            secret,
            map,
            input,
        } => mask(file.as_deref(), secret, map.as_deref(), &input),
        Command::Restore { file, map, kind } => restore(file.as_deref(), &map, kind),
        Command::CheckConfig { config } => check_config(&config),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("aws-masker: {message}");
            ExitCode::from(2)
        }
    }
}

/// Reads `path`, or standard input for `-` or none.
fn read_input(path: Option<&Path>) -> Result<Vec<u8>, String> {
    match path {
        Some(p) if p != Path::new("-") => {
            std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
        }
        _ => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("standard input: {e}"))?;
            Ok(buf)
        }
    }
}

fn load_config(path: Option<&Path>) -> Result<Config, String> {
    match path {
        None => Ok(Config::default()),
        Some(p) => {
            let bytes = read_input(Some(p))?;
            Config::from_json(&bytes).map_err(|e| format!("{}: {e}", p.display()))
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| format!("standard output: {e}"))
}

/// A preview of `value` that never shows it whole: its first third at
/// most (six characters at most), then an ellipsis and its length.
fn redacted(value: &str) -> String {
    let chars = value.chars().count();
    let shown: String = value.chars().take((chars / 3).min(6)).collect();
    format!("{shown}… ({chars} chars)")
}

/// The 1-based line and column (in characters) of byte `offset`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

fn scan(files: &[PathBuf], format: Format, input: &InputOptions) -> Result<ExitCode, String> {
    let config = load_config(input.config.as_deref())?;
    let masker = Masker::builder()
        .config(config)
        .secret(SCAN_SECRET)
        .build()
        .map_err(|e| e.to_string())?;
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    let (mut found_any, mut failed) = (false, false);
    let mut rows = Vec::new();
    for path in files {
        let name = if path == Path::new("-") {
            "<stdin>".to_string()
        } else {
            path.display().to_string()
        };
        let found = read_input(Some(path)).and_then(|body| {
            let found = masker
                .find(&body, input.kind.body_kind())
                .map_err(|e| format!("{name}: {e}"))?;
            Ok((body, found))
        });
        let (body, found) = match found {
            Ok(f) => f,
            Err(message) => {
                eprintln!("aws-masker: {message}");
                failed = true;
                continue;
            }
        };
        let text = String::from_utf8_lossy(&body);
        for f in found {
            found_any = true;
            let (line, column) = line_col(&text, f.start);
            let preview = redacted(text.get(f.start..f.end).unwrap_or_default());
            match format {
                Format::Text => println!("{name}:{line}:{column}: {} {preview}", f.kind),
                Format::Json => rows.push(serde_json::json!({
                    "file": name, "line": line, "column": column,
                    "start": f.start, "end": f.end, "kind": f.kind, "preview": preview,
                })),
            }
        }
    }
    if format == Format::Json {
        println!("{}", serde_json::Value::Array(rows));
    }
    Ok(match (failed, found_any) {
        (true, _) => ExitCode::from(2),
        (false, true) => ExitCode::from(1),
        (false, false) => ExitCode::SUCCESS,
    })
}

fn mask(
    file: Option<&Path>,
    secret: Option<String>,
    map: Option<&Path>,
    input: &InputOptions,
) -> Result<ExitCode, String> {
    let config = load_config(input.config.as_deref())?;
    let mut builder = Masker::builder().config(config);
    if let Some(secret) = secret {
        builder = builder.secret(secret);
    }
    let masker = builder.build().map_err(|e| e.to_string())?;
    let body = read_input(file)?;
    let masked = masker
        .mask(&body, input.kind.body_kind())
        .map_err(|e| e.to_string())?;
    if let Some(path) = map {
        write_map(path, &masked.tokens)?;
    }
    write_stdout(&masked.body)?;
    if masked.report.total() > 0 {
        eprintln!(
            "aws-masker: masked {} values: {}",
            masked.report.total(),
            masked.report.summary()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The token map file: the prefix and every token with its original.
fn write_map(path: &Path, tokens: &TokenMap) -> Result<(), String> {
    let entries: serde_json::Map<String, serde_json::Value> = tokens
        .iter()
        .map(|(token, original)| (token, serde_json::Value::from(original)))
        .collect();
    let doc = serde_json::json!({"token_prefix": tokens.prefix(), "tokens": entries});
    let mut text = doc.to_string();
    text.push('\n');
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The originals: readable by their owner only.
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn read_map(path: &Path) -> Result<TokenMap, String> {
    let bytes = read_input(Some(path))?;
    let bad = |why: &str| format!("{}: not a token map ({why})", path.display());
    let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
    let prefix = doc
        .get("token_prefix")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| bad("no token_prefix"))?;
    let entries = doc
        .get("tokens")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| bad("no tokens object"))?;
    let mut map = TokenMap::new(prefix.to_string());
    for (token, original) in entries {
        let original = original
            .as_str()
            .ok_or_else(|| bad(&format!("{token}: the original is not a string")))?;
        if !map.insert_issued(token, original) {
            return Err(bad(&format!(
                "{token:?} is not a token of prefix {prefix:?}"
            )));
        }
    }
    Ok(map)
}

fn restore(file: Option<&Path>, map: &Path, kind: As) -> Result<ExitCode, String> {
    let tokens = read_map(map)?;
    let body = read_input(file)?;
    let json = match kind {
        As::Json => true,
        As::Text => false,
        As::Auto => serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
    };
    let out = if json {
        aws_masker::restore_json(&tokens, &body, true).0
    } else {
        let text = std::str::from_utf8(&body).map_err(|e| format!("input is not UTF-8: {e}"))?;
        aws_masker::restore_text(&tokens, text)
            .into_owned()
            .into_bytes()
    };
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn check_config(path: &Path) -> Result<ExitCode, String> {
    let bytes = read_input(Some(path))?;
    match Config::from_json(&bytes) {
        Ok(_) => {
            println!("{}: valid", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{}: {e}", path.display());
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_never_show_a_value_whole() {
        for (value, want) in [
            ("i-0123456789abcdef0", "i-0123… (19 chars)"),
            ("123456789012", "1234… (12 chars)"),
            ("10.1.2.3", "10… (8 chars)"),
            ("ab", "… (2 chars)"),
            (
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "wJalrX… (40 chars)",
            ),
        ] {
            assert_eq!(redacted(value), want);
        }
    }

    #[test]
    fn lines_and_columns_count_from_one_in_characters() {
        let text = "ab\néé x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, "ab\néé ".len()), (2, 4));
    }
}
