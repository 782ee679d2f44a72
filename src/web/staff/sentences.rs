//! The action log in words: each row as a sentence in the page's language ("佐藤がキャンペーン「…」を一時停止しました"),
//! its canonical JSON kept one click away for whoever needs the record itself.

use std::collections::HashMap;

use super::frame::Lang;
use crate::domain::ActionRecord;

/// Campaign names by id, to name a campaign the log calls `campaign 3`.
pub(super) type CampaignNames = HashMap<i64, String>;

/// The row as a sentence. An action the catalogue has no sentence for (a row from a newer version) is said
/// generically, with its stored name.
pub(super) fn sentence(lang: Lang, row: &ActionRecord, campaigns: &CampaignNames) -> String {
    let who = if row.actor.is_empty() || row.actor_kind != "user" && row.actor_kind != "operator" {
        lang.label("actor-kind", &row.actor_kind)
    } else {
        row.actor.clone()
    };
    let target = target(lang, &row.target, campaigns);
    let key = format!("action-{}", row.action.replace(['.', '_'], "-"));
    lang.try_t_with(&key, &[("who", &who), ("target", &target)])
        .unwrap_or_else(|| {
            lang.t_with(
                "action-other",
                &[("who", &who), ("action", &row.action), ("target", &target)],
            )
        })
}

/// What the action was on, as a reader names it.
fn target(lang: Lang, target: &str, campaigns: &CampaignNames) -> String {
    let numbered = |prefix: &str| target.strip_prefix(prefix).and_then(|n| n.trim().parse::<i64>().ok());
    if let Some(id) = numbered("campaign ") {
        return campaigns.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    }
    if let Some(id) = numbered("run ") {
        return lang.t_with("target-run", &[("id", &id.to_string())]);
    }
    if let Some(year) = numbered("fiscal year ") {
        return lang.t_with("target-fiscal-year", &[("year", &year.to_string())]);
    }
    target.to_owned()
}
