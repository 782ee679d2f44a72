//! Every word the pages show, from one message catalogue per language (`templates/web/locales/{ja,en}.ftl`, in
//! Fluent's syntax), so that a Japanese page says nothing in English and a missing translation is a failing test
//! rather than a word in the wrong language. Templates ask with `{{t "key" name=value}}` (escaped as any value);
//! the code asks with [`Lang::t`].

use std::sync::LazyLock;

use axum::http::header::{self, HeaderMap};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use handlebars::{Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, RenderErrorReason, ScopedJson};
use serde_json::Value;

/// The language of a page: Japanese unless the reader chose English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Ja,
    En,
}

impl Lang {
    /// `ja` or `en`, as pages and members' records spell it; anything else is Japanese.
    pub(crate) fn from_code(code: &str) -> Lang {
        if code == "en" { Lang::En } else { Lang::Ja }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The language a reader chose on the pages: Japanese unless the switch set English (a cookie).
    pub(crate) fn of(headers: &HeaderMap) -> Lang {
        let en = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == LANG_COOKIE && value == "en");
        if en { Lang::En } else { Lang::Ja }
    }

    /// The message `key` in this language.
    pub(crate) fn t(self, key: &str) -> String {
        CATALOGUE.text(self, key, None)
    }

    /// The name of a state or kind: the message `{kind}-{value}` (`outcome-sent`). A value the catalogue does not
    /// know (a row written by a newer version) shows as it is stored rather than breaking the page.
    pub(crate) fn label(self, kind: &str, value: &str) -> String {
        let key = format!("{kind}-{value}");
        CATALOGUE.lookup(self, &key, None).unwrap_or_else(|| {
            tracing::error!(key, lang = self.code(), "web: no name for this value in the catalogue");
            value.to_owned()
        })
    }

    /// The message `key` with its arguments (`{ $name }` in the catalogue).
    pub(crate) fn t_with(self, key: &str, args: &[(&str, &str)]) -> String {
        CATALOGUE.text(self, key, Some(&fluent_args(args)))
    }

    /// The message `key` with its arguments, if the catalogue has it: for keys made from stored names, where a
    /// missing one is expected (a row written by a newer version) and said another way.
    pub(crate) fn try_t_with(self, key: &str, args: &[(&str, &str)]) -> Option<String> {
        CATALOGUE.lookup(self, key, Some(&fluent_args(args)))
    }
}

fn fluent_args<'a>(args: &[(&'a str, &'a str)]) -> FluentArgs<'a> {
    let mut fluent = FluentArgs::new();
    for (name, value) in args {
        fluent.set(*name, FluentValue::from(*value));
    }
    fluent
}

/// The cookie the language switch sets.
pub(crate) const LANG_COOKIE: &str = "outreach_lang";

/// The message `key` in both languages, Japanese first (`ログイン / Sign in`): for the title of a page whose
/// reader's language is not known.
pub(crate) fn both(key: &str) -> String {
    format!("{} / {}", Lang::Ja.t(key), Lang::En.t(key))
}

pub(crate) const JA: &str = include_str!("../../templates/web/locales/ja.ftl");
pub(crate) const EN: &str = include_str!("../../templates/web/locales/en.ftl");

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(Catalogue::load);

struct Catalogue {
    ja: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

impl Catalogue {
    fn load() -> Self {
        Self {
            ja: bundle("ja", JA),
            en: bundle("en", EN),
        }
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }

    fn lookup(&self, lang: Lang, key: &str, args: Option<&FluentArgs>) -> Option<String> {
        let bundle = self.bundle(lang);
        let pattern = bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors).into_owned();
        if !errors.is_empty() {
            tracing::error!(key, lang = lang.code(), ?errors, "web: a message lacks an argument");
        }
        Some(text)
    }

    /// A missing key shows as itself: the catalogue test fails on it, and a page still renders.
    fn text(&self, lang: Lang, key: &str, args: Option<&FluentArgs>) -> String {
        self.lookup(lang, key, args).unwrap_or_else(|| {
            tracing::error!(key, lang = lang.code(), "web: no such message in the catalogue");
            key.to_owned()
        })
    }
}

