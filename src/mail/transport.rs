//! Where mails go: an SMTP server over a pool of connections we own, or .eml files in an outbox folder.
//!
//! We own the sockets so we can set TCP_NODELAY: lettre writes the body and the final dot separately, and
//! with Nagle on, every mail waits for a delayed ACK (measured: 36 mails/s on one connection instead of ~3,000).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::config::files::{create_private_folder, write_private_file};
use crate::config::{SmtpSecurity, SmtpSettings};

pub use super::reply::{Reply, Stage};

#[async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, envelope: &Envelope, message: &[u8], file_stem: &str) -> Reply;
    /// Closes connections idle past the limit (called now and then).
    async fn sweep(&self) {}
    /// Closes idle connections (shutdown).
    async fn close(&self) {}
}

/// Writes `<file_stem>.eml` into the outbox; the default until SMTP is configured.
#[derive(Debug)]
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        create_private_folder(&dir)?;
        Ok(Self { dir })
    }
}

#[async_trait]
impl Transport for FileTransport {
    async fn send(&self, _envelope: &Envelope, message: &[u8], file_stem: &str) -> Reply {
        let path = self.dir.join(format!("{file_stem}.eml"));
        let tmp = self.dir.join(format!(".{file_stem}.eml.tmp"));
        // Write then rename, so a crash never leaves half a mail in the outbox; 0600 from the start, for the mail
        // holds the member's working links.
        let (tmp_file, mail_file, message) = (tmp, path.clone(), message.to_vec());
        let written = tokio::task::spawn_blocking(move || {
            write_private_file(&tmp_file, &message)?;
            std::fs::rename(&tmp_file, &mail_file)
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match written {
            Ok(()) => Reply::Accepted {
                code: None,
                text: format!("written to {}", path.display()),
            },
            Err(e) => Reply::Transient {
                code: None,
                text: format!("cannot write {}: {e}", path.display()),
                stage: Stage::Connect,
            },
        }
    }
}

/// SMTP over up to `pool_size` connections, reused between mails.
pub struct SmtpTransport {
    settings: SmtpSettings,
    hello: ClientId,
    /// Connections waiting for the next mail, with when each was last used.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    slots: Semaphore,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("host", &self.settings.host)
            .field("port", &self.settings.port)
            .finish()
    }
}

impl SmtpTransport {
    pub fn new(settings: &SmtpSettings) -> Self {
        let hello = if settings.hello_name.is_empty() {
            ClientId::default()
        } else {
            ClientId::Domain(settings.hello_name.clone())
        };
        Self {
            settings: settings.clone(),
            hello,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(settings.pool_size as usize),
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.settings.timeout_secs)
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let s = &self.settings;
        let address = (s.host.as_str(), s.port);
        let mut conn = match s.security {
            SmtpSecurity::Tls => {
                let tls = TlsParameters::new(s.host.clone()).map_err(|e| e.to_string())?;
                AsyncSmtpConnection::connect_tokio1(address, Some(self.timeout()), &self.hello, Some(tls), None)
                    .await
                    .map_err(|e| e.to_string())?
            }
            SmtpSecurity::None | SmtpSecurity::Starttls => {
                let stream = TcpStream::connect(address).await.map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                    .await
                    .map_err(|e| e.to_string())?;
                if s.security == SmtpSecurity::Starttls {
                    let tls = TlsParameters::new(s.host.clone()).map_err(|e| e.to_string())?;
                    conn.starttls(tls, &self.hello).await.map_err(|e| e.to_string())?;
                }
                conn
            }
        };
        if !s.username.is_empty() {
            // Settings are checked at load (config::secrets); settings built another way must not leak it either.
            if s.security == SmtpSecurity::None && !s.allow_plaintext_auth {
                return Err("refusing to send the SMTP password in clear (smtp.security = \"none\")".into());
            }
            let credentials = Credentials::new(s.username.clone(), s.password.expose().to_owned());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(conn)
    }

    /// An idle connection fit to carry a mail: one idle past `idle_close_secs` is closed, one idle past
    /// `idle_check_secs` must answer NOOP first (servers close quiet connections without telling).
    async fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut conn, since) = self.idle.lock().ok().and_then(|mut idle| idle.pop())?;
            let idle = since.elapsed();
            if idle > Duration::from_secs(self.settings.idle_close_secs) {
                conn.abort().await;
                continue;
            }
            if idle <= Duration::from_secs(self.settings.idle_check_secs) {
                return Some(conn);
            }
            match tokio::time::timeout(self.timeout(), conn.test_connected()).await {
                Ok(true) => return Some(conn),
                _ => conn.abort().await,
            }
        }
    }

    fn put_idle(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push((conn, Instant::now()));
        }
    }

    fn drain_idle(&self, older_than: Duration) -> Vec<AsyncSmtpConnection> {
        let Ok(mut idle) = self.idle.lock() else {
            return Vec::new();
        };
        let (old, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut *idle)
            .into_iter()
            .partition(|(_, since)| since.elapsed() >= older_than);
        *idle = keep;
        old.into_iter().map(|(conn, _)| conn).collect()
    }
}

