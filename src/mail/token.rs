//! Signed member tokens: `base64url(payload).base64url(HMAC-SHA256(key, payload))`.
//! A token names a purpose, a member and (for unsubscribe) a theme; it needs no database row to verify.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid or tampered link")]
pub struct InvalidToken;

impl MemberToken {
    pub fn sign(&self, key: &[u8]) -> String {
        let payload = match &self.purpose {
            Purpose::Unsubscribe { theme_slug } => format!("u:{}:{theme_slug}", self.member_id),
            Purpose::Preferences => format!("p:{}", self.member_id),
        };
        let mut mac = mac(key);
        mac.update(payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    pub fn verify(token: &str, key: &[u8]) -> Result<Self, InvalidToken> {
        let (payload, signature) = token.split_once('.').ok_or(InvalidToken)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| InvalidToken)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| InvalidToken)?;
        let mut mac = mac(key);
        mac.update(&payload);
        mac.verify_slice(&signature).map_err(|_| InvalidToken)?;
        let payload = String::from_utf8(payload).map_err(|_| InvalidToken)?;
        let mut parts = payload.splitn(3, ':');
        let kind = parts.next().ok_or(InvalidToken)?;
        let member_id = parts.next().and_then(|id| id.parse().ok()).ok_or(InvalidToken)?;
        let purpose = match (kind, parts.next()) {
            ("u", Some(theme)) => Purpose::Unsubscribe {
                theme_slug: theme.to_owned(),
            },
            ("p", None) => Purpose::Preferences,
            _ => return Err(InvalidToken),
        };
        Ok(Self { member_id, purpose })
    }
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let t = MemberToken {
            member_id: 42,
            purpose: Purpose::Unsubscribe {
                theme_slug: "telework".into(),
            },
        };
        let signed = t.sign(b"key-1");
        assert_eq!(MemberToken::verify(&signed, b"key-1"), Ok(t));
        assert_eq!(MemberToken::verify(&signed, b"key-2"), Err(InvalidToken));
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode("u:43:telework"),
            signed.split_once('.').unwrap().1
        );
        assert_eq!(MemberToken::verify(&forged, b"key-1"), Err(InvalidToken));
        let p = MemberToken {
            member_id: 7,
            purpose: Purpose::Preferences,
        };
        assert_eq!(MemberToken::verify(&p.sign(b"k"), b"k"), Ok(p));
        assert_eq!(MemberToken::verify("garbage", b"k"), Err(InvalidToken));
    }
}
