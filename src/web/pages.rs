//! The member pages, rendered from `templates/web` (embedded in the binary). Handlebars escapes every value,
//! so an address or a company name cannot inject markup.

use axum::response::{Html, IntoResponse, Response};
use handlebars::Handlebars;
use include_dir::{Dir, include_dir};
use serde_json::{Value, json};

use super::catalogue::{Lang, both};
use super::status::BAD_INPUT;
use crate::Application;
use crate::domain::MemberStatus;
use crate::domain::member::Member;
use crate::error::AppError;
use crate::mail::token::TokenError;

static PAGES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates/web");

pub(super) struct Pages(Handlebars<'static>);

impl Pages {
    pub(super) fn load() -> Result<Self, AppError> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_helper("t", Box::new(super::catalogue::Translate));
        hb.register_helper("num", Box::new(super::format::Number));
        // The folder's templates and its subfolders' (`staff/layout`); static/ holds the stylesheet and the
        // script, locales/ the message catalogues.
        let folders = PAGES.dirs().filter(|d| d.path() != std::path::Path::new("static"));
        let files = PAGES.files().chain(folders.flat_map(|d| d.files()));
        for file in files.filter(|f| f.path().extension().is_some_and(|e| e == "hbs")) {
            let name = file.path().with_extension("").display().to_string();
            let text = file
                .contents_utf8()
                .ok_or_else(|| AppError::Internal(format!("templates/web/{name}: not UTF-8")))?;
            hb.register_template_string(&name, text)
                .map_err(|e| AppError::Internal(format!("templates/web/{name}: {e}")))?;
        }
        Ok(Self(hb))
    }

    pub(super) fn render(&self, page: &str, context: &Value) -> String {
        self.0.render(page, context).unwrap_or_else(|e| {
            tracing::error!(error = %e, page, "web: a page did not render");
            "<!DOCTYPE html><title>outreach</title><p>Error / エラー</p>".to_owned()
        })
    }

    pub(super) fn base(app: &Application, lang: &str, title: &str) -> Value {
        json!({
            "lang": lang,
            "en": lang == "en",
            "title": title,
            "organization": app.settings.organization.name,
            "contact": app.settings.organization.email,
            "stylesheet": super::layers::STYLESHEET_URL.as_str(),
        })
    }

    /// The theme's title in the member's language (the slug if the plan no longer has it).
    async fn theme_title(app: &Application, slug: &str, en: bool) -> String {
        let plan = app.plan(None).await.ok();
        let theme = plan.as_ref().and_then(|p| p.theme(slug));
        match theme {
            Some(t) if en && !t.title_en.is_empty() => t.title_en.clone(),
            Some(t) => t.title_ja.clone(),
            None => slug.to_owned(),
        }
    }

    pub(super) async fn leave_confirm(&self, app: &Application, member: &Member, theme: &str) -> Response {
        let lang = lang_of(member);
        let en = lang == Lang::En;
        let mut context = Self::base(app, &member.locale, &lang.t("member-title-leave"));
        context["email"] = member.email.clone().into();
        context["theme"] = Self::theme_title(app, theme, en).await.into();
        Html(self.render("leave-confirm", &context)).into_response()
    }

    pub(super) async fn left(
        &self,
        app: &Application,
        member: &Member,
        theme: &str,
        already: bool,
        preferences: &str,
    ) -> Response {
        let lang = lang_of(member);
        let en = lang == Lang::En;
        let mut context = Self::base(app, &member.locale, &lang.t("member-title-left"));
        context["email"] = member.email.clone().into();
        context["theme"] = Self::theme_title(app, theme, en).await.into();
        context["already"] = already.into();
        context["preferences"] = preferences.into();
        Html(self.render("left", &context)).into_response()
    }

    /// The member's themes of the current plan with their state, and what was just changed.
    pub(super) async fn preferences(&self, app: &Application, member: &Member, done: Option<(Done, &str)>) -> Response {
        let lang = lang_of(member);
        let en = lang == Lang::En;
        let mut context = Self::base(app, &member.locale, &lang.t("member-title-preferences"));
        let plan = app.plan(None).await.ok();
        let left_all = member.status == MemberStatus::Unsubscribed;
        let themes: Vec<Value> = plan
            .iter()
            .flat_map(|p| &p.themes)
            .map(|t| {
                let title = if en && !t.title_en.is_empty() {
                    &t.title_en
                } else {
                    &t.title_ja
                };
                json!({
                    "slug": t.slug,
                    "title": title,
                    "subscribed": !left_all && member.themes.contains(&t.slug),
                })
            })
            .collect();
        let done_what = done;
        let done = match done {
            None => None,
            Some((what, slug)) => {
                let theme = Self::theme_title(app, slug, en).await;
                let key = match what {
                    Done::JoinRefused => "member-done-join-refused",
                    Done::Joined => "member-done-joined",
                    Done::Left => "member-done-left",
                    Done::LeftAll => "member-done-left-all",
                };
                Some(lang.t_with(key, &[("theme", &theme)]))
            }
        };
        // Undo offers the theme just left back, to a member who may still join it.
        let undo = match done_what {
            Some((Done::Left, slug)) if member.status == MemberStatus::Active => slug,
            _ => "",
        };
        context["undo"] = undo.into();
        context["email"] = member.email.clone().into();
        context["company"] = member.company.clone().into();
        context["name"] = member.contact_name.clone().into();
        context["themes"] = themes.into();
        context["done"] = done.unwrap_or_default().into();
        context["suppressed"] = (member.status == MemberStatus::Suppressed).into();
        Html(self.render("preferences", &context)).into_response()
    }

    pub(super) fn invalid_link(&self, app: &Application, why: TokenError) -> Response {
        if why == TokenError::Inert {
            let context = Self::base(app, "ja", &both("preview-link-title"));
            return Html(self.render("preview-link", &context)).into_response();
        }
        let mut context = Self::base(app, "ja", &both("invalid-link-title"));
        context["expired"] = (why == TokenError::Expired).into();
        (BAD_INPUT, Html(self.render("invalid-link", &context))).into_response()
    }

    pub(super) fn link_requested(&self, app: &Application, answer: LinkAnswer) -> String {
        let mut context = Self::base(app, "ja", &both("link-requested-title"));
        context["sent"] = (answer == LinkAnswer::Sent).into();
        context["too_many"] = (answer == LinkAnswer::TooMany).into();
        context["not_an_address"] = (answer == LinkAnswer::NotAnAddress).into();
        self.render("link-requested", &context)
    }

    pub(super) fn unavailable(&self, app: &Application) -> String {
        self.render("unavailable", &Self::base(app, "ja", &both("unavailable-title")))
    }
}

/// The language a member chose (Japanese unless English).
fn lang_of(member: &Member) -> Lang {
    Lang::from_code(&member.locale)
}

/// What the preferences page confirms.
#[derive(Debug, Clone, Copy)]
pub(super) enum Done {
    Joined,
    /// A join the member's suppression refused.
    JoinRefused,
    Left,
    LeftAll,
}

/// What the page says after a request for a fresh link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LinkAnswer {
    /// "If the address is registered, a link is on its way" — the same for known and unknown addresses.
    Sent,
    TooMany,
    NotAnAddress,
}
