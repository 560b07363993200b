//! kong/*.conf through Kong's own nginx directive injection, Kong line by
//! Kong line (3.4 to 3.9): every directive a shipped file makes Kong write
//! into nginx.conf must be one the nginx and ngx_wasm_module of that Kong
//! version know, in that block, with arguments they accept. Kong refuses
//! to start otherwise (`nginx_wasm_main_shm_kv = 1m` became the unknown
//! directive `main_shm_kv 1m;`).
//!
//! The injection rules below were read from Kong's source (github.com/
//! Kong/kong) at every tag 3.4.0 to 3.9.3; the directives nginx knows are
//! in tests/kong/nginx_directives.txt, with where they were read from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::harness::root;

/// An nginx.conf block an injected directive lands in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Block {
    Main,
    Events,
    Http,
    /// Kong's proxy `server {}`.
    Server,
    /// The proxy server's `location / {}`.
    Location,
    Wasm,
    Wasmtime,
    Wasmer,
    V8,
    Metrics,
}

impl Block {
    fn parse(s: &str) -> Block {
        match s {
            "main" => Block::Main,
            "events" => Block::Events,
            "http" => Block::Http,
            "server" => Block::Server,
            "location" => Block::Location,
            "wasm" => Block::Wasm,
            "wasmtime" => Block::Wasmtime,
            "wasmer" => Block::Wasmer,
            "v8" => Block::V8,
            "metrics" => Block::Metrics,
            other => panic!("nginx_directives.txt: unknown block {other:?}"),
        }
    }
}

/// What Kong's template does with a key of one namespace.
#[derive(Clone, Copy, Debug)]
enum Inject {
    /// `<directive> <value>;` in a block.
    Into(Block),
    /// `flag <directive> <value>;` in a wasm {} sub-block.
    Flag(Block),
    /// `shm_kv <directive> <value>;` in wasm {}.
    ShmKv,
    /// `<directive> <value>;` in wasm {}; where the Kong line has a default
    /// zone, the directive `shm_kv` becomes `shm_kv * <value>;`.
    WasmMain,
    /// A namespace of Kong's own (pluginserver_, vault_), not nginx's.
    NotNginx,
    /// A block this test does not model (upstream, status, admin,
    /// stream): a shipped file that uses one must model it first.
    Unmodelled(&'static str),
}

/// One entry of Kong's `DYNAMIC_KEY_NAMESPACES`.
struct Namespace {
    prefix: &'static str,
    inject: Inject,
    /// Directives Kong drops from this namespace (`ignore`).
    ignore: &'static [&'static str],
}

const fn ns(prefix: &'static str, inject: Inject) -> Namespace {
    Namespace {
        prefix,
        inject,
        ignore: &[],
    }
}

/// `ignore` of the nginx_http_ namespace, the same at 3.4.0 and 3.9.3.
const HTTP_IGNORE: &[&str] = &[
    "upstream_keepalive",
    "upstream_keepalive_timeout",
    "upstream_keepalive_requests",
    "lua_ssl_protocols",
];

/// Kong 3.4.0 to 3.5.0: `DYNAMIC_KEY_NAMESPACES` in
/// kong/conf_loader/init.lua (identical at 3.4.0, 3.4.1, 3.4.2, 3.5.0).
/// Named zones are `nginx_wasm_shm_<name>` (the `nginx_wasm_main_shm_directives`
/// loop of kong/templates/nginx.lua).
const NAMESPACES_3_4: &[Namespace] = &[
    ns("nginx_main_", Inject::Into(Block::Main)),
    ns("nginx_events_", Inject::Into(Block::Events)),
    Namespace {
        prefix: "nginx_http_",
        inject: Inject::Into(Block::Http),
        ignore: HTTP_IGNORE,
    },
    ns("nginx_upstream_", Inject::Unmodelled("upstream")),
    ns("nginx_proxy_", Inject::Into(Block::Server)),
    ns("nginx_status_", Inject::Unmodelled("status server")),
    ns("nginx_admin_", Inject::Unmodelled("admin server")),
    ns("nginx_stream_", Inject::Unmodelled("stream")),
    ns("nginx_supstream_", Inject::Unmodelled("stream upstream")),
    ns("nginx_sproxy_", Inject::Unmodelled("stream proxy server")),
    ns("pluginserver_", Inject::NotNginx),
    ns("vault_", Inject::NotNginx),
    ns("nginx_wasm_wasmtime_", Inject::Flag(Block::Wasmtime)),
    ns("nginx_wasm_v8_", Inject::Flag(Block::V8)),
    ns("nginx_wasm_wasmer_", Inject::Flag(Block::Wasmer)),
    ns("nginx_wasm_shm_", Inject::ShmKv),
    ns("nginx_wasm_", Inject::WasmMain),
];

