//! The shape of the code, checked from the source: every `crate::` path a file uses must
//! point to a layer its own layer may import (the table in README's Architecture section),
//! a command never imports another command, no file in `src/` is over 500 lines and no
//! function over 80 (from its `fn` line to the closing brace at the same indent), and each
//! file opens with a `//!` line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The longest a source file may be, in lines.
const MAX_FILE_LINES: usize = 500;
/// The longest a function may be, in lines, `fn` line and closing brace included.
const MAX_FN_LINES: usize = 80;

/// Each layer, the files it holds (path prefixes under `src/`), and the layers it may import
/// besides its own. `text` is importable by every layer and listed explicitly.
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    (
        "app",
        &[
            "lib.rs",
            "main.rs",
            "serve.rs",
            "meta.rs",
            "confirm.rs",
            "live/",
        ],
        &[
            "cli", "render", "commands", "columns", "analyze", "collect", "query", "model",
            "parse", "text",
        ],
    ),
    (
        "cli",
        &["cli.rs", "cli/"],
        &["query", "model", "parse", "text"],
    ),
    (
        "render",
        &["render/"],
        &["model", "parse", "columns", "text"],
    ),
    (
        "commands",
        &["commands/"],
        &[
            "query", "collect", "analyze", "columns", "model", "parse", "text",
        ],
    ),
    (
        "columns",
        &["columns/"],
        &["collect", "analyze", "query", "model", "parse", "text"],
    ),
    (
        "analyze",
        &["analyze/"],
        &["collect", "query", "model", "parse", "text"],
    ),
    (
        "collect",
        &["collect/", "signal.rs"],
        &["query", "model", "parse", "text"],
    ),
    ("query", &["query/"], &["model", "parse", "text"]),
    // `exit.rs` holds plain shared values (exit codes, the error kinds that carry one): it
    // sits with the payload types and imports only them.
    ("model", &["model/", "exit.rs"], &["parse", "text"]),
    ("parse", &["parse/"], &["text"]),
    ("text", &["text/"], &[]),
];

/// The layer of a top-level crate module (`crate::<module>`).
fn layer_of_module(module: &str) -> &'static str {
    match module {
        "cli" => "cli",
        "render" => "render",
        "commands" => "commands",
        "columns" => "columns",
        "analyze" => "analyze",
        "collect" | "signal" => "collect",
        "query" => "query",
        "model" | "exit" => "model",
        "parse" => "parse",
        "text" => "text",
        // `serve`, `live`, and items of lib.rs itself.
        _ => "app",
    }
}

/// The layer of a file, by its path relative to `src/`.
fn layer_of_file(relative: &str) -> Option<&'static str> {
    LAYERS.iter().find_map(|(layer, prefixes, _)| {
        prefixes
            .iter()
            .any(|prefix| relative == *prefix || relative.starts_with(prefix))
            .then_some(*layer)
    })
}

fn may_import(layer: &str, target: &str) -> bool {
    layer == target
        || LAYERS
            .iter()
            .any(|(name, _, allowed)| *name == layer && allowed.contains(&target))
}

