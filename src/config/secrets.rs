//! How secrets in the settings are kept: masked wherever a URL is printed, logged or shown on a page (one
//! redaction for all of them), and never sent over the network in clear.

use super::{ConfigError, Settings, SmtpSecurity, SmtpSettings};

/// What a masked secret reads as.
const MASK: &str = "***";

/// A URL as it may be printed, logged or shown: the password of its user info (the user name stays, it says
/// which account) and every secret-looking query parameter (`password=`, `sslpassword=`, `token=`, `key=`…,
/// whatever the case) replaced by `***`. Text that does not parse as a URL is masked by the same rules, erring
/// on the side of hiding too much.
pub fn redact_url(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        return redact_unparsed(text);
    };
    let mut changed = false;
    if url.password().is_some() {
        if url.set_password(Some(MASK)).is_err() {
            return redact_unparsed(text);
        }
        changed = true;
    }
    if let Some(query) = url.query() {
        let masked = redact_query(query);
        if masked != query {
            url.set_query(Some(&masked));
            changed = true;
        }
    }
    // Unchanged text is given back as written, not as the parser would spell it.
    if changed { url.to_string() } else { text.to_owned() }
}

/// Whether a query parameter's value is a secret (libpq's `password` and `sslpassword`, and the usual spellings
/// of passwords, tokens and keys).
fn is_secret_name(name: &str) -> bool {
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    [
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "key",
        "auth",
        "credential",
        "credentials",
    ]
    .iter()
    .any(|word| name.ends_with(word))
}

/// `a=1&password=x` → `a=1&password=***`; the other parameters as they were written.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(&percent_decoded(name)) => format!("{name}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_decoded(text: &str) -> String {
    url::form_urlencoded::parse(format!("{text}=").as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default()
}

/// A URL the parser refuses (a bad port, a password with a bare `/` or `?`): everything between `://` and the
/// last `@` after the user name is taken for the password, so no part of one can show.
fn redact_unparsed(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return match text.split_once('?') {
            Some((before, query)) => format!("{before}?{}", redact_query(query)),
            None => text.to_owned(),
        };
    };
    let (user_info, host_on) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at..]),
        None => (None, rest),
    };
    let user = user_info.map(|info| match info.split_once(':') {
        Some((user, _)) => format!("{user}:{MASK}"),
        None => info.to_owned(),
    });
    let host_on = match host_on.split_once('?') {
        Some((before, query)) => format!("{before}?{}", redact_query(query)),
        None => host_on.to_owned(),
    };
    format!("{scheme}://{}{host_on}", user.unwrap_or_default())
}

impl Settings {
    /// The settings as they may be shown (the admin page): every URL through [`redact_url`]; `Secret` values
    /// already print as `Secret(redacted)`.
    pub fn redacted(&self) -> Settings {
        let mut shown = self.clone();
        shown.database.url = redact_url(&shown.database.url);
        shown.web.base_url = redact_url(&shown.web.base_url);
        shown
    }
}

/// A user name with `security = "none"` would send the password in clear (lettre offers AUTH to any server
/// that advertises it): refused unless allowed on purpose, for a relay on this machine.
pub(super) fn check_smtp_auth(smtp: &SmtpSettings) -> Result<(), ConfigError> {
    if smtp.username.is_empty() || smtp.security != SmtpSecurity::None || smtp.allow_plaintext_auth {
        return Ok(());
    }
    Err(ConfigError::new(
        "smtp.security",
        "\"none\" with smtp.username set would send the SMTP password in clear: use \"starttls\" or \"tls\" \
         (smtp.allow_plaintext_auth = true allows it, for a relay on this machine)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked() {
        let cases = [
            (
                "postgres://postgres:SECRET@db.example:5432/outreach",
                "postgres://postgres:***@db.example:5432/outreach",
            ),
            (
                "postgres://app@db/outreach?sslmode=require&password=SECRET&application_name=x",
                "postgres://app@db/outreach?sslmode=require&password=***&application_name=x",
            ),
            (
                "postgresql://app:p%40ss@db/o?PassWord=SECRET&sslpassword=SECRET&pwd=SECRET&api_key=SECRET",
                "postgresql://app:***@db/o?PassWord=***&sslpassword=***&pwd=***&api_key=***",
            ),
            (
                "postgres://u@db/o?user=a@b&token=SECRET&pass%77ord=SECRET",
                "postgres://u@db/o?user=a@b&token=***&pass%77ord=***",
            ),
            // A mistyped scheme is still a URL.
            ("postgress://postgres:SECRET@h/d", "postgress://postgres:***@h/d"),
            // The parser refuses these; the fallback still hides the whole password.
            ("postgres://u:SEC/RET@h:notaport/d", "postgres://u:***@h:notaport/d"),
            (
                "postgres://u:SEC?RET@h:99999/d?password=SECRET",
                "postgres://u:***@h:99999/d?password=***",
            ),
            ("postgres://u:SECRET@@h:x/d", "postgres://u:***@h:x/d"),
            // Nothing to hide: unchanged.
            (
                "sqlite:///srv/outreach/outreach.db",
                "sqlite:///srv/outreach/outreach.db",
            ),
            ("sqlite://outreach.db?mode=rwc", "sqlite://outreach.db?mode=rwc"),
            ("sqlite::memory:", "sqlite::memory:"),
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            ("https://outreach.example.org", "https://outreach.example.org"),
            ("not a url?secret=SECRET", "not a url?secret=***"),
        ];
        for (given, shown) in cases {
            assert_eq!(redact_url(given), shown, "{given}");
            assert!(!redact_url(given).contains("SEC"), "{given}");
        }
    }

    #[test]
    fn plaintext_auth_needs_tls_or_leave() {
        let mut smtp = Settings::load_from(None, Vec::new()).unwrap().smtp;
        check_smtp_auth(&smtp).unwrap();
        smtp.username = "relay".into();
        let refused = check_smtp_auth(&smtp).unwrap_err();
        assert_eq!(refused.key, "smtp.security");
        assert!(refused.to_string().contains("smtp.username"), "{refused}");
        smtp.allow_plaintext_auth = true;
        check_smtp_auth(&smtp).unwrap();
        smtp.allow_plaintext_auth = false;
        for security in [SmtpSecurity::Starttls, SmtpSecurity::Tls] {
            smtp.security = security;
            check_smtp_auth(&smtp).unwrap();
        }
    }
}