/// Kong 3.6.0 to 3.9.3: `DYNAMIC_KEY_NAMESPACES` in
/// kong/conf_loader/constants.lua (identical at every tag 3.6.0 to 3.9.3):
/// nginx_location_ is new, named zones become `nginx_wasm_shm_kv_<name>`.
const NAMESPACES_3_6: &[Namespace] = &[
    ns("nginx_main_", Inject::Into(Block::Main)),
    ns("nginx_events_", Inject::Into(Block::Events)),
    Namespace {
        prefix: "nginx_http_",
        inject: Inject::Into(Block::Http),
        ignore: HTTP_IGNORE,
    },
    ns("nginx_upstream_", Inject::Unmodelled("upstream")),
    ns("nginx_proxy_", Inject::Into(Block::Server)),
    ns("nginx_location_", Inject::Into(Block::Location)),
    ns("nginx_status_", Inject::Unmodelled("status server")),
    ns("nginx_admin_", Inject::Unmodelled("admin server")),
    ns("nginx_stream_", Inject::Unmodelled("stream")),
    ns("nginx_supstream_", Inject::Unmodelled("stream upstream")),
    ns("nginx_sproxy_", Inject::Unmodelled("stream proxy server")),
    ns("pluginserver_", Inject::NotNginx),
    ns("vault_", Inject::NotNginx),
    ns("nginx_wasm_wasmtime_", Inject::Flag(Block::Wasmtime)),
    ns("nginx_wasm_v8_", Inject::Flag(Block::V8)),
    ns("nginx_wasm_wasmer_", Inject::Flag(Block::Wasmer)),
    ns("nginx_wasm_shm_kv_", Inject::ShmKv),
    ns("nginx_wasm_", Inject::WasmMain),
];

/// Kong's own kong.conf properties the shipped files set, in
/// kong/templates/kong_defaults.lua at every tag 3.4.0 to 3.9.3
/// (`wasm = off`, `wasm_filters_path = NONE`).
const PROPERTIES: &[&str] = &["wasm", "wasm_filters_path"];

/// One Kong minor line.
struct KongLine {
    version: &'static str,
    /// The ngx_wasm_module commits its releases pin (`NGX_WASM_MODULE` in
    /// `.requirements`), as in tests/kong/nginx_directives.txt.
    engines: &'static [&'static str],
    namespaces: &'static [Namespace],
    /// kong/templates/nginx.lua turns the wasm {} directive `shm_kv` into
    /// `shm_kv * <value>` (3.7.0 and later, Kong commit e0b825cc49,
    /// "support directive for general shm_kv entry"); before, it is
    /// written as is.
    default_shm_kv: bool,
}

