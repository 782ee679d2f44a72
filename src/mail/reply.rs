//! What a server said about one mail, and what it is about: the recipient's mailbox, this message, or the
//! sending itself (relay, sender, policy, connection). Only the first may touch a member.

/// Where in the SMTP dialogue the answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Connecting, greeting, EHLO, STARTTLS, AUTH.
    Connect,
    MailFrom,
    RcptTo,
    /// The DATA command or the end of the message.
    Data,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Accepted {
        code: Option<u16>,
        text: String,
    },
    /// 4xx, a lost connection or a timeout: try again later.
    Transient {
        code: Option<u16>,
        text: String,
        stage: Stage,
    },
    /// 5xx: this attempt will not go through as it is.
    Permanent {
        code: Option<u16>,
        text: String,
        stage: Stage,
    },
}

/// What a permanent refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The recipient's mailbox does not exist or may not receive: fail the delivery, suppress the member.
    Mailbox,
    /// This message only (content, size): fail the delivery, nobody is suppressed.
    Message,
    /// The sending is refused (sender, relay, policy, protocol): no member is at fault. The run pauses with
    /// the reply as the reason and its deliveries wait in the queue.
    Transport,
}

impl Reply {
    pub fn code(&self) -> Option<u16> {
        match self {
            Reply::Accepted { code, .. } | Reply::Transient { code, .. } | Reply::Permanent { code, .. } => *code,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Reply::Accepted { text, .. } | Reply::Transient { text, .. } | Reply::Permanent { text, .. } => text,
        }
    }

    /// A transient failure before any mail was handed over: the server could not be reached or greeted.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Reply::Transient {
                stage: Stage::Connect,
                ..
            }
        )
    }

    /// What a permanent refusal is about; `None` for other replies. Only a refusal at RCPT whose enhanced
    /// status is 5.1.x (RFC 3463: addressing), or 550/551/553 with no enhanced status, is about the mailbox.
    pub fn refusal(&self) -> Option<Refusal> {
        let Reply::Permanent { code, text, stage } = self else {
            return None;
        };
        Some(match (stage, enhanced_status(text)) {
            (Stage::Connect | Stage::MailFrom, _) => Refusal::Transport,
            (Stage::RcptTo, Some((5, 1))) => Refusal::Mailbox,
            (Stage::RcptTo, Some((_, 3 | 4 | 5 | 7))) => Refusal::Transport,
            (Stage::RcptTo, Some(_)) => Refusal::Message,
            (Stage::RcptTo, None) if matches!(code, Some(550 | 551 | 553)) => Refusal::Mailbox,
            (Stage::RcptTo, None) => Refusal::Transport,
            (Stage::Data, Some((_, 7))) if matches!(code, Some(550..=554)) && looks_like_policy(text) => {
                Refusal::Transport
            }
            (Stage::Data, _) => Refusal::Message,
        })
    }
}

/// Relay and authentication refusals at the end of DATA are about the sender, whatever the code says.
fn looks_like_policy(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    ["relay", "authentication", "not authorized", "sender"]
        .iter()
        .any(|w| t.contains(w))
}

/// The class and subject of an RFC 3463 enhanced status code (`5.1.1` → (5, 1)) at the start of the reply
/// text, after any basic code or words lettre puts first.
pub fn enhanced_status(text: &str) -> Option<(u8, u16)> {
    text.split(|c: char| c.is_whitespace() || c == ':' || c == '(' || c == ')')
        .find_map(|word| {
            let mut parts = word.split('.');
            let class: u8 = parts.next()?.parse().ok()?;
            let subject: u16 = parts.next()?.parse().ok()?;
            let detail = parts.next()?;
            let valid = matches!(class, 2 | 4 | 5)
                && subject < 1000
                && !detail.is_empty()
                && detail.len() <= 3
                && detail.bytes().all(|b| b.is_ascii_digit())
                && parts.next().is_none();
            valid.then_some((class, subject))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: u16, text: &str, stage: Stage) -> Option<Refusal> {
        Reply::Permanent {
            code: Some(code),
            text: text.into(),
            stage,
        }
        .refusal()
    }

    #[test]
    fn only_a_mailbox_refusal_at_rcpt_is_about_the_member() {
        use Refusal::*;
        use Stage::*;
        assert_eq!(
            refused(550, "permanent error (550): 5.1.1 No such user", RcptTo),
            Some(Mailbox)
        );
        assert_eq!(refused(550, "No such user here", RcptTo), Some(Mailbox));
        assert_eq!(refused(553, "mailbox name not allowed", RcptTo), Some(Mailbox));
        assert_eq!(
            refused(550, "permanent error (550): 5.7.1 Relaying denied", RcptTo),
            Some(Transport)
        );
        assert_eq!(refused(554, "Relay access denied", RcptTo), Some(Transport));
        assert_eq!(refused(553, "5.7.1 Sender address rejected", MailFrom), Some(Transport));
        assert_eq!(refused(550, "5.1.1 No such user", MailFrom), Some(Transport));
        assert_eq!(refused(554, "5.7.1 Message refused", Data), Some(Message));
        assert_eq!(refused(554, "5.7.1 Relaying denied", Data), Some(Transport));
        assert_eq!(refused(552, "5.3.4 Message too big", Data), Some(Message));
        assert_eq!(refused(552, "5.2.2 Mailbox full", RcptTo), Some(Message));
        assert_eq!(refused(554, "no SMTP service here", Connect), Some(Transport));
        let later = Reply::Transient {
            code: Some(451),
            text: "4.3.0 later".into(),
            stage: RcptTo,
        };
        assert_eq!(later.refusal(), None);
    }

    #[test]
    fn enhanced_status_is_found_where_servers_put_it() {
        assert_eq!(
            enhanced_status("permanent error (550): 5.1.1 No such user"),
            Some((5, 1))
        );
        assert_eq!(enhanced_status("5.7.1 Relaying denied"), Some((5, 7)));
        assert_eq!(enhanced_status("Relaying denied"), None);
        assert_eq!(enhanced_status("version 1.2.3.4 here"), None);
        assert_eq!(enhanced_status("550 1.2.3"), None);
    }
}
