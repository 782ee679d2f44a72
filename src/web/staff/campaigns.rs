//! (to be built)

use axum::Router;

use super::super::Web;

pub(super) fn routes() -> Router<Web> {
    Router::new()
}