/// Every Kong line with Wasm filters. Engines: `.requirements` at 3.4.0
/// and 3.4.1 (prerelease-0.1.0 = abd6a407), 3.4.2 and 3.5.0 (21732b18),
/// 3.6.0/3.6.1 (a7087a37), 3.7.0/3.7.1 (91d447ff), 3.8.0/3.8.1
/// (96b4e27e), 3.9.0 to 3.9.3 (9136e463).
const KONG: &[KongLine] = &[
    KongLine {
        version: "3.4",
        engines: &["abd6a407", "21732b18"],
        namespaces: NAMESPACES_3_4,
        default_shm_kv: false,
    },
    KongLine {
        version: "3.5",
        engines: &["21732b18"],
        namespaces: NAMESPACES_3_4,
        default_shm_kv: false,
    },
    KongLine {
        version: "3.6",
        engines: &["a7087a37"],
        namespaces: NAMESPACES_3_6,
        default_shm_kv: false,
    },
    KongLine {
        version: "3.7",
        engines: &["91d447ff"],
        namespaces: NAMESPACES_3_6,
        default_shm_kv: true,
    },
    KongLine {
        version: "3.8",
        engines: &["96b4e27e"],
        namespaces: NAMESPACES_3_6,
        default_shm_kv: true,
    },
    KongLine {
        version: "3.9",
        engines: &["9136e463"],
        namespaces: NAMESPACES_3_6,
        default_shm_kv: true,
    },
];

fn kong(version: &str) -> &'static KongLine {
    KONG.iter()
        .find(|k| k.version == version)
        .unwrap_or_else(|| panic!("no Kong line {version}"))
}

/// A shipped kong.conf file, the Kong lines it is for, and its commented-out
/// optional settings (`#key = value`) with the lines each is valid on.
struct Shipped {
    file: &'static str,
    versions: &'static [&'static str],
    optional: &'static [(&'static str, &'static [&'static str])],
}

const SHIPPED: &[Shipped] = &[
    Shipped {
        file: "kong/kong.conf",
        versions: &["3.6", "3.7", "3.8", "3.9"],
        optional: &[("nginx_wasm_shm_kv", &["3.7", "3.8", "3.9"])],
    },
    Shipped {
        file: "kong/kong-3.4.conf",
        versions: &["3.4", "3.5"],
        optional: &[],
    },
];

/// A kong.conf file: its settings, its commented-out settings, and the
/// prose comment lines right above each of those.
struct Conf {
    settings: Vec<(String, String)>,
    optional: Vec<(String, String, String)>,
}

fn setting(line: &str, what: &str) -> (String, String) {
    let (k, v) = line
        .split_once('=')
        .unwrap_or_else(|| panic!("{what}: {line:?} is not `key = value`"));
    let (k, v) = (k.trim(), v.trim());
    assert!(
        !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "{what}: bad key in {line:?}"
    );
    assert!(!v.is_empty(), "{what}: {line:?} has no value");
    // Kept simple so that nginx splits the value as this test does.
    assert!(
        !v.contains(['#', '"', '\'', ';', '{', '}']),
        "{what}: {line:?}: no comments, quotes, `;` or braces in values"
    );
    (k.to_string(), v.to_string())
}

/// Prose comments are `#` or `# text`; `#key = value` (no space) is a
/// commented-out setting.
fn parse_conf(text: &str, what: &str) -> Conf {
    let mut conf = Conf {
        settings: Vec::new(),
        optional: Vec::new(),
    };
    let mut prose = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            prose.clear();
        } else if line == "#" || line.starts_with("# ") {
            prose.push_str(line.trim_start_matches('#').trim());
            prose.push(' ');
        } else if let Some(rest) = line.strip_prefix('#') {
            let (k, v) = setting(rest, what);
            conf.optional.push((k, v, std::mem::take(&mut prose)));
        } else {
            conf.settings.push(setting(line, what));
            prose.clear();
        }
    }
    conf
}

fn read_conf(file: &str) -> (String, Conf) {
    let text = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let conf = parse_conf(&text, file);
    (text, conf)
}

/// One directive Kong writes into nginx.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Directive {
    block: Block,
    name: String,
    args: Vec<String>,
}

