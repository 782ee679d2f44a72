//! What members reach from a mail: the web server comes here. Until then only the signed links exist; they
//! are made with the mail (see [`crate::mail::token`]).

pub use crate::mail::token;
