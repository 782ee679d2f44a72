//! Mail templates: Handlebars in strict mode, compiled once at start (and again on reload).
//!
//! The templates of `templates/email` are built into the binary, so it runs from any folder; a folder named
//! by `templates.dir` overrides them file by file. Every `.hbs` file is registered under its path without `.hbs`
//! (`layouts/html`, `newsletter/telework/subject`). `html.hbs` renders with HTML escaping; `subject.hbs` and
//! `text.hbs` render without it. A mail is a folder `<channel>/<theme>/` holding all three; an English newsletter
//! is the folder `newsletter/<theme>/en/` beside it (see [`super::context::template_in`]).
//!
//! `{{component "layouts/heading-html" title="…"}}` renders a template with only the given parameters as its
//! context. Prefer it to a partial for small pieces: handlebars copies the whole mail context at every partial
//! call, and that copy was a fifth of the time it takes to send a mail.

use std::path::{Path, PathBuf};

use handlebars::{Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderErrorReason};
use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A template that does not compile or render: the file, the line when known, and why.
    #[error("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Template {
        file: String,
        line: Option<usize>,
        reason: String,
    },
    #[error("no mail template {0:?} (expected the folder with subject.hbs, html.hbs and text.hbs)")]
    Missing(String),
    #[error("cannot read the template folder {path}: {reason}")]
    Folder { path: String, reason: String },
}

/// A mail as it will be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl RenderedMail {
    /// What the send log records, so an auditor can prove which content went out.
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        for part in [&self.subject, &self.text, &self.html] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// The mail templates as built into the binary.
static BUILT_IN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates/email");

/// Where a template came from, for messages: a file of the override folder, or the built-in set.
#[derive(Debug, Clone)]
struct Source {
    shown_as: String,
    text: String,
}

#[derive(Debug)]
pub struct Templates {
    /// Template name → where it came from, to name the file in render errors.
    origins: std::collections::HashMap<String, String>,
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    mails: Vec<String>,
}

impl Templates {
    /// The built-in templates, overridden file by file by those under `dir` when it is given.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut sources = std::collections::BTreeMap::new();
        built_in(&BUILT_IN, &mut sources);
        if let Some(root) = dir {
            let mut files = Vec::new();
            collect_files(root, root, &mut files)?;
            for (name, path) in files {
                let text = std::fs::read_to_string(&path).map_err(|e| TemplateError::Template {
                    file: path.display().to_string(),
                    line: None,
                    reason: e.to_string(),
                })?;
                sources.insert(
                    name,
                    Source {
                        shown_as: path.display().to_string(),
                        text,
                    },
                );
            }
        }
        Self::compile(sources)
    }

    fn compile(sources: std::collections::BTreeMap<String, Source>) -> Result<Self, TemplateError> {
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        for registry in [&mut html, &mut text] {
            registry.register_helper("component", Box::new(Component));
        }
        let mut mails = Vec::new();
        let mut origins = std::collections::HashMap::new();
        for (name, source) in &sources {
            for registry in [&mut html, &mut text] {
                registry
                    .register_template_string(name, &source.text)
                    .map_err(|e| TemplateError::Template {
                        file: source.shown_as.clone(),
                        line: e.pos().map(|(line, _)| line),
                        reason: e.reason().to_string(),
                    })?;
            }
            if let Some(mail) = name.strip_suffix("/subject")
                && !mail.starts_with("layouts/")
            {
                mails.push(mail.to_owned());
            }
            origins.insert(name.clone(), source.shown_as.clone());
        }
        Ok(Self {
            origins,
            html,
            text,
            mails,
        })
    }

    pub fn has(&self, mail: &str) -> bool {
        self.mails.iter().any(|m| m == mail)
    }

    pub fn render(&self, mail: &str, context: serde_json::Value) -> Result<RenderedMail, TemplateError> {
        if !self.has(mail) {
            return Err(TemplateError::Missing(mail.to_owned()));
        }
        // One context for the three parts: handlebars would convert the data anew for each render() call.
        let context = handlebars::Context::from(context);
        let part = |registry: &Handlebars<'static>, name: &str| {
            let full = format!("{mail}/{name}");
            registry.render_with_context(&full, &context).map_err(|e| {
                let name = e.template_name.clone().unwrap_or(full);
                TemplateError::Template {
                    file: self.origins.get(&name).cloned().unwrap_or(name),
                    line: e.line_no,
                    reason: e.reason().to_string(),
                }
            })
        };
        let subject = part(&self.text, "subject")?;
        Ok(RenderedMail {
            // Header values are one line.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: part(&self.text, "text")?,
            html: part(&self.html, "html")?,
        })
    }
}