fn directive(block: Block, name: &str, args: &[&str]) -> Directive {
    Directive {
        block,
        name: name.to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

/// What Kong `line` writes into nginx.conf for these kong.conf settings:
/// kong/conf_loader/parse.lua `parse_nginx_directives` (init.lua before
/// 3.6) gives each key to the first namespace, in order, whose prefix it
/// contains followed by at least one character (Lua `match(k, prefix ..
/// "(.+)")`, unanchored), skips the value `NONE` and ignored directives;
/// kong/templates/nginx.lua and nginx_kong.lua write the result.
fn inject(line: &KongLine, settings: &[(String, String)]) -> Result<Vec<Directive>, String> {
    let mut out = Vec::new();
    for (key, value) in settings {
        let found = line.namespaces.iter().find_map(|n| {
            key.find(n.prefix)
                .map(|at| (n, &key[at + n.prefix.len()..]))
                .filter(|(_, d)| !d.is_empty())
        });
        let Some((n, d)) = found else {
            if !PROPERTIES.contains(&key.as_str()) {
                return Err(format!(
                    "{key}: neither an injected nginx directive nor a Kong property this test knows"
                ));
            }
            continue;
        };
        if value == "NONE" || n.ignore.contains(&d) {
            continue;
        }
        let words: Vec<String> = value.split_whitespace().map(str::to_string).collect();
        let with = |first: &str| [vec![first.to_string()], words.clone()].concat();
        let (block, name, args) = match n.inject {
            Inject::Into(b) => (b, d.to_string(), words.clone()),
            Inject::Flag(b) => (b, "flag".to_string(), with(d)),
            Inject::ShmKv => (Block::Wasm, "shm_kv".to_string(), with(d)),
            Inject::WasmMain if line.default_shm_kv && d == "shm_kv" => {
                (Block::Wasm, "shm_kv".to_string(), with("*"))
            }
            Inject::WasmMain => (Block::Wasm, d.to_string(), words.clone()),
            Inject::NotNginx => {
                return Err(format!("{key}: a Kong {} setting, not nginx's", n.prefix))
            }
            Inject::Unmodelled(b) => {
                return Err(format!(
                    "{key}: goes into the {b} block, which this test does not model"
                ))
            }
        };
        out.push(Directive { block, name, args });
    }
    Ok(out)
}

/// One line of tests/kong/nginx_directives.txt.
struct Known {
    blocks: Vec<Block>,
    name: String,
    args: Vec<String>,
    /// `None`: nginx core, everywhere.
    engines: Option<Vec<String>>,
}

const ALL_ENGINES: &[&str] = &[
    "abd6a407", "21732b18", "a7087a37", "91d447ff", "96b4e27e", "9136e463",
];

fn known_directives() -> Vec<Known> {
    let path = root().join("tests/kong/nginx_directives.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [blocks, name, args, engines] = cols[..] else {
            panic!("nginx_directives.txt: {line:?} has not 4 columns");
        };
        let engines = match engines {
            "core" => None,
            "all" => Some(ALL_ENGINES.iter().map(|e| e.to_string()).collect()),
            list => Some(
                list.split(',')
                    .map(|e| {
                        let e = e.trim();
                        assert!(
                            ALL_ENGINES.contains(&e),
                            "nginx_directives.txt: unknown engine {e:?}"
                        );
                        e.to_string()
                    })
                    .collect(),
            ),
        };
        for a in args.split_whitespace() {
            let kind = a.trim_start_matches('[').trim_end_matches(']');
            let kind = kind.trim_end_matches("...");
            assert!(
                check_arg(kind, "").is_some(),
                "nginx_directives.txt: unknown argument kind {a:?}"
            );
        }
        out.push(Known {
            blocks: blocks.split(',').map(|b| Block::parse(b.trim())).collect(),
            name: name.to_string(),
            args: args.split_whitespace().map(str::to_string).collect(),
            engines,
        });
    }
    out
}

/// nginx's ngx_parse_size (`k`, `m`) or, with `g`, ngx_parse_offset.
fn parse_size(v: &str, giga: bool) -> Option<u64> {
    let (digits, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" if giga => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// nginx's ngx_parse_time: numbers with units y M w d h m s ms.
fn parse_msec(v: &str) -> bool {
    let mut rest = v;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "y", "M", "w", "d", "h", "m", "s"]
            .iter()
            .find(|u| rest.starts_with(*u));
        if let Some(u) = unit {
            rest = &rest[u.len()..];
        }
    }
    !v.is_empty()
}

/// Whether `v` is an argument of this kind; `None` for an unknown kind.
fn check_arg(kind: &str, v: &str) -> Option<bool> {
    const PAGE: u64 = 4096;
    Some(match kind {
        "size" => parse_size(v, false).is_some(),
        "off" => parse_size(v, true).is_some(),
        "shm_size" => parse_size(v, false).is_some_and(|n| n >= 3 * PAGE && n % PAGE == 0),
        "count" => v.parse::<u64>().is_ok_and(|n| n > 0),
        "bufsize" => parse_size(v, false).is_some_and(|n| n > 0),
        "flag" => v.eq_ignore_ascii_case("on") || v.eq_ignore_ascii_case("off"),
        "msec" => parse_msec(v),
        "eviction" => ["eviction=lru", "eviction=slru", "eviction=none"].contains(&v),
        "name" | "path" | "str" => !v.is_empty(),
        _ => return None,
    })
}

/// Whether `args` fit a spec such as `name shm_size [eviction]`.
fn args_fit(spec: &[String], args: &[String]) -> bool {
    let mut i = 0;
    for s in spec {
        let optional = s.starts_with('[');
        let kind = s.trim_start_matches('[').trim_end_matches(']');
        if let Some(kind) = kind.strip_suffix("...") {
            if i >= args.len() {
                return false;
            }
            while i < args.len() {
                if check_arg(kind, &args[i]) != Some(true) {
                    return false;
                }
                i += 1;
            }
        } else if i < args.len() {
            if check_arg(kind, &args[i]) != Some(true) {
                return false;
            }
            i += 1;
        } else if !optional {
            return false;
        }
    }
    i == args.len()
}

/// The reasons nginx of Kong `line` would refuse these directives.
fn refusals(line: &KongLine, directives: &[Directive], known: &[Known]) -> Vec<String> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for d in directives {
        let text = format!("{:?}: `{} {};`", d.block, d.name, d.args.join(" "));
        let named: Vec<&Known> = known.iter().filter(|k| k.name == d.name).collect();
        let Some(k) = named.iter().find(|k| k.blocks.contains(&d.block)) else {
            errors.push(if named.is_empty() {
                format!("Kong {}: {text}: unknown directive", line.version)
            } else {
                format!("Kong {}: {text}: not allowed in this block", line.version)
            });
            continue;
        };
        if let Some(engines) = &k.engines {
            for e in line.engines {
                if !engines.iter().any(|x| x == e) {
                    errors.push(format!(
                        "Kong {}: {text}: unknown to ngx_wasm_module {e}",
                        line.version
                    ));
                }
            }
        }
        if !args_fit(&k.args, &d.args) {
            errors.push(format!(
                "Kong {}: {text}: arguments do not fit `{}`",
                line.version,
                k.args.join(" ")
            ));
        }
        // A zone, module or flag may repeat under another name; nothing else.
        let multi = matches!(d.name.as_str(), "shm_kv" | "shm_queue" | "module" | "flag");
        let first = if multi { d.args.first().cloned() } else { None };
        if !seen.insert((d.block, d.name.clone(), first)) {
            errors.push(format!("Kong {}: {text}: duplicate", line.version));
        }
    }
    errors
}

