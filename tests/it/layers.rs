//! The dependency rule, checked on the source: no module imports a module above it (README, Layout), so
//! there are no cycles. A comment or a doc link does not count; code does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module's layer; a module may use its own layer's neighbours only where listed in `SAME_LAYER`.
const LAYERS: [(&str, u8); 14] = [
    ("config", 0),
    ("clock", 0),
    ("domain", 1),
    ("import", 2),
    ("mail", 2),
    ("store", 3),
    ("error", 4),
    ("export", 4),
    ("services", 4),
    ("web", 5),
    ("runtime", 6),
    ("cli", 7),
    ("lib", 8),
    ("main", 8),
];

/// Uses inside one layer that follow the direction of the README: the services and the CSV export (shared by
/// the command line and the web server) return the error type.
const SAME_LAYER: [(&str, &str); 2] = [("services", "error"), ("export", "error")];

fn module_of(path: &Path, src: &Path) -> String {
    let relative = path.strip_prefix(src).unwrap();
    let first = relative
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level modules a file's code names: every `crate::…` path, inside `use` braces too
/// (`use crate::{web, store}`), and every `super::…` or `self::…` path resolved from the file's own module
/// (`super::super::store` in `web/x.rs` is `store`), so neither spelling sidesteps the rule.
fn uses(file: &Path, src: &Path, text: &str) -> BTreeSet<String> {
    let own = module_path(file, src);
    paths_in(&code_of(text), &BTreeSet::new())
        .iter()
        .filter_map(|path| absolute(path, &own).into_iter().next())
        // `crate::Application` is the services module's re-export.
        .map(|first| {
            if first == "Application" {
                "services".to_owned()
            } else {
                first
            }
        })
        .collect()
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_module_imports_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layer: BTreeMap<&str, u8> = LAYERS.into_iter().collect();
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let module = module_of(&file, &src);
        let Some(&own) = layer.get(module.as_str()) else {
            wrong.push(format!("{}: module {module} has no layer in this test", file.display()));
            continue;
        };
        for used in uses(&file, &src, &std::fs::read_to_string(&file).unwrap()) {
            if used == module {
                continue;
            }
            let Some(&theirs) = layer.get(used.as_str()) else {
                wrong.push(format!("{}: uses unknown module {used}", file.display()));
                continue;
            };
            let sideways_allowed = SAME_LAYER.contains(&(module.as_str(), used.as_str()));
            if theirs > own || (theirs == own && !sideways_allowed) {
                wrong.push(format!(
                    "{}: {module} (layer {own}) uses {used} (layer {theirs})",
                    file.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "the dependency rule is broken:\n{}", wrong.join("\n"));
}

/// A file of `src/web` as its module path: `web/staff/audit.rs` is `web::staff::audit`, `web/staff/mod.rs` is
/// `web::staff`.
fn module_path(path: &Path, src: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src).unwrap().with_extension("");
    let mut segments: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    segments
}

/// The code of a file: comments, `pub(in …)` visibilities and the unit tests at its end (they may use anything)
/// left out.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    for line in text.lines() {
        if line.trim() == "#[cfg(test)]" {
            break;
        }
        code.push_str(line.split("//").next().unwrap_or_default());
        code.push('\n');
    }
    while let Some(start) = code.find("pub(in ") {
        let end = code[start..].find(')').map_or(code.len(), |e| start + e + 1);
        code.replace_range(start..end, "pub");
    }
    code
}

/// Every path of a `use` tree, braces expanded: `super::{a, b::{c, D}}` is `super::a`, `super::b::c`,
/// `super::b::D`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or_default().to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(expand)
        .map(|p| {
            if p == "self" {
                prefix.trim_end_matches("::").to_owned()
            } else {
                format!("{prefix}{p}")
            }
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths a file's code names: every path of its `use` items, and every `super::…`, `self::…` or
/// `crate::…` path elsewhere, and every path that starts with the name of a module the file declares.
fn paths_in(code: &str, children: &BTreeSet<String>) -> Vec<String> {
    let mut paths = Vec::new();
    // The `use` items, read as trees; the rest of the code is read for paths.
    let mut other = String::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let statement_start = i == 0 || !is_ident(rest[..i].chars().last().unwrap());
        let after = &rest[i + 4..];
        let Some(end) = after.find(';') else { break };
        // A `use` item is a path tree; "use " inside a string or a sentence is not.
        let tree = after[..end]
            .chars()
            .all(|c| is_ident(c) || c.is_whitespace() || ":{},*".contains(c));
        if statement_start && tree {
            other.push_str(&rest[..i]);
            paths.extend(expand(&after[..end]));
        } else {
            other.push_str(&rest[..i + 4 + end]);
        }
        rest = &after[end..];
    }
    other.push_str(rest);
    let chars: Vec<char> = other.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts = i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':');
        if starts && is_ident(chars[i]) {
            let mut j = i;
            while j < chars.len() && (is_ident(chars[j]) || (chars[j] == ':' && chars.get(j + 1) == Some(&':'))) {
                j += if chars[j] == ':' { 2 } else { 1 };
            }
            let path: String = chars[i..j].iter().collect::<String>().trim_end_matches(':').to_owned();
            let first = path.split("::").next().unwrap_or_default();
            if path.contains("::") && (["super", "self", "crate"].contains(&first) || children.contains(first)) {
                paths.push(path);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    paths
}

/// A path as seen from the module `own`, from the crate's root: `super::b` in `a::x` is `a::b`.
fn absolute(path: &str, own: &[String]) -> Vec<String> {
    let mut segments = path.split("::").filter(|s| !s.is_empty());
    let Some(first) = segments.next() else {
        return Vec::new();
    };
    let mut absolute: Vec<String> = match first {
        "crate" => Vec::new(),
        "self" => own.to_vec(),
        "super" => own[..own.len().saturating_sub(1)].to_vec(),
        child => {
            let mut p = own.to_vec();
            p.push(child.to_owned());
            p
        }
    };
    for s in segments {
        if s == "super" {
            absolute.pop();
        } else {
            absolute.push(s.to_owned());
        }
    }
    absolute
}

/// The module of `modules` a path from `own` leads to: the longest one that is a prefix of it.
fn target(path: &str, own: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let absolute = absolute(path, own);
    (1..=absolute.len())
        .rev()
        .map(|n| absolute[..n].to_vec())
        .find(|p| modules.contains(p))
}

/// The modules of `edges` that lie on a cycle, grouped: each group's modules all reach each other.
fn cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    let reach = |from: &Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(node) = todo.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&Vec<String>, BTreeSet<Vec<String>>> = edges.keys().map(|m| (m, reach(m))).collect();
    let mut groups: Vec<Vec<String>> = Vec::new();
    for (module, from_it) in &reached {
        if !from_it.contains(*module) || groups.iter().any(|g| g.contains(&module.join("::"))) {
            continue;
        }
        let group = from_it
            .iter()
            .filter(|other| reached.get(other).is_some_and(|r| r.contains(*module)))
            .map(|m| m.join("::"))
            .collect();
        groups.push(group);
    }
    groups
}

/// Inside `src/web` the modules depend on each other without a cycle: a parent module (`mod.rs`) wires its
/// children's routes and a child never uses its parent; what several of them share is a module of its own.
#[test]
fn the_web_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src.join("web"), &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(f, &src)).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let own = module_path(file, &src);
        let children: BTreeSet<String> = modules
            .iter()
            .filter(|m| m.len() == own.len() + 1 && m.starts_with(&own))
            .map(|m| m[own.len()].clone())
            .collect();
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let used = edges.entry(own.clone()).or_default();
        for path in paths_in(&code, &children) {
            if let Some(to) = target(&path, &own, &modules)
                && to != own
            {
                used.insert(to);
            }
        }
    }
    assert!(
        edges.values().flatten().count() > 20,
        "the scan found the modules' uses: {edges:?}"
    );
    let cycles = cycles(&edges);
    let described: Vec<String> = cycles
        .iter()
        .map(|group| {
            let uses: Vec<String> = group
                .iter()
                .flat_map(|from| {
                    let into_group = edges[&from.split("::").map(str::to_owned).collect::<Vec<_>>()]
                        .iter()
                        .map(|to| to.join("::"))
                        .filter(|to| group.contains(to));
                    into_group.map(move |to| format!("  {from} uses {to}"))
                })
                .collect();
            uses.join("\n")
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "modules inside src/web that use each other, {} cycle(s):\n{}",
        cycles.len(),
        described.join("\n  --\n")
    );
}