/// `{{component "NAME" key=value …}}`: renders template NAME with only the given parameters as its context.
struct Component;

impl HelperDef for Component {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        registry: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("component", 0))?;
        let params: serde_json::Map<String, serde_json::Value> = h
            .hash()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.value().clone()))
            .collect();
        // The component's own escaping applies; what it returns is written as is. Its final newline is dropped:
        // the line calling it keeps its own, as a standalone partial line would not.
        let rendered = registry.render(name, &params)?;
        out.write(rendered.strip_suffix('\n').unwrap_or(&rendered))?;
        Ok(())
    }
}

fn built_in(dir: &'static Dir<'static>, out: &mut std::collections::BTreeMap<String, Source>) {
    for file in dir.files() {
        let path = file.path();
        if path.extension().is_some_and(|e| e == "hbs")
            && let Some(text) = file.contents_utf8()
        {
            let name = path
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let shown_as = format!("templates/email/{} (built in)", path.display());
            out.insert(
                name,
                Source {
                    shown_as,
                    text: text.to_owned(),
                },
            );
        }
    }
    for sub in dir.dirs() {
        built_in(sub, out);
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), TemplateError> {
    let folder_error = |e: std::io::Error| TemplateError::Folder {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(folder_error)? {
        let path = entry.map_err(folder_error)?.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "hbs") {
            let relative = path.strip_prefix(root).unwrap_or(&path).with_extension("");
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Japanese typography: beside Japanese text a colon, a bracket or a bar is the full-width one (`：`, `（）`,
    /// `｜`). English templates (`…/en`) keep theirs.
    #[test]
    fn japanese_templates_use_full_width_punctuation() {
        let japanese =
            |c: char| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}');
        let mut sources = std::collections::BTreeMap::new();
        built_in(&BUILT_IN, &mut sources);
        let mut found = Vec::new();
        for (name, source) in sources.iter().filter(|(n, _)| !n.split('/').any(|part| part == "en")) {
            let chars: Vec<char> = source.text.chars().collect();
            for pair in chars.windows(2) {
                let [a, b] = [pair[0], pair[1]];
                let half_width = |c: char| matches!(c, ':' | '(' | ')' | '|');
                if (japanese(a) && half_width(b) && b != '(') || (half_width(a) && a != ')' && japanese(b)) {
                    found.push(format!("{name}: {a}{b}"));
                }
            }
        }
        assert!(found.is_empty(), "half-width punctuation in Japanese text: {found:#?}");
        assert!(sources.len() > 50, "every built-in template was read");
    }

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        dir
    }

    #[test]
    fn component_sees_only_its_parameters_and_reads_like_a_partial() {
        let dir = folder(&[
            ("layouts/h.hbs", "<h2>{{title}}</h2>\n"),
            ("layouts/leaky.hbs", "{{recipient.name}}\n"),
            ("m/t/subject.hbs", "件名"),
            (
                "m/t/html.hbs",
                "{{component \"layouts/h\" title=\"A&B\"}}\n<p>{{recipient.name}}</p>\n",
            ),
            (
                "m/t/text.hbs",
                "{{component \"layouts/h\" title=\"A&B\"}}\n{{recipient.name}}\n",
            ),
            ("m/bad/subject.hbs", "x"),
            ("m/bad/html.hbs", "{{component \"layouts/leaky\"}}"),
            ("m/bad/text.hbs", "x"),
        ]);
        let templates = Templates::load(Some(dir.path())).unwrap();
        let context = serde_json::json!({"recipient": {"name": "山田"}});
        let mail = templates.render("m/t", context.clone()).unwrap();
        // Escaped in HTML, not in text; one newline, as a standalone partial line would give.
        assert_eq!(mail.html, "<h2>A&amp;B</h2>\n<p>山田</p>\n");
        assert_eq!(mail.text, "<h2>A&B</h2>\n山田\n");
        // The mail's context is not visible inside a component: strict mode says so.
        let err = templates.render("m/bad", context).unwrap_err().to_string();
        assert!(err.contains("recipient.name"), "{err}");
    }
}
