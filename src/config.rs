//! Settings: the embedded `config/default.toml`, then an optional file, then `OUTREACH_<SECTION>__<KEY>`
//! environment variables. Every value is checked here once, so the rest of the program can trust it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono_tz::Tz;
use serde::Deserialize;

pub mod files;
mod secrets;

pub use secrets::redact_url;

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");
const ENV_PREFIX: &str = "OUTREACH";

/// A configuration problem: the key and what is wrong with it. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {}{reason}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// A secret value: never printed, not even by `Debug`.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Shown to admins as masked as in the logs: never the value.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0.is_empty() { "" } else { "***" })
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(empty)"
        } else {
            "Secret(redacted)"
        })
    }
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub schedule: ScheduleSettings,
    pub delivery: DeliverySettings,
    pub smtp: SmtpSettings,
    pub web: WebSettings,
    pub templates: TemplateSettings,
    pub organization: Organization,
    pub tosho_shimbun: ToshoShimbunSettings,
    pub audit: AuditSettings,
    pub themes: Vec<ThemeName>,
    /// The data folder relative paths were read in (set by [`Settings::within`]), for the start line.
    #[serde(skip)]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    Latest,
    Skip,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    pub time_zone: String,
    pub catch_up: CatchUp,
    pub max_lateness_secs: u64,
    pub on_time_secs: u64,
    pub tick_secs: u64,
}

impl ScheduleSettings {
    /// The validated zone (checked in [`Settings::validate`]).
    pub fn tz(&self) -> Tz {
        Tz::from_str(&self.time_zone).unwrap_or(chrono_tz::Asia::Tokyo)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    File,
    Smtp,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    pub transport: TransportKind,
    pub outbox: PathBuf,
    pub from: String,
    pub message_id_domain: String,
    pub batch_size: u32,
    pub max_attempts: u32,
    pub retry_base_secs: u64,
    pub retry_max_secs: u64,
    pub lease_secs: u64,
    pub rate_per_second: u32,
    pub failure_rate_pause: f64,
    pub failure_min_sample: u32,
    pub shutdown_grace_secs: u64,
    pub heartbeat_secs: u64,
    pub instance_timeout_secs: u64,
    pub refusal_streak: u32,
}

/// Seconds from the configuration as milliseconds; saturating, though every such value is bounded at load.
pub fn millis(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    #[serde(default)]
    pub password: Secret,
    pub password_file: String,
    /// Lets `username` go with `security = "none"`: the password crosses the network in clear (a relay on
    /// this machine only).
    #[serde(default)]
    pub allow_plaintext_auth: bool,
    pub timeout_secs: u64,
    pub pool_size: u32,
    pub hello_name: String,
    pub idle_check_secs: u64,
    pub idle_close_secs: u64,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    pub base_url: String,
    /// How long a member link works after its mail was sent.
    pub link_ttl_days: u32,
    /// During a key rotation: the key links were signed with before; they verify until they expire.
    #[serde(default)]
    pub previous_signing_key: Secret,
    /// Where `serve` and `web` listen (the member pages), e.g. 127.0.0.1:8080; port 0 picks a free one.
    pub bind: String,
    /// Lets `base_url` be http:// while mail goes out over SMTP: for tests only.
    #[serde(default)]
    pub allow_http: bool,
    #[serde(default)]
    pub signing_key: Secret,
    pub signing_key_file: String,
    /// A staff session ends after this many minutes without a request.
    pub session_idle_minutes: u64,
    /// And this many hours after sign-in, whatever happens.
    pub session_absolute_hours: u64,
    /// Sign-in attempts allowed per minute for one typed address (also the burst).
    pub sign_in_per_minute_per_address: u32,
    /// Sign-in attempts allowed per minute from one client address (also the burst).
    pub sign_in_per_minute_per_client: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed, as written in the file.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The same, parsed (filled by validation).
    #[serde(skip)]
    pub trusted_proxy_addresses: Vec<std::net::IpAddr>,
    /// A request's whole header must arrive within this many seconds of the connection waiting for it.
    pub header_read_timeout_secs: u64,
    /// A connection that receives nothing for this many seconds is closed (after its answer, if one is due).
    pub idle_timeout_secs: u64,
    /// Connections served at once; more wait in the system's accept queue.
    pub max_connections: u32,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    /// Empty: the templates built into the binary. Otherwise a folder whose files override them one by one.
    pub dir: PathBuf,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub name: String,
    pub department: String,
    /// The name and department as English newsletters give them.
    pub name_en: String,
    pub department_en: String,
    pub email: String,
    pub phone: String,
    pub website: String,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToshoShimbunSettings {
    pub editorial_desk: Vec<String>,
}

/// The verifiable audit log (docs/audit-format.md).
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    pub seal_secs: u64,
    /// Addresses that get each day's latest checkpoint by mail.
    pub witnesses: Vec<String>,
    /// `outreach audit retention` pseudonymises personal data in the logs older than this.
    pub retention_days: u32,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeName {
    pub slug: String,
    pub title_ja: String,
    pub title_en: String,
}

impl Settings {
    /// Loads the layered settings from the real environment; relative paths are read in `data_dir`.
    pub fn load(file: Option<&Path>, data_dir: &Path) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())?.within(data_dir)
    }

