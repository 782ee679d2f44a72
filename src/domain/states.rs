//! The states things are in, as enums with the one spelling the database, the command line and the JSON
//! exports use.

/// An enum of unit variants, each with its text: `as_str`, `parse`, `Display`, serde as that text, and
/// comparison with a `&str`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The state spelled `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|s| s.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

pub(crate) use text_enum;

text_enum! {
    /// Where a run stands.
    RunStatus {
        /// Its deliveries are being sent (or wait for a retry or a resume).
        Sending => "sending",
        /// Nothing of it is left to send.
        Done => "done",
    }
}

text_enum! {
    /// What started a run.
    Trigger {
        /// The schedule, on time.
        Schedule => "schedule",
        /// The schedule, late after a downtime, under the catch-up policy.
        CatchUp => "catch-up",
        /// `send-now`, outside the schedule.
        Manual => "manual",
    }
}

text_enum! {
    /// A member's global state.
    MemberStatus {
        Active => "active",
        /// Left everything.
        Unsubscribed => "unsubscribed",
        /// No mail at all (a refused mailbox, or staff).
        Suppressed => "suppressed",
    }
}

text_enum! {
    /// One change in a member's history (`member_events.event`).
    MemberEventKind {
        Created => "created",
        Updated => "updated",
        Subscribed => "subscribed",
        Unsubscribed => "unsubscribed",
        /// Back on a theme after leaving everything.
        Resubscribed => "resubscribed",
        Suppressed => "suppressed",
        Unsuppressed => "unsuppressed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_as_written() {
        for t in Trigger::ALL {
            assert_eq!(Trigger::parse(t.as_str()), Some(*t));
        }
        assert_eq!(Trigger::CatchUp.to_string(), "catch-up");
        assert_eq!(
            serde_json::to_string(&MemberStatus::Suppressed).unwrap(),
            "\"suppressed\""
        );
        assert!(RunStatus::Done == "done");
        assert_eq!(RunStatus::parse("lost"), None);
    }
}
