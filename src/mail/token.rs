//! Signed member tokens: `base64url(payload).base64url(HMAC-SHA256(key, payload))`, with the payload
//! `KIND:KEY_ID:EXPIRES_DAY:MEMBER[:THEME]`. A token names a purpose, a member and (for unsubscribe) a theme,
//! the key that signed it and the day it expires; it needs no database row to verify.
//!
//! A preview's or a test mail's links are inert: their kind starts with `x` (`xu`, `xp`), and the member pages
//! show what such a link would do and never do it. Staff who preview a member's mail see that member's links, and
//! must not be able to act in the member's name with them.
//!
//! The key id (the first 8 hex digits of the key's SHA-256) lets a deployment rotate its key: links signed with
//! the previous key still verify until they expire, and a link signed by another deployment is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Leave one theme (RFC 8058 one-click, and the footer link).
    Unsubscribe { theme_slug: String },
    /// Open the preferences page.
    Preferences,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberToken {
    pub member_id: i64,
    pub purpose: Purpose,
    /// Days since 1970-01-01 (UTC) after which the link no longer works.
    pub expires_day: i64,
    /// Made for a preview or a test mail: never acted on.
    pub inert: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("invalid or tampered link")]
    Invalid,
    #[error("the link has expired")]
    Expired,
    /// A preview's or a test mail's link: genuine, but it does nothing.
    #[error("the link is a preview's and does nothing")]
    Inert,
}

/// The day a link made at `now_ms` expires, `ttl_days` later.
pub fn expiry_day(now_ms: i64, ttl_days: u32) -> i64 {
    now_ms.div_euclid(DAY_MS) + i64::from(ttl_days)
}

/// The id a key is known by in its links.
pub fn key_id(key: &[u8]) -> String {
    hex::encode(&Sha256::digest(key)[..4])
}

impl MemberToken {
    /// A live link to a member's preferences page, working for `ttl_days` from `now_ms` (a fresh link by mail,
    /// the way back after a one-click leave).
    pub fn preferences(member_id: i64, now_ms: i64, ttl_days: u32) -> Self {
        Self {
            member_id,
            purpose: Purpose::Preferences,
            expires_day: expiry_day(now_ms, ttl_days),
            inert: false,
        }
    }

    pub fn sign(&self, key: &[u8]) -> String {
        let kid = key_id(key);
        let inert = if self.inert { "x" } else { "" };
        let payload = match &self.purpose {
            Purpose::Unsubscribe { theme_slug } => {
                format!("{inert}u:{kid}:{}:{}:{theme_slug}", self.expires_day, self.member_id)
            }
            Purpose::Preferences => format!("{inert}p:{kid}:{}:{}", self.expires_day, self.member_id),
        };
        let mut mac = mac(key);
        mac.update(payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// Verifies with whichever of `keys` signed the token (the current key, or the previous one during a
    /// rotation), then checks it has not expired at `now_ms`.
    pub fn verify(token: &str, keys: &[&[u8]], now_ms: i64) -> Result<Self, TokenError> {
        use TokenError::Invalid;
        let (payload, signature) = token.split_once('.').ok_or(Invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| Invalid)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| Invalid)?;
        let payload = String::from_utf8(payload).map_err(|_| Invalid)?;
        let mut parts = payload.splitn(5, ':');
        let kind = parts.next().ok_or(Invalid)?;
        let (inert, kind) = match kind.strip_prefix('x') {
            Some(kind) => (true, kind),
            None => (false, kind),
        };
        let kid = parts.next().ok_or(Invalid)?;
        let key = keys.iter().find(|k| key_id(k) == kid).ok_or(Invalid)?;
        let mut mac = mac(key);
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| Invalid)?;
        let expires_day: i64 = parts.next().and_then(|d| d.parse().ok()).ok_or(Invalid)?;
        let member_id = parts.next().and_then(|id| id.parse().ok()).ok_or(Invalid)?;
        let purpose = match (kind, parts.next()) {
            ("u", Some(theme)) => Purpose::Unsubscribe {
                theme_slug: theme.to_owned(),
            },
            ("p", None) => Purpose::Preferences,
            _ => return Err(Invalid),
        };
        if now_ms.div_euclid(DAY_MS) > expires_day {
            return Err(TokenError::Expired);
        }
        Ok(Self {
            member_id,
            purpose,
            expires_day,
            inert,
        })
    }
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"key-one-0123456789abcdef0123456789";
    const OLD: &[u8] = b"key-old-0123456789abcdef0123456789";
    const NOW: i64 = 1_590_969_600_000;

    fn unsubscribe(member_id: i64) -> MemberToken {
        MemberToken {
            member_id,
            purpose: Purpose::Unsubscribe {
                theme_slug: "telework".into(),
            },
            expires_day: expiry_day(NOW, 90),
            inert: false,
        }
    }

    #[test]
    fn round_trip_and_tamper() {
        let t = unsubscribe(42);
        let signed = t.sign(KEY);
        assert_eq!(MemberToken::verify(&signed, &[KEY], NOW), Ok(t.clone()));
        assert_eq!(MemberToken::verify(&signed, &[OLD], NOW), Err(TokenError::Invalid));
        let (payload, signature) = signed.split_once('.').unwrap();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let forged = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(payload.replace(":42:", ":43:"))
        );
        assert_eq!(MemberToken::verify(&forged, &[KEY], NOW), Err(TokenError::Invalid));
        let p = MemberToken {
            member_id: 7,
            purpose: Purpose::Preferences,
            expires_day: expiry_day(NOW, 1),
            inert: false,
        };
        assert_eq!(MemberToken::verify(&p.sign(KEY), &[KEY], NOW), Ok(p));
        assert_eq!(MemberToken::verify("garbage", &[KEY], NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn an_inert_token_says_so_and_cannot_be_made_live() {
        let live = unsubscribe(42);
        let inert = MemberToken {
            inert: true,
            ..live.clone()
        };
        let signed = inert.sign(KEY);
        assert_eq!(MemberToken::verify(&signed, &[KEY], NOW), Ok(inert));
        // Dropping the `x` from the payload breaks the signature: a preview's link never becomes a live one.
        let (payload, signature) = signed.split_once('.').unwrap();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let made_live = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(payload.strip_prefix('x').unwrap())
        );
        assert_eq!(MemberToken::verify(&made_live, &[KEY], NOW), Err(TokenError::Invalid));
        assert_ne!(live.sign(KEY), signed);
    }

    #[test]
    fn links_expire_and_survive_a_rotation() {
        let t = unsubscribe(42);
        let signed_with_old = t.sign(OLD);
        // The deployment rotated: the old key still verifies its links, the new one signs.
        assert_eq!(MemberToken::verify(&signed_with_old, &[KEY, OLD], NOW), Ok(t.clone()));
        assert_eq!(
            MemberToken::verify(&signed_with_old, &[KEY], NOW),
            Err(TokenError::Invalid)
        );
        // Valid through its last day, expired the day after.
        let last_day = NOW + 90 * DAY_MS;
        assert!(MemberToken::verify(&t.sign(KEY), &[KEY], last_day).is_ok());
        assert_eq!(
            MemberToken::verify(&t.sign(KEY), &[KEY], last_day + DAY_MS),
            Err(TokenError::Expired)
        );
    }
}