    /// Resolves the relative paths of the data (SQLite file, outbox, signing key) against `data_dir`, so the
    /// program behaves the same from any folder.
    pub fn within(mut self, data_dir: &Path) -> Result<Self, ConfigError> {
        // Absolute, so what `init` prints and what the logs say still holds after a change of folder.
        let data_dir = std::path::absolute(data_dir)
            .map_err(|e| ConfigError::new("--data-dir", format!("{}: {e}", data_dir.display())))?;
        self.data_dir = data_dir.clone();
        let data_dir = data_dir.as_path();
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                data_dir.join(p)
            }
        };
        if let Some(rest) = self.database.url.strip_prefix("sqlite://") {
            let (path, query) = rest.split_once('?').map_or((rest, None), |(p, q)| (p, Some(q)));
            if !path.is_empty() && path != ":memory:" && !Path::new(path).is_absolute() {
                let full = resolve(Path::new(path));
                let full = full.to_str().ok_or_else(|| {
                    ConfigError::new("--data-dir", format!("{} is not valid UTF-8", data_dir.display()))
                })?;
                self.database.url = match query {
                    Some(q) => format!("sqlite://{full}?{q}"),
                    None => format!("sqlite://{full}"),
                };
            }
        }
        self.delivery.outbox = resolve(&self.delivery.outbox);
        if !self.web.signing_key_file.is_empty() {
            self.web.signing_key_file = resolve(Path::new(&self.web.signing_key_file)).display().to_string();
        }
        Ok(self)
    }

    /// Loads the layered settings with the given environment (tests pass their own).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut builder =
            config::Config::builder().add_source(config::File::from_str(DEFAULT_TOML, config::FileFormat::Toml));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::new(
                    "--config",
                    format!("{} is not a readable file", path.display()),
                ));
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            // Only OUTREACH_<SECTION>__<KEY>: other OUTREACH_* variables (like OUTREACH_LOG) are not settings.
            .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}_")) && k.contains("__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("_")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("tosho_shimbun.editorial_desk")
                .with_list_parse_key("web.trusted_proxies")
                .with_list_parse_key("audit.witnesses")
                .try_parsing(true)
                .source(Some(env)),
        );
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| config_error_from(&e))?;
        settings.validate()
    }

    fn validate(mut self) -> Result<Self, ConfigError> {
        let url = &self.database.url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::new(
                "database.url",
                format!("{:?} is neither sqlite:… nor postgres://…", redact_url(url)),
            ));
        }
        within("database.max_connections", self.database.max_connections, 1..=1000)?;
        Tz::from_str(&self.schedule.time_zone).map_err(|_| {
            ConfigError::new(
                "schedule.time_zone",
                format!("unknown time zone {:?}", self.schedule.time_zone),
            )
        })?;
        within("schedule.tick_secs", self.schedule.tick_secs, 1..=59)?;
        within("schedule.on_time_secs", self.schedule.on_time_secs, 1..=3600)?;
        within(
            "schedule.max_lateness_secs",
            self.schedule.max_lateness_secs,
            0..=31 * DAY,
        )?;
        lettre::message::Mailbox::from_str(&self.delivery.from).map_err(|e| {
            ConfigError::new(
                "delivery.from",
                format!("{:?} is not a mailbox: {e}", self.delivery.from),
            )
        })?;
        if self.delivery.message_id_domain.is_empty() || self.delivery.message_id_domain.contains(['<', '>', '@', ' '])
        {
            return Err(ConfigError::new(
                "delivery.message_id_domain",
                "must be a bare domain name",
            ));
        }
        let d = &self.delivery;
        within("delivery.batch_size", d.batch_size, 1..=100_000)?;
        within("web.link_ttl_days", self.web.link_ttl_days, 1..=3650)?;
        within("web.session_idle_minutes", self.web.session_idle_minutes, 1..=1440)?;
        within("web.session_absolute_hours", self.web.session_absolute_hours, 1..=168)?;
        within(
            "web.sign_in_per_minute_per_address",
            self.web.sign_in_per_minute_per_address,
            1..=1000,
        )?;
        within(
            "web.sign_in_per_minute_per_client",
            self.web.sign_in_per_minute_per_client,
            1..=10_000,
        )?;
        within(
            "web.header_read_timeout_secs",
            self.web.header_read_timeout_secs,
            1..=300,
        )?;
        // The header clock also runs while a connection waits for a request: a longer idle limit would never act.
        within(
            "web.idle_timeout_secs",
            self.web.idle_timeout_secs,
            1..=self.web.header_read_timeout_secs,
        )?;
        within("web.max_connections", self.web.max_connections, 1..=100_000)?;
        self.web.trusted_proxy_addresses = Vec::new();
        for (i, proxy) in self.web.trusted_proxies.iter().enumerate() {
            let proxy = proxy.trim();
            if proxy.is_empty() {
                continue;
            }
            let address = proxy.parse::<std::net::IpAddr>().map_err(|_| {
                ConfigError::new(
                    format!("web.trusted_proxies[{i}]"),
                    format!("{proxy:?} is not an IP address such as 127.0.0.1 or ::1"),
                )
            })?;
            self.web.trusted_proxy_addresses.push(address.to_canonical());
        }
        within("delivery.max_attempts", d.max_attempts, 1..=100)?;
        within("delivery.retry_base_secs", d.retry_base_secs, 1..=DAY)?;
        within("delivery.retry_max_secs", d.retry_max_secs, d.retry_base_secs..=7 * DAY)?;
        within("delivery.lease_secs", d.lease_secs, 1..=DAY)?;
        within("delivery.rate_per_second", d.rate_per_second, 0..=100_000)?;
        within("delivery.failure_min_sample", d.failure_min_sample, 1..=1_000_000)?;
        within("delivery.shutdown_grace_secs", d.shutdown_grace_secs, 0..=3600)?;
        within("delivery.heartbeat_secs", d.heartbeat_secs, 1..=60)?;
        // Two missed heartbeats are not yet death: a busy machine may be late once.
        within(
            "delivery.instance_timeout_secs",
            d.instance_timeout_secs,
            d.heartbeat_secs.saturating_mul(3)..=3600,
        )?;
        within("delivery.refusal_streak", d.refusal_streak, 2..=10_000)?;
        within("audit.seal_secs", self.audit.seal_secs, 1..=3600)?;
        within("audit.retention_days", self.audit.retention_days, 0..=36_500)?;

        if !(0.0..=1.0).contains(&self.delivery.failure_rate_pause) {
            return Err(ConfigError::new(
                "delivery.failure_rate_pause",
                "must be between 0 and 1",
            ));
        }
        within("smtp.port", self.smtp.port, 1..=65535)?;
        within("smtp.pool_size", self.smtp.pool_size, 1..=256)?;
        within("smtp.timeout_secs", self.smtp.timeout_secs, 1..=600)?;
        within("smtp.idle_check_secs", self.smtp.idle_check_secs, 0..=3600)?;
        within(
            "smtp.idle_close_secs",
            self.smtp.idle_close_secs,
            self.smtp.idle_check_secs..=DAY,
        )?;
        if self.delivery.lease_secs <= self.smtp.timeout_secs {
            return Err(ConfigError::new(
                "delivery.lease_secs",
                format!(
                    "{} must be greater than smtp.timeout_secs ({}): a mail is only started while its lease outlasts \
                     the server's answer",
                    self.delivery.lease_secs, self.smtp.timeout_secs
                ),
            ));
        }
        secrets::check_smtp_auth(&self.smtp)?;
        if self.smtp.password.is_empty() && !self.smtp.password_file.is_empty() {
            self.smtp.password = read_secret_file("smtp.password_file", &self.smtp.password_file)?;
        }
        if !self.web.base_url.starts_with("http://") && !self.web.base_url.starts_with("https://") {
            return Err(ConfigError::new("web.base_url", "must start with http:// or https://"));
        }
        // It goes into the List-Unsubscribe header between < and >.
        if self
            .web
            .base_url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        {
            return Err(ConfigError::new(
                "web.base_url",
                "must not contain spaces, control characters, <, > or \"",
            ));
        }
        if self.web.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::new(
                "web.bind",
                format!("{:?} is not an address and port such as 127.0.0.1:8080", self.web.bind),
            ));
        }
        // Members' unsubscribe links must not travel in clear, and Gmail wants one-click unsubscribe over https.
        if self.delivery.transport == TransportKind::Smtp
            && self.web.base_url.starts_with("http://")
            && !self.web.allow_http
        {
            return Err(ConfigError::new(
                "web.base_url",
                format!(
                    "{} is http://, but mail goes out over SMTP (delivery.transport = \"smtp\"): members' unsubscribe \
                     links need https:// (web.allow_http = true allows http for tests)",
                    redact_url(&self.web.base_url)
                ),
            ));
        }
        self.web.base_url = self.web.base_url.trim_end_matches('/').to_owned();
        let address_lists = [
            ("tosho_shimbun.editorial_desk", &self.tosho_shimbun.editorial_desk),
            ("audit.witnesses", &self.audit.witnesses),
        ];
        for (key, addresses) in address_lists {
            for (i, address) in addresses.iter().enumerate() {
                lettre::Address::from_str(address.trim())
                    .map_err(|e| ConfigError::new(format!("{key}[{i}]"), format!("{address:?}: {e}")))?;
            }
        }
        for (i, theme) in self.themes.iter().enumerate() {
            if !is_slug(&theme.slug) {
                return Err(ConfigError::new(
                    format!("themes[{i}].slug"),
                    format!("{:?} must be lowercase letters, digits and dashes", theme.slug),
                ));
            }
        }
        Ok(self)
    }

    /// The signing key for member links: the configured secret, else the key file if it exists. A key shorter
    /// than 32 bytes is refused (HMAC-SHA256 is only as strong as its key).
    pub fn signing_key(&self) -> Result<Option<Secret>, ConfigError> {
        let (key, name) = if !self.web.signing_key.is_empty() {
            (self.web.signing_key.clone(), "web.signing_key")
        } else if self.web.signing_key_file.is_empty() || !Path::new(&self.web.signing_key_file).exists() {
            return Ok(None);
        } else {
            (
                read_secret_file("web.signing_key_file", &self.web.signing_key_file)?,
                "web.signing_key_file",
            )
        };
        long_enough(name, &key)?;
        Ok(Some(key))
    }

    /// The previous signing key during a rotation, if one is set.
    pub fn previous_signing_key(&self) -> Result<Option<Secret>, ConfigError> {
        if self.web.previous_signing_key.is_empty() {
            return Ok(None);
        }
        long_enough("web.previous_signing_key", &self.web.previous_signing_key)?;
        Ok(Some(self.web.previous_signing_key.clone()))
    }
}

pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

const DAY: u64 = 86_400;

fn within<T>(key: &str, value: T, range: std::ops::RangeInclusive<u64>) -> Result<(), ConfigError>
where
    u64: From<T>,
{
    let value = u64::from(value);
    if range.contains(&value) {
        Ok(())
    } else if range.start() > range.end() {
        Err(ConfigError::new(
            key,
            format!("{value} is out of range (its bounds contradict each other)"),
        ))
    } else {
        Err(ConfigError::new(
            key,
            format!("{value} is out of range: expected {} to {}", range.start(), range.end()),
        ))
    }
}

/// The shortest key that signs member links, in bytes (HMAC-SHA256 is only as strong as its key).
pub const MIN_SIGNING_KEY_BYTES: usize = 32;

fn long_enough(key: &str, secret: &Secret) -> Result<(), ConfigError> {
    let bytes = secret.expose().len();
    if bytes < MIN_SIGNING_KEY_BYTES {
        return Err(ConfigError::new(
            key,
            format!(
                "the key is {bytes} bytes; at least {} are needed (`outreach init` makes one, or use \
                 `openssl rand -hex 32`)",
                MIN_SIGNING_KEY_BYTES
            ),
        ));
    }
    Ok(())
}

fn read_secret_file(key: &str, path: &str) -> Result<Secret, ConfigError> {
    std::fs::read_to_string(path)
        .map(|s| Secret::new(s.trim()))
        .map_err(|e| ConfigError::new(key, format!("cannot read {path}: {e}")))
}