/// Kong `version`'s verdict on kong.conf lines (`key = value`).
fn verdict(version: &str, lines: &[&str]) -> Result<Vec<Directive>, Vec<String>> {
    let line = kong(version);
    let settings: Vec<(String, String)> = lines.iter().map(|l| setting(l, "example")).collect();
    let directives = inject(line, &settings).map_err(|e| vec![e])?;
    let errors = refusals(line, &directives, &known_directives());
    if errors.is_empty() {
        Ok(directives)
    } else {
        Err(errors)
    }
}

fn versions_text(versions: &[&str]) -> Vec<String> {
    match versions {
        [one] => vec![format!("Kong Gateway {one}"), format!("Kong {one}")],
        [first, .., last] => {
            let mut v = vec![format!("{first} to {last}")];
            if versions.len() == 2 {
                v.push(format!("{first} and {last}"));
            }
            v
        }
        [] => Vec::new(),
    }
}

/// Every kong/*.conf is listed here, every Kong line has exactly one,
/// each file says which Kong versions it is for, and each commented-out
/// setting is listed with the versions its comment names.
#[test]
fn kong_confs_cover_every_kong_line_once() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("kong"))
        .expect("kong/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .map(|p| format!("kong/{}", file_name(&p)))
        .collect();
    let listed: BTreeSet<String> = SHIPPED.iter().map(|s| s.file.to_string()).collect();
    assert_eq!(on_disk, listed, "kong/*.conf files and SHIPPED differ");

    let mut owner = BTreeMap::new();
    for s in SHIPPED {
        for v in s.versions {
            kong(v);
            assert!(
                owner.insert(*v, s.file).is_none(),
                "Kong {v} has two kong.conf files"
            );
        }
        let (text, conf) = read_conf(s.file);
        let head: String = text.lines().take(3).collect::<Vec<_>>().join(" ");
        assert!(
            versions_text(s.versions).iter().any(|t| head.contains(t)),
            "{}: the first lines must say it is for Kong {:?}",
            s.file,
            s.versions
        );
        let optional: Vec<&str> = conf.optional.iter().map(|(k, _, _)| k.as_str()).collect();
        let expected: Vec<&str> = s.optional.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            optional, expected,
            "{}: commented-out settings differ from SHIPPED",
            s.file
        );
        for ((key, _, prose), (_, versions)) in conf.optional.iter().zip(s.optional) {
            assert!(!prose.is_empty(), "{}: {key} has no comment above", s.file);
            assert!(
                versions.iter().all(|v| s.versions.contains(v)),
                "{}: {key} claims a Kong version the file is not for",
                s.file
            );
            assert!(
                versions_text(versions).iter().any(|t| prose.contains(t)),
                "{}: the comment above {key} must name Kong {versions:?}",
                s.file
            );
        }
    }
    let all: Vec<&str> = KONG.iter().map(|k| k.version).collect();
    assert_eq!(owner.keys().copied().collect::<Vec<_>>(), all);
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The shipped files, and each commented-out setting uncommented, give
/// nginx only directives it knows, on every Kong line they are for.
#[test]
fn kong_confs_inject_only_directives_nginx_knows() {
    let known = known_directives();
    for s in SHIPPED {
        let (_, conf) = read_conf(s.file);
        for v in s.versions {
            let line = kong(v);
            let directives = inject(line, &conf.settings)
                .unwrap_or_else(|e| panic!("{} on Kong {v}: {e}", s.file));
            assert!(
                directives
                    .iter()
                    .any(|d| d.block == Block::Http && d.name == "client_body_buffer_size"),
                "{} on Kong {v}: no client_body_buffer_size in http {{}}",
                s.file
            );
            let errors = refusals(line, &directives, &known);
            assert!(errors.is_empty(), "{}: {errors:#?}", s.file);
        }
        for ((key, value, _), (_, versions)) in conf.optional.iter().zip(s.optional) {
            for v in *versions {
                let line = kong(v);
                let mut settings = conf.settings.clone();
                settings.push((key.clone(), value.clone()));
                let directives = inject(line, &settings)
                    .unwrap_or_else(|e| panic!("{} #{key} on Kong {v}: {e}", s.file));
                let without = inject(line, &conf.settings).expect("checked above");
                assert_eq!(
                    directives.len(),
                    without.len() + 1,
                    "{} #{key} on Kong {v} writes no directive",
                    s.file
                );
                let errors = refusals(line, &directives, &known);
                assert!(
                    errors.is_empty(),
                    "{} with {key} uncommented: {errors:#?}",
                    s.file
                );
            }
        }
    }
}