/// One mail over an open connection, the way lettre's `send` does it, but saying at which command the server
/// answered: a refusal at RCPT is about the mailbox, one at MAIL FROM about us.
async fn transact(
    conn: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    message: &[u8],
) -> Result<Response, (Stage, lettre::transport::smtp::Error)> {
    let mut options = Vec::new();
    let non_ascii = envelope.from().is_some_and(|a| !AsRef::<str>::as_ref(a).is_ascii())
        || envelope.to().iter().any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii && conn.server_info().supports_feature(Extension::SmtpUtfEight) {
        options.push(MailParameter::SmtpUtfEight);
    }
    if !message.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options))
        .await
        .map_err(|e| (Stage::MailFrom, e))?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), Vec::new()))
            .await
            .map_err(|e| (Stage::RcptTo, e))?;
    }
    conn.command(Data).await.map_err(|e| (Stage::Data, e))?;
    conn.message(message).await.map_err(|e| (Stage::Data, e))
}

#[async_trait]
impl Transport for SmtpTransport {
    async fn send(&self, envelope: &Envelope, message: &[u8], _file_stem: &str) -> Reply {
        let Ok(_slot) = self.slots.acquire().await else {
            return Reply::Transient {
                code: None,
                text: "transport closed".into(),
                stage: Stage::Connect,
            };
        };
        let mut reused = self.take_idle().await;
        loop {
            let was_reused = reused.is_some();
            let conn = match reused.take() {
                Some(conn) => Ok(conn),
                None => tokio::time::timeout(self.timeout(), self.connect())
                    .await
                    .unwrap_or_else(|_| Err("timed out connecting".into())),
            };
            let mut conn = match conn {
                Ok(conn) => conn,
                Err(text) => {
                    return Reply::Transient {
                        code: None,
                        text: format!("connection failed: {text}"),
                        stage: Stage::Connect,
                    };
                }
            };
            return match tokio::time::timeout(self.timeout(), transact(&mut conn, envelope, message)).await {
                Ok(Ok(response)) => {
                    let code = response.code().to_string().parse().ok();
                    let text = response.message().collect::<Vec<_>>().join(" ");
                    self.put_idle(conn);
                    Reply::Accepted { code, text }
                }
                Ok(Err((stage, e))) => {
                    // After a refusal the session is mid-transaction; a fresh connection is simpler than RSET.
                    conn.abort().await;
                    let code = e.status().and_then(|c| c.to_string().parse().ok());
                    // A reused connection the server closed meanwhile: nothing was handed over, try a new one.
                    if was_reused && stage == Stage::MailFrom && code.is_none() {
                        continue;
                    }
                    let text = e.to_string();
                    if e.is_permanent() {
                        Reply::Permanent { code, text, stage }
                    } else {
                        Reply::Transient { code, text, stage }
                    }
                }
                Err(_) => {
                    conn.abort().await;
                    Reply::Transient {
                        code: None,
                        text: "timed out waiting for the server".into(),
                        stage: Stage::Data,
                    }
                }
            };
        }
    }

    async fn sweep(&self) {
        for mut conn in self.drain_idle(Duration::from_secs(self.settings.idle_close_secs)) {
            let _ = tokio::time::timeout(self.timeout(), conn.quit()).await;
        }
    }

    async fn close(&self) {
        for mut conn in self.drain_idle(Duration::ZERO) {
            let _ = tokio::time::timeout(self.timeout(), conn.quit()).await;
        }
    }
}
