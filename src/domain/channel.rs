//! The three channels through which the Chamber makes Tokyo's programmes known.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A channel through which the Chamber makes Tokyo's programmes known to its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// メールマガジン: the Chamber's e-mail magazine.
    Newsletter,
    /// 東商新聞: the Chamber's newspaper.
    ToshoShimbun,
    /// 経営指導員による資料配布: materials handed out by business advisors.
    AdvisorHandout,
}

impl Channel {
    /// Every channel, in the order the plan lists them.
    pub const ALL: [Channel; 3] = [Channel::Newsletter, Channel::ToshoShimbun, Channel::AdvisorHandout];

    /// The stable identifier used in configuration, the database and URLs.
    pub fn slug(self) -> &'static str {
        match self {
            Channel::Newsletter => "newsletter",
            Channel::ToshoShimbun => "tosho-shimbun",
            Channel::AdvisorHandout => "advisor-handout",
        }
    }

    /// The channel with this exact slug.
    pub fn from_slug(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.slug() == s)
    }

    /// The channel's name as the plan writes it (without a trailing `等`).
    pub fn japanese(self) -> &'static str {
        match self {
            Channel::Newsletter => "メールマガジン",
            Channel::ToshoShimbun => "東商新聞",
            Channel::AdvisorHandout => "経営指導員による資料配布",
        }
    }

    /// The channel named `s` (surrounding whitespace ignored), with or without a trailing
    /// `等` ("etc."), as in the plan's `経営指導員による資料配布等`.
    pub fn from_japanese(s: &str) -> Option<Channel> {
        let s = s.trim();
        let s = s.strip_suffix('等').map_or(s, str::trim_end);
        Channel::ALL.into_iter().find(|c| c.japanese() == s)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Channel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::from_slug(s).ok_or_else(|| {
            let valid: Vec<&str> = Channel::ALL.iter().map(|c| c.slug()).collect();
            format!("unknown channel {s:?}: expected one of {}", valid.join(", "))
        })
    }
}
