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

fn uses(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            // `crate::Application` is the services module's re-export.
            let name = if name.is_empty() && after.starts_with("Application") {
                "services".to_owned()
            } else {
                name
            };
            if !name.is_empty() {
                found.insert(name);
            }
            rest = after;
        }
    }
    found
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
        for used in uses(&std::fs::read_to_string(&file).unwrap()) {
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
