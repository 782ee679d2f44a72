//! Mail: templates and their context, signed links, composing a message, and the transports that carry it.

pub mod context;
pub mod message;
pub mod reply;
mod templates;
pub mod token;
pub mod transport;

pub use templates::{RenderedMail, TemplateError, Templates};