#[test]
fn a_use_tree_expands_and_a_path_finds_its_module() {
    assert_eq!(
        expand("super::{Web, session::{self, A}, auth}"),
        ["super::Web", "super::session", "super::session::A", "super::auth"]
    );
    let modules: BTreeSet<Vec<String>> = [
        vec!["web"],
        vec!["web", "auth"],
        vec!["web", "staff"],
        vec!["web", "staff", "kit"],
    ]
    .into_iter()
    .map(|m| m.into_iter().map(str::to_owned).collect())
    .collect();
    let own: Vec<String> = vec!["web".into(), "staff".into(), "kit".into()];
    let to = |p: &str| target(p, &own, &modules).map(|m| m.join("::"));
    assert_eq!(to("super::super::auth::forbidden").as_deref(), Some("web::auth"));
    assert_eq!(to("super::Lang").as_deref(), Some("web::staff"));
    assert_eq!(to("crate::web::auth::X").as_deref(), Some("web::auth"));
    assert_eq!(to("crate::domain::Actor"), None);
    let children: BTreeSet<String> = ["auth".to_owned()].into();
    let found = paths_in(
        "use super::{a, b};\nfn f() { auth::sign_in(); x::y(); super::z::W; }",
        &children,
    );
    assert_eq!(found, ["super::a", "super::b", "auth::sign_in", "super::z::W"]);
}

#[test]
fn the_rule_sees_braces_and_chains_of_super() {
    let src = Path::new("/src");
    let file = Path::new("/src/web/staff/x.rs");
    let text = "use crate::{store, domain::Field};\n\
                use super::super::super::runtime::Worker;\n\
                fn f() { self::helper(); super::kit::a(); crate::Application::new(); }\n\
                // crate::cli in a comment does not count\n";
    let found: Vec<String> = uses(file, src, text).into_iter().collect();
    assert_eq!(found, ["domain", "runtime", "services", "store", "web"]);
}
