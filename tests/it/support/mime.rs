//! Reading a captured mail as its reader sees it: the decoded subject, text part and HTML part.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A mail decoded: what a member's mail program shows.
#[derive(Debug, Clone)]
pub struct Read {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The raw header section, unfolded.
    pub headers: String,
}

impl Read {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
    }

    /// The text between `<title>` and `</title>` in the HTML part.
    pub fn html_title(&self) -> &str {
        between(&self.html, "<title>", "</title>")
    }
}

pub fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let from = s.find(start).map_or(0, |i| i + start.len());
    let rest = &s[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Decodes a multipart/alternative mail as lettre writes it.
pub fn read(data: &[u8]) -> Read {
    let raw = String::from_utf8_lossy(data).replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").expect("a header section");
    let headers = unfold(head);
    let subject = headers
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .map(decode_words)
        .unwrap_or_default();
    let content_type = headers
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .expect("Content-Type");
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .expect("a boundary")
        .trim_matches('"');
    let (mut text, mut html) = (String::new(), String::new());
    for part in body.split(&format!("--{boundary}")) {
        let Some((part_head, content)) = part.trim_start_matches('\n').split_once("\n\n") else {
            continue;
        };
        let part_head = unfold(part_head);
        let encoding = part_head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Transfer-Encoding: "))
            .unwrap_or("7bit")
            .trim()
            .to_ascii_lowercase();
        let decoded = match encoding.as_str() {
            "base64" => {
                let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
                String::from_utf8(STANDARD.decode(compact).expect("base64")).expect("UTF-8")
            }
            "quoted-printable" => String::from_utf8(
                quoted_printable::decode(content.replace('\n', "\r\n"), quoted_printable::ParseMode::Robust)
                    .expect("quoted-printable"),
            )
            .expect("UTF-8"),
            _ => content.to_owned(),
        };
        // Lines end in CRLF on the wire, inside any encoding; the templates' lines end in LF.
        let decoded = decoded.replace("\r\n", "\n");
        if part_head.contains("text/plain") {
            text = decoded;
        } else if part_head.contains("text/html") {
            html = decoded;
        }
    }
    Read {
        subject,
        text,
        html,
        headers,
    }
}

/// The decoded bytes of the attachment named `name` (base64 or quoted-printable, line ends as sent).
pub fn attachment(data: &[u8], name: &str) -> Option<Vec<u8>> {
    let raw = String::from_utf8_lossy(data).into_owned();
    let at = raw.find(&format!("filename=\"{name}\""))?;
    let part_start = raw[..at].rfind("\r\n--")?;
    let (head, rest) = raw[part_start..].split_once("\r\n\r\n")?;
    let content = &rest[..rest.find("\r\n--")?];
    if head.to_ascii_lowercase().contains("content-transfer-encoding: base64") {
        let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
        STANDARD.decode(compact).ok()
    } else if head.to_ascii_lowercase().contains("quoted-printable") {
        quoted_printable::decode(content, quoted_printable::ParseMode::Robust).ok()
    } else {
        Some(content.as_bytes().to_vec())
    }
}

fn unfold(head: &str) -> String {
    let mut out = String::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            out.push(' ');
            out.push_str(line.trim_start());
        } else {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(line);
        }
    }
    out
}

/// RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); the space between two of them is not text.
fn decode_words(value: &str) -> String {
    let mut bytes = Vec::new();
    let mut last_was_word = false;
    for (i, token) in value.split(' ').enumerate() {
        let word = token
            .strip_prefix("=?")
            .and_then(|t| t.strip_suffix("?="))
            .and_then(|t| {
                let mut it = t.splitn(3, '?');
                Some((it.next()?, it.next()?, it.next()?))
            });
        match word {
            Some((_, kind, data)) => {
                if kind.eq_ignore_ascii_case("b") {
                    bytes.extend(STANDARD.decode(data).expect("base64 word"));
                } else {
                    let q = data.replace('_', " ");
                    bytes.extend(quoted_printable::decode(q, quoted_printable::ParseMode::Robust).expect("q word"));
                }
                last_was_word = true;
            }
            None => {
                if i > 0 && !(last_was_word && token.is_empty()) {
                    bytes.push(b' ');
                }
                bytes.extend(token.as_bytes());
                last_was_word = false;
            }
        }
    }
    String::from_utf8(bytes).expect("UTF-8 subject")
}
