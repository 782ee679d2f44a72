//! What members reach from a mail: signed links for one-click unsubscribe and the preferences page.

pub mod token;