/// Turns the config crate's error into key + reason, never echoing a secret's value.
fn config_error_from(error: &config::ConfigError) -> ConfigError {
    let text = error.to_string();
    // The crate words these as "<reason> for key `<key>`" (sometimes followed by " in <origin>").
    if let Some((reason, rest)) = text.split_once(" for key `") {
        let key = rest.split('`').next().unwrap_or_default();
        return ConfigError::new(key, plain(key, reason));
    }
    if let Some(field) = text.strip_prefix("unknown field `") {
        let name = field.split('`').next().unwrap_or_default();
        return ConfigError::new(name, text.clone());
    }
    if let Some(field) = text.strip_prefix("missing field `") {
        let name = field.split('`').next().unwrap_or_default();
        return ConfigError::new(name, "missing");
    }
    // A file that is not TOML: the parser's own report spans several lines around a caret; keep the words.
    let words: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with('|')
                && l.split_once(" |").is_none_or(|(n, _)| n.trim().parse::<u32>().is_err())
        })
        .collect();
    ConfigError::new("--config", words.join("; "))
}

/// serde's wording in plain words: the value given and what the key takes.
fn plain(key: &str, reason: &str) -> String {
    if let Some((_, value)) = reason.split_once("does not have variant constructor ") {
        let allowed = match key {
            "schedule.catch_up" => "latest or skip",
            "smtp.security" => "none, starttls or tls",
            "delivery.transport" => "file or smtp",
            _ => return reason.to_owned(),
        };
        return format!("{value:?} is not one of the values it takes: {allowed}");
    }
    if let Some(rest) = reason.strip_prefix("invalid type: ")
        && let Some((given, expected)) = rest.split_once(", expected ")
    {
        let expected = match expected {
            "an integer" | "u16" | "u32" | "u64" | "i64" => "a whole number",
            "a boolean" => "true or false",
            "f64" | "a float" => "a number",
            "a string" => "text",
            other => other,
        };
        let given = given.strip_prefix("string ").unwrap_or(given);
        return format!("{given} is not {expected}");
    }
    reason.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn embedded_defaults_load() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.database.url, "sqlite://outreach.db");
        let s = s.within(Path::new("/srv/outreach")).unwrap();
        assert_eq!(s.database.url, "sqlite:///srv/outreach/outreach.db");
        assert_eq!(s.delivery.outbox, Path::new("/srv/outreach/outbox"));
        assert_eq!(s.web.signing_key_file, "/srv/outreach/signing.key");
        assert_eq!(s.schedule.tz(), chrono_tz::Asia::Tokyo);
        assert_eq!(s.delivery.transport, TransportKind::File);
        assert_eq!(s.themes.len(), 7);
    }

    #[test]
    fn environment_overrides_file_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.toml");
        std::fs::write(&file, "[smtp]\nport = 2525\nhost = \"mail.example\"\n").unwrap();
        let s = Settings::load_from(
            Some(&file),
            env(&[
                ("OUTREACH_SMTP__PORT", "2626"),
                ("OUTREACH_DATABASE__URL", "postgres://127.0.0.1/x"),
                ("OUTREACH_TOSHO_SHIMBUN__EDITORIAL_DESK", "a@example.org,b@example.org"),
                ("OTHER_SMTP__PORT", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(s.smtp.port, 2626);
        assert_eq!(s.smtp.host, "mail.example");
        assert_eq!(s.database.url, "postgres://127.0.0.1/x");
        assert_eq!(s.tosho_shimbun.editorial_desk, vec!["a@example.org", "b@example.org"]);
    }

    #[test]
    fn invalid_values_name_the_key() {
        let cases = [
            ("OUTREACH_SMTP__PORT", "not-a-port", "smtp.port"),
            ("OUTREACH_SCHEDULE__TIME_ZONE", "Mars/Olympus", "schedule.time_zone"),
            ("OUTREACH_SCHEDULE__CATCH_UP", "sometimes", "schedule.catch_up"),
            ("OUTREACH_DATABASE__URL", "mysql://x", "database.url"),
            ("OUTREACH_DELIVERY__FROM", "not a mailbox", "delivery.from"),
            ("OUTREACH_SMTP__POOL_SIZE", "0", "smtp.pool_size"),
            ("OUTREACH_DELIVERY__LEASE_SECS", "30", "delivery.lease_secs"),
            (
                "OUTREACH_DELIVERY__LEASE_SECS",
                "18446744073709551615",
                "delivery.lease_secs",
            ),
            ("OUTREACH_DELIVERY__RETRY_BASE_SECS", "0", "delivery.retry_base_secs"),
            (
                "OUTREACH_DELIVERY__RETRY_MAX_SECS",
                "99999999999",
                "delivery.retry_max_secs",
            ),
            (
                "OUTREACH_SCHEDULE__MAX_LATENESS_SECS",
                "18446744073709551615",
                "schedule.max_lateness_secs",
            ),
            ("OUTREACH_SMTP__PORT", "0", "smtp.port"),
            ("OUTREACH_SMTP__TIMEOUT_SECS", "100000", "smtp.timeout_secs"),
            (
                "OUTREACH_DELIVERY__INSTANCE_TIMEOUT_SECS",
                "2",
                "delivery.instance_timeout_secs",
            ),
            (
                "OUTREACH_WEB__BASE_URL",
                "https://x.example/>\r\nBcc: a@b",
                "web.base_url",
            ),
            (
                "OUTREACH_WEB__SIGN_IN_PER_MINUTE_PER_ADDRESS",
                "0",
                "web.sign_in_per_minute_per_address",
            ),
            (
                "OUTREACH_WEB__SIGN_IN_PER_MINUTE_PER_CLIENT",
                "0",
                "web.sign_in_per_minute_per_client",
            ),
            (
                "OUTREACH_WEB__TRUSTED_PROXIES",
                "127.0.0.1,proxy.local",
                "web.trusted_proxies[1]",
            ),
            (
                "OUTREACH_WEB__HEADER_READ_TIMEOUT_SECS",
                "0",
                "web.header_read_timeout_secs",
            ),
            (
                "OUTREACH_WEB__HEADER_READ_TIMEOUT_SECS",
                "18446744073709551615",
                "web.header_read_timeout_secs",
            ),
            ("OUTREACH_WEB__IDLE_TIMEOUT_SECS", "0", "web.idle_timeout_secs"),
            ("OUTREACH_WEB__IDLE_TIMEOUT_SECS", "11", "web.idle_timeout_secs"),
            ("OUTREACH_WEB__MAX_CONNECTIONS", "0", "web.max_connections"),
            ("OUTREACH_WEB__MAX_CONNECTIONS", "4294967296", "web.max_connections"),
        ];
        for (var, value, key) in cases {
            let err = Settings::load_from(None, env(&[(var, value)])).unwrap_err();
            assert_eq!(err.key, key, "{var}={value}: {err}");
        }
    }

    #[test]
    fn smtp_needs_an_https_base_url_unless_http_is_allowed() {
        let smtp = ("OUTREACH_DELIVERY__TRANSPORT", "smtp");
        let err = Settings::load_from(None, env(&[smtp])).unwrap_err();
        assert_eq!(err.key, "web.base_url", "{err}");
        assert!(err.to_string().contains("https://"), "{err}");
        let https = ("OUTREACH_WEB__BASE_URL", "https://outreach.example.org/");
        let s = Settings::load_from(None, env(&[smtp, https])).unwrap();
        assert_eq!(s.web.base_url, "https://outreach.example.org");
        Settings::load_from(None, env(&[smtp, ("OUTREACH_WEB__ALLOW_HTTP", "true")])).unwrap();
        // Mail written to the outbox reaches no member: http is fine there.
        Settings::load_from(None, env(&[])).unwrap();
    }

    #[test]
    fn refusals_are_in_plain_words() {
        let message = |var: &str, value: &str| Settings::load_from(None, env(&[(var, value)])).unwrap_err().to_string();
        assert_eq!(
            message("OUTREACH_SCHEDULE__CATCH_UP", "sometimes"),
            "configuration: schedule.catch_up: \"sometimes\" is not one of the values it takes: latest or skip"
        );
        assert_eq!(
            message("OUTREACH_SMTP__SECURITY", "ssl"),
            "configuration: smtp.security: \"ssl\" is not one of the values it takes: none, starttls or tls"
        );
        assert_eq!(
            message("OUTREACH_SMTP__PORT", "seventy"),
            "configuration: smtp.port: \"seventy\" is not a whole number"
        );
        let bad = std::env::temp_dir().join(format!("outreach-config-{}.toml", std::process::id()));
        std::fs::write(&bad, "this is = = not toml").unwrap();
        let text = Settings::load_from(Some(&bad), env(&[])).unwrap_err().to_string();
        let _ = std::fs::remove_file(&bad);
        assert!(!text.contains("configuration: configuration"), "{text}");
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = Settings::load_from(None, env(&[("OUTREACH_SMTP__PASSWORD", "hunter2-very-secret")])).unwrap();
        assert_eq!(s.smtp.password.expose(), "hunter2-very-secret");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn password_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let s = Settings::load_from(None, env(&[("OUTREACH_SMTP__PASSWORD_FILE", file.to_str().unwrap())])).unwrap();
        assert_eq!(s.smtp.password.expose(), "s3cret");
        let err = Settings::load_from(None, env(&[("OUTREACH_SMTP__PASSWORD_FILE", "/nonexistent/pw")])).unwrap_err();
        assert_eq!(err.key, "smtp.password_file");
    }

    #[test]
    fn trusted_proxies_are_parsed_from_a_list() {
        let s = Settings::load_from(
            None,
            env(&[("OUTREACH_WEB__TRUSTED_PROXIES", "10.0.0.1, ::ffff:10.0.0.2,::1")]),
        )
        .unwrap();
        let parsed: Vec<String> = s.web.trusted_proxy_addresses.iter().map(ToString::to_string).collect();
        assert_eq!(parsed, ["10.0.0.1", "10.0.0.2", "::1"]);
        assert!(
            Settings::load_from(None, env(&[]))
                .unwrap()
                .web
                .trusted_proxy_addresses
                .is_empty()
        );
    }
}
