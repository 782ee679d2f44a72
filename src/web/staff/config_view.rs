//! The admin's configuration page as people read it: the settings in force, grouped by section, each key with
//! what it does (from the catalogue), the environment variable that sets it, and its value with every secret
//! masked (the same masking as the logs).

use serde_json::{Value, json};

use super::frame::Lang;
use crate::config::Settings;

/// Sections in the order of `config/default.toml`; the themes are shown as a list of their own.
const SECTIONS: [&str; 9] = [
    "database",
    "schedule",
    "delivery",
    "smtp",
    "web",
    "templates",
    "organization",
    "tosho_shimbun",
    "audit",
];

/// The settings as sections of `{key, env, value, description}` rows, and the themes.
pub(super) fn view(lang: Lang, settings: &Settings) -> Value {
    let all = serde_json::to_value(settings.redacted()).unwrap_or_default();
    let sections: Vec<Value> = SECTIONS
        .iter()
        .filter_map(|section| {
            let keys = all.get(section)?.as_object()?;
            let rows: Vec<Value> = keys
                .iter()
                .map(|(key, value)| {
                    json!({
                        "key": format!("{section}.{key}"),
                        "env": format!("OUTREACH_{}__{}", section.to_uppercase(), key.to_uppercase()),
                        "value": shown(value),
                        "description": description(lang, section, key),
                    })
                })
                .collect();
            let title = lang.t(&format!("config-section-{}", section.replace('_', "-")));
            Some(json!({"id": section, "title": title, "rows": rows}))
        })
        .collect();
    let themes: Vec<Value> = all
        .get("themes")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .map(|t| json!({"slug": t["slug"], "title": t["title_ja"]}))
                .collect()
        })
        .unwrap_or_default();
    json!({"sections": sections, "themes": themes})
}

/// A value as it would be written in the file; an empty one says so.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What the key does, from the catalogue (`config-web-bind`): every key has one, which a test checks.
pub(super) fn description(lang: Lang, section: &str, key: &str) -> String {
    lang.t(&format!(
        "config-{}-{}",
        section.replace('_', "-"),
        key.replace('_', "-")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_description_and_every_secret_is_masked() {
        let mut settings = crate::config::Settings::load_from(None, Vec::<(String, String)>::new()).unwrap();
        settings.smtp.password = crate::config::Secret::new("hunter2-hunter2");
        for lang in [Lang::Ja, Lang::En] {
            let view = view(lang, &settings);
            let text = view.to_string();
            assert!(!text.contains("hunter2"), "a secret is shown");
            let sections = view["sections"].as_array().unwrap();
            assert_eq!(sections.len(), SECTIONS.len());
            for section in sections {
                let title = section["title"].as_str().unwrap();
                let named = !title.starts_with("config-") && section["id"] != title;
                assert!(named, "no title for the section {}", section["id"]);
            }
            for row in sections.iter().flat_map(|s| s["rows"].as_array().unwrap()) {
                let description = row["description"].as_str().unwrap();
                assert!(
                    !description.starts_with("config-"),
                    "no description for {} in {lang:?}",
                    row["key"]
                );
            }
        }
    }
}