/// One language's bundle. The files are compiled in and checked by the tests below, so a syntax error can only
/// come from an edit that did not run them; what did parse is kept and the rest is logged.
fn bundle(code: &str, source: &'static str) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, errors)| {
        tracing::error!(lang = code, ?errors, "web: the message catalogue does not parse");
        partial
    });
    let locale = code.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![locale]);
    // Unicode isolation marks around arguments would show as stray characters in HTML attributes and CSV cells.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(lang = code, ?errors, "web: the message catalogue repeats a key");
    }
    bundle
}

/// The `t` helper: `{{t "key" name=value}}`, in the language of the page (its root's `lang`). It returns a value,
/// so handlebars escapes it like any other; a key the catalogue lacks fails the render.
pub(crate) struct Translate;

impl HelperDef for Translate {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let key = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        // `{{t "key" lang="en"}}`: a page for readers whose language is not known (a member's broken link) says
        // everything in both languages, Japanese first.
        let lang = match h.hash_get("lang").and_then(|v| v.value().as_str()) {
            Some(code) => Lang::from_code(code),
            None => Lang::from_code(ctx.data().get("lang").and_then(Value::as_str).unwrap_or("ja")),
        };
        // `{{t "outcome" row.outcome}}`: a state or a kind, named in the page's language.
        if let Some(value) = h.param(1) {
            let value = match value.value() {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            return Ok(ScopedJson::Derived(Value::String(lang.label(key, &value))));
        }
        let mut args = FluentArgs::new();
        for (name, value) in h.hash().iter().filter(|(name, _)| **name != "lang") {
            let text = match value.value() {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            args.set(*name, FluentValue::from(text));
        }
        let args = (args.iter().next().is_some()).then_some(&args);
        let text = CATALOGUE
            .lookup(lang, key, args)
            .ok_or_else(|| RenderErrorReason::Other(format!("no message {key:?} in the {} catalogue", lang.code())))?;
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

/// The keys of one catalogue, in the order written.
#[cfg(test)]
fn keys(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|line| line.split_once(" = ").or_else(|| line.split_once(" =")))
        .map(|(key, _)| key.trim().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_parse_and_have_the_same_keys() {
        for (code, source) in [("ja", JA), ("en", EN)] {
            if let Err((_, errors)) = FluentResource::try_new(source.to_owned()) {
                panic!("{code}.ftl does not parse: {errors:?}");
            }
        }
        let (ja, en) = (keys(JA), keys(EN));
        let missing_en: Vec<_> = ja.iter().filter(|k| !en.contains(k)).collect();
        let missing_ja: Vec<_> = en.iter().filter(|k| !ja.contains(k)).collect();
        assert!(missing_en.is_empty(), "in ja.ftl but not in en.ftl: {missing_en:?}");
        assert!(missing_ja.is_empty(), "in en.ftl but not in ja.ftl: {missing_ja:?}");
        let mut sorted = ja.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ja.len(), "a key is written twice");
    }

    #[test]
    fn arguments_are_placed_without_isolation_marks() {
        let text = Lang::Ja.t_with("mail-to-this-address-is-stopped", &[("contact", "info@example.jp")]);
        assert!(text.contains("info@example.jp までご連絡ください"), "{text}");
        assert!(!text.contains('\u{2068}'), "{text:?}");
    }

    #[test]
    fn the_helper_escapes_and_fails_on_a_missing_key() {
        let mut hb = Handlebars::new();
        hb.register_helper("t", Box::new(Translate));
        let data = serde_json::json!({"lang": "en", "c": "<b>x</b>"});
        let page = hb.render_template(r#"{{t "mail-to-this-address-is-stopped" contact=c}}"#, &data);
        assert!(
            page.as_ref().is_ok_and(|p| p.contains("&lt;b&gt;x&lt;/b&gt;")),
            "{page:?}"
        );
        assert!(hb.render_template(r#"{{t "no-such-key"}}"#, &data).is_err());
    }
}
