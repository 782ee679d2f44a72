//! What a Japanese page must not show: every spelling the database stores that has a Japanese name on the
//! pages, taken from the code's own lists (a new state is checked the day it is added), and the themes' slugs.

use outreach::domain::account::Role;
use outreach::domain::campaign::CampaignState;
use outreach::domain::member::MemberSource;
use outreach::domain::plan::Channel;
use outreach::domain::{MemberEventKind, MemberStatus, Outcome, RunStatus, Trigger};

pub fn stored_spellings(themes: &[String]) -> Vec<String> {
    let mut words: Vec<String> = themes.to_vec();
    words.extend(Channel::ALL.iter().map(|c| c.slug().to_owned()));
    words.extend(CampaignState::ALL.iter().map(|s| s.as_str().to_owned()));
    words.extend(RunStatus::ALL.iter().map(|s| s.as_str().to_owned()));
    words.extend(Trigger::ALL.iter().map(|s| s.as_str().to_owned()));
    words.extend(Outcome::ALL.iter().map(|s| s.as_str().to_owned()));
    words.extend(MemberStatus::ALL.iter().map(|s| s.as_str().to_owned()));
    words.extend(MemberEventKind::ALL.iter().map(|s| s.as_str().to_owned()));
    words.extend(MemberSource::ALL.iter().map(|s| s.as_str().to_owned()));
    words.extend(Role::ALL.iter().map(|r| r.as_str().to_owned()));
    words
}

/// `text` without what stands between `open` and `close` (nested or not): a catalogue value without its
/// `{ $name }` placeables, a sentence without the values it quotes in 「…」.
pub fn outside(text: &str, open: char, close: char) -> String {
    let mut kept = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            kept.push(c);
        }
    }
    kept
}