/// Removes `//` comments (line and doc comments), so doc links are not taken for imports.
fn strip_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            // Only a `//` outside a string literal starts a comment (an even count of quotes
            // before it).
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::` path in the source with its line, as segments: `use crate::a::b`, inline
/// `crate::a::b::f()`, and each path of a grouped `use crate::{a, b::{c, d}}`.
fn crate_paths(source: &str) -> Vec<(usize, Vec<String>)> {
    let code = strip_comments(source);
    let mut found = Vec::new();
    let mut rest = code.as_str();
    let mut offset = 0;
    while let Some(at) = rest.find("crate::") {
        let start = offset + at;
        let preceded = code[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        let line = code[..start].matches('\n').count() + 1;
        if !preceded {
            let after = &code[start + "crate::".len()..];
            found.extend(expand(after).into_iter().map(|path| (line, path)));
        }
        offset = start + "crate::".len();
        rest = &code[offset..];
    }
    found.retain(|(_, path)| path.first().is_some_and(|first| first != "self"));
    found
}

/// The paths a use tree names: `a::b` is one, `a::{b, c::{d, e}}` is three.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let mut prefix = Vec::new();
    let mut rest = tree;
    loop {
        rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            return top_level_members(group)
                .iter()
                .flat_map(|member| expand(member))
                .map(|tail| [prefix.clone(), tail].concat())
                .collect();
        }
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '*')
            .collect();
        if ident.is_empty() {
            break;
        }
        rest = &rest[ident.len()..];
        prefix.push(ident);
        match rest.trim_start().strip_prefix("::") {
            Some(tail) => rest = tail,
            None => break,
        }
    }
    if prefix.is_empty() {
        Vec::new()
    } else {
        vec![prefix]
    }
}

/// The comma-separated members of a brace group, up to its closing brace.
fn top_level_members(group: &str) -> Vec<String> {
    let mut members = vec![String::new()];
    let mut depth = 0;
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                members.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = members.last_mut() {
            last.push(c);
        }
    }
    members
        .into_iter()
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

/// The first two path segments of `a::b::c` (or `a`).
fn segments(path: &str) -> (String, Option<String>) {
    let ident = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let first = ident(path.trim_start());
    let second = path
        .trim_start()
        .get(first.len()..)
        .and_then(|tail| tail.strip_prefix("::"))
        .map(ident)
        .filter(|s| !s.is_empty());
    (first, second)
}

/// The command a file under `commands/` belongs to (`kill` for `commands/kill/select.rs`).
fn command_of(relative: &str) -> Option<String> {
    let inside = relative.strip_prefix("commands/")?;
    let first = inside.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "mod").then(|| name.to_owned())
}

/// Functions longer than [`MAX_FN_LINES`]: (line of `fn`, name, length).
fn long_functions(source: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut long = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let indent = &line[..line.len() - line.trim_start().len()];
        // A declaration without a body (`fn f(&self);`) ends in `;` before any `{`.
        let header_end = lines[index..]
            .iter()
            .position(|l| l.contains('{') || l.trim_end().ends_with(';'));
        let Some(header_end) = header_end else {
            continue;
        };
        let header = lines[index + header_end];
        if !header.contains('{') {
            continue;
        }
        let opened = header.matches('{').count();
        let closed = header.matches('}').count();
        if opened == closed {
            continue; // a one-line function
        }
        let closing = format!("{indent}}}");
        let end = lines[index + 1..]
            .iter()
            .position(|l| l.trim_end() == closing)
            .map(|at| index + 1 + at);
        if let Some(end) = end {
            let length = end - index + 1;
            if length > MAX_FN_LINES {
                long.push((index + 1, name, length));
            }
        }
    }
    long
}

/// The name of the function a line starts, if it does (`pub(crate) async fn name(`).
fn fn_name(line: &str) -> Option<String> {
    let mut words = line.trim_start();
    if words.starts_with("//") {
        return None;
    }
    loop {
        let next = [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "async ",
            "unsafe ",
        ]
        .iter()
        .find_map(|prefix| words.strip_prefix(prefix));
        match next {
            Some(rest) => words = rest.trim_start(),
            None => break,
        }
    }
    if let Some(rest) = words.strip_prefix("extern \"C\" ") {
        words = rest;
    }
    let rest = words.strip_prefix("fn ")?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// What the checks need to know about the whole source tree.
struct Tree {
    /// Every command module (a file or directory under `commands/`).
    commands: Vec<String>,
    /// Every module path (`collect::fds`), to tell a module from an item in a path.
    modules: HashSet<String>,
}

impl Tree {
    fn of(relatives: &[String]) -> Self {
        Self {
            commands: relatives.iter().filter_map(|r| command_of(r)).collect(),
            modules: relatives.iter().map(|r| module_path(r)).collect(),
        }
    }

    /// The first segment of `path` after its modules (the item it names), if any.
    fn item<'p>(&self, path: &'p [String]) -> Option<&'p str> {
        let mut module = String::new();
        for segment in path {
            let candidate = if module.is_empty() {
                segment.clone()
            } else {
                format!("{module}::{segment}")
            };
            if !self.modules.contains(&candidate) {
                return Some(segment);
            }
            module = candidate;
        }
        None
    }
}

/// The module path of a file: `collect/fds.rs` is `collect::fds`, `collect/mod.rs` is `collect`.
fn module_path(relative: &str) -> String {
    let trimmed = relative.strip_suffix(".rs").unwrap_or(relative);
    let trimmed = trimmed.strip_suffix("/mod").unwrap_or(trimmed);
    trimmed.replace('/', "::")
}

/// Every violation in one file: `relative` is its path under `src/`.
fn check_file(relative: &str, source: &str, tree: &Tree) -> Vec<String> {
    let mut violations = Vec::new();
    if !source.starts_with("//!") {
        violations.push(format!(
            "src/{relative}: no `//!` line (rule: each module opens with what it owns)"
        ));
    }
    let line_count = source.lines().count();
    if line_count > MAX_FILE_LINES {
        violations.push(format!(
            "src/{relative}: {line_count} lines (rule: files under {MAX_FILE_LINES} lines)"
        ));
    }
    for (line, name, length) in long_functions(source) {
        violations.push(format!(
            "src/{relative}:{line}: fn {name} is {length} lines (rule: functions under {MAX_FN_LINES} lines)"
        ));
    }
    let Some(layer) = layer_of_file(relative) else {
        violations.push(format!(
            "src/{relative}: in no layer (rule: every file belongs to a layer of the table)"
        ));
        return violations;
    };
    let own_command = command_of(relative);
    for (line, path) in crate_paths(source) {
        let module = path[0].clone();
        let second = path.get(1).cloned();
        let target = layer_of_module(&module);
        if !may_import(layer, target) {
            violations.push(format!(
                "src/{relative}:{line}: imports crate::{module} (rule: {layer} may not import {target})"
            ));
        }
        if let (Some(own), "commands", Some(other)) = (&own_command, module.as_str(), &second)
            && other != own
            && tree.commands.contains(other)
        {
            violations.push(format!(
                "src/{relative}:{line}: imports crate::commands::{other} (rule: a command never imports another command)"
            ));
        }
        // analyze works over collected facts: it may name collect's types, never call it.
        if layer == "analyze"
            && target == "collect"
            && let Some(item) = tree.item(&path)
            && item.starts_with(|c: char| c.is_ascii_lowercase())
        {
            violations.push(format!(
                "src/{relative}:{line}: uses crate::{} (rule: analyze may use only types of collect)",
                path.join("::")
            ));
        }
    }
    // A grouped import names one module several times: one line per violation.
    violations.dedup();
    // `super::other` from a command file directly under `commands/` names a sibling command.
    if let Some(own) = &own_command
        && relative.matches('/').count() == 1
    {
        for (line, text) in strip_comments(source).lines().enumerate() {
            for (at, _) in text.match_indices("super::") {
                let (other, _) = segments(&text[at + "super::".len()..]);
                if other != *own && tree.commands.contains(&other) {
                    violations.push(format!(
                        "src/{relative}:{}: imports super::{other} (rule: a command never imports another command)",
                        line + 1
                    ));
                }
            }
        }
    }
    violations
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_only_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "found only {} files under src/",
        files.len()
    );
    let relatives: Vec<String> = files
        .iter()
        .map(|file| {
            let relative = file.strip_prefix(&src).expect("under src");
            relative.to_string_lossy().into_owned()
        })
        .collect();
    let tree = Tree::of(&relatives);
    let mut violations = Vec::new();
    for (file, relative) in files.iter().zip(&relatives) {
        let source = std::fs::read_to_string(file).expect("readable source");
        violations.extend(check_file(relative, &source, &tree));
    }
    assert!(
        violations.is_empty(),
        "{} architecture violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

#[test]
fn the_checker_catches_what_it_must() {
    let files = [
        "commands/kill.rs",
        "commands/kill/select.rs",
        "commands/ports.rs",
        "commands/show.rs",
        "commands/threads.rs",
        "collect/mod.rs",
        "collect/fds.rs",
    ];
    let tree = Tree::of(&files.map(String::from));
    let check = |relative: &str, source: &str| {
        check_file(relative, &format!("//! A module.\n{source}"), &tree)
    };
    // A backward edge, in each form a path can take.
    assert_eq!(
        check("model/x.rs", "use crate::analyze::stacks::StackMapping;\n").len(),
        1
    );
    let grouped = check(
        "query/x.rs",
        "use crate::{\n    model::A,\n    collect::B,\n};\n",
    );
    assert_eq!(grouped.len(), 1, "{grouped:?}");
    assert!(grouped[0].contains("query/x.rs:2") && grouped[0].contains("crate::collect"));
    let inline = check(
        "columns/x.rs",
        "fn f() {\n    crate::render::units::bytes(1);\n}\n",
    );
    assert!(inline[0].contains("columns/x.rs:3") && inline[0].contains("render"));
    assert_eq!(
        check("cli/x.rs", "use crate::signal::parse_signal;\n").len(),
        1
    );
    // Allowed edges, doc links and comments are not violations.
    assert!(
        check(
            "commands/ps.rs",
            "use crate::collect::ProcFs;\nuse crate::text::units;\n"
        )
        .is_empty()
    );
    assert!(
        check(
            "model/x.rs",
            "//! See [`crate::render::Report`].\n// crate::analyze\n"
        )
        .is_empty()
    );
    // A command importing another command, by `crate::` or `super::`; its own submodules pass.
    assert_eq!(
        check("commands/kill.rs", "use crate::commands::ports::run;\n").len(),
        1
    );
    assert_eq!(
        check("commands/show.rs", "use super::threads::run;\n").len(),
        1
    );
    assert!(
        check(
            "commands/kill/select.rs",
            "use crate::commands::kill::KillQuery;\nuse super::view;\n"
        )
        .is_empty()
    );
    // Sizes.
    let long_fn = format!("fn long() {{\n{}}}\n", "    x();\n".repeat(MAX_FN_LINES));
    let found = check("parse/x.rs", &long_fn);
    assert!(
        found.len() == 1 && found[0].contains("fn long is 82 lines"),
        "{found:?}"
    );
    let ok_fn = format!(
        "fn short() {{\n{}}}\n",
        "    x();\n".repeat(MAX_FN_LINES - 2)
    );
    assert!(check("parse/x.rs", &ok_fn).is_empty());
    assert!(
        check(
            "parse/x.rs",
            "trait T {\n    fn f(&self);\n}\nfn g() { 1 }\n"
        )
        .is_empty()
    );
    let big = "const X: u8 = 1;\n".repeat(MAX_FILE_LINES + 1);
    assert_eq!(check("parse/x.rs", &big).len(), 1);
    assert_eq!(check("elsewhere.rs", "").len(), 1);
    assert_eq!(check_file("parse/x.rs", "use std::fs;\n", &tree).len(), 1);
    // analyze may name collect's types (in nested groups too), never call its functions.
    assert!(
        check(
            "analyze/x.rs",
            "use crate::collect::{ProcFs, fds::FdEntry};\n"
        )
        .is_empty()
    );
    let calls = check(
        "analyze/x.rs",
        "use crate::collect::{fds::{FdEntry, read_fds}};\n",
    );
    assert!(
        calls.len() == 1 && calls[0].contains("crate::collect::fds::read_fds"),
        "{calls:?}"
    );
    assert_eq!(
        check(
            "analyze/x.rs",
            "fn f() {\n    crate::collect::fds::read_fds();\n}\n"
        )
        .len(),
        1
    );
}
