//! Turning a rendered mail into the bytes that go on the wire.

use std::str::FromStr;

use lettre::Message;
use lettre::address::Envelope;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use crate::mail::RenderedMail;

/// A mail ready for a transport.
#[derive(Debug, Clone)]
pub struct Composed {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("invalid recipient address {0:?}: {1}")]
    Recipient(String, String),
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// The Message-ID of a delivery: derived from it and the installation alone, so every retry carries the same
/// one, a receiver (or an auditor) can tell a duplicate from a second mail, and two installations (each
/// numbering runs from 1) never issue the same one.
pub fn message_id(installation: &str, run_id: i64, delivery_id: i64, domain: &str) -> String {
    format!("<outreach.{run_id}.{delivery_id}.{installation}@{domain}>")
}

/// Builds the MIME message: text and HTML alternatives, UTF-8, RFC 2047 subject, our Message-ID, and for
/// newsletters `List-Unsubscribe` with RFC 8058 one-click.
pub fn compose(
    from: &Mailbox,
    to: &str,
    mail: &RenderedMail,
    message_id: &str,
    list_unsubscribe: Option<&str>,
) -> Result<Composed, ComposeError> {
    let to = Mailbox::from_str(to.trim()).map_err(|e| ComposeError::Recipient(to.to_owned(), e.to_string()))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(message_id.to_owned()));
    if let Some(url) = list_unsubscribe {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(Composed {
        envelope: message.envelope().clone(),
        bytes: message.formatted(),
    })
}

/// A mail with a file attached (the witnesses' checkpoint): the text and HTML alternatives, then the file as
/// `text/plain; charset=utf-8`, its bytes unchanged once decoded.
pub fn compose_with_file(
    from: &Mailbox,
    to: &str,
    mail: &RenderedMail,
    message_id: &str,
    file_name: &str,
    file: &str,
) -> Result<Composed, ComposeError> {
    use lettre::message::header::ContentType;
    use lettre::message::{Attachment, SinglePart};
    let to = Mailbox::from_str(to.trim()).map_err(|e| ComposeError::Recipient(to.to_owned(), e.to_string()))?;
    let content_type =
        ContentType::parse("text/plain; charset=utf-8").map_err(|e| ComposeError::Build(e.to_string()))?;
    // As bytes, not a String: lettre leaves the line ends of bytes alone (a String's become CRLF), and a signed
    // note's bytes are what its signature covers.
    let attached: SinglePart = Attachment::new(file_name.to_owned()).body(file.as_bytes().to_vec(), content_type);
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(message_id.to_owned()))
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
                .singlepart(attached),
        )
        .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(Composed {
        envelope: message.envelope().clone(),
        bytes: message.formatted(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_parts() {
        let mail = RenderedMail {
            subject: "【東商メールマガジン】テレワークの推進".into(),
            text: "本文です".into(),
            html: "<p>本文です</p>".into(),
        };
        let from = Mailbox::from_str("東京商工会議所 <outreach@example.org>").unwrap();
        let id = message_id("k3x9", 3, 17, "example.org");
        let c = compose(&from, "member@example.co.jp", &mail, &id, Some("https://x.example/u/t")).unwrap();
        let text = String::from_utf8(c.bytes).unwrap();
        assert!(text.contains("Message-ID: <outreach.3.17.k3x9@example.org>"), "{text}");
        assert!(text.contains("List-Unsubscribe: <https://x.example/u/t>"));
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        // The Japanese subject is RFC 2047 encoded, never raw UTF-8 in the header.
        let subject = text.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject.contains("=?utf-8?"), "{subject}");
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/plain") && text.contains("text/html"));
        assert_eq!(c.envelope.to()[0].to_string(), "member@example.co.jp");
        assert!(compose(&from, "not an address", &mail, &id, None).is_err());
    }
}