/// The rules above reproduce what Kong's source says, so that a slip in
/// them cannot hide a bad kong.conf line.
#[test]
fn injection_rules_match_kong_source() {
    let all = ["3.4", "3.5", "3.6", "3.7", "3.8", "3.9"];

    // The key kong.conf used to set (Kong's 3.7.0 changelog spells it so):
    // `main_shm_kv 1m;` in wasm {}, which no nginx knows.
    for v in all {
        let errors = verdict(v, &["nginx_wasm_main_shm_kv = 1m"]).expect_err(v);
        assert!(
            errors
                .iter()
                .any(|e| e.contains("`main_shm_kv 1m;`: unknown directive")),
            "Kong {v}: {errors:?}"
        );
    }

    // nginx_wasm_shm_kv: the default zone from 3.7 on (Kong's
    // spec/01-unit/04-prefix_handler_spec.lua, "injects a general shm_kv",
    // 3.7.0 to 3.9.3); a zone named "kv" on 3.4 and 3.5 (prefix
    // nginx_wasm_shm_); `shm_kv 1m;` on 3.6, one argument short.
    for v in ["3.7", "3.8", "3.9"] {
        assert_eq!(
            verdict(v, &["nginx_wasm_shm_kv = 1m"]),
            Ok(vec![directive(Block::Wasm, "shm_kv", &["*", "1m"])]),
            "Kong {v}"
        );
    }
    for v in ["3.4", "3.5"] {
        assert_eq!(
            verdict(v, &["nginx_wasm_shm_kv = 1m"]),
            Ok(vec![directive(Block::Wasm, "shm_kv", &["kv", "1m"])]),
            "Kong {v}"
        );
    }
    let errors = verdict("3.6", &["nginx_wasm_shm_kv = 1m"]).expect_err("3.6");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`shm_kv 1m;`: arguments do not fit")),
        "{errors:?}"
    );

    // Named zones ("injects a shm_kv" in the same spec file): 3.4.0's
    // nginx_wasm_shm_counters, 3.9.3's nginx_wasm_shm_kv_counters.
    let counters = vec![directive(Block::Wasm, "shm_kv", &["counters", "10m"])];
    for v in ["3.4", "3.5"] {
        assert_eq!(
            verdict(v, &["nginx_wasm_shm_counters = 10m"]),
            Ok(counters.clone())
        );
    }
    for v in ["3.6", "3.7", "3.8", "3.9"] {
        assert_eq!(
            verdict(v, &["nginx_wasm_shm_kv_counters = 10m"]),
            Ok(counters.clone())
        );
    }
    // A zone smaller than three pages, or not page-aligned, is refused.
    assert!(verdict("3.9", &["nginx_wasm_shm_kv = 8k"]).is_err());
    assert!(verdict("3.9", &["nginx_wasm_shm_kv = 13k"]).is_err());

    // wasm_response_body_buffers came with ngx_wasm_module's response
    // body buffering (f813a300), after 0.1.1: Kong 3.6 and later.
    for v in all {
        let got = verdict(v, &["nginx_http_wasm_response_body_buffers = 64 1m"]);
        if matches!(v, "3.4" | "3.5") {
            let errors = got.expect_err(v);
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains("unknown to ngx_wasm_module")),
                "{errors:?}"
            );
        } else {
            assert_eq!(
                got,
                Ok(vec![directive(
                    Block::Http,
                    "wasm_response_body_buffers",
                    &["64", "1m"]
                )]),
                "Kong {v}"
            );
        }
    }

    // nginx_http_* goes into http {} as is; NONE writes nothing; wasmtime
    // flags become `flag <name> <value>` in wasm { wasmtime {} }; a key in
    // no namespace is a Kong property.
    for v in all {
        assert_eq!(
            verdict(
                v,
                &[
                    "nginx_http_client_max_body_size = 40m",
                    "nginx_http_client_body_buffer_size = NONE",
                    "nginx_wasm_wasmtime_cranelift_opt_level = speed",
                    "wasm = on",
                ]
            ),
            Ok(vec![
                directive(Block::Http, "client_max_body_size", &["40m"]),
                directive(Block::Wasmtime, "flag", &["cranelift_opt_level", "speed"]),
            ]),
            "Kong {v}"
        );
        assert!(verdict(v, &["nginx_http_client_body_buffer_size = 40"]).is_ok());
        assert!(verdict(v, &["nginx_http_client_body_buffer_size = 40g"]).is_err());
        assert!(verdict(v, &["nginx_http_no_such_directive = 1"]).is_err());
        assert!(verdict(v, &["no_such_property = 1"]).is_err());
    }
}
