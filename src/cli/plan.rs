//! `outreach plan …`.

use std::io::Write;

use crate::Application;
use crate::domain::Actor;
use crate::domain::plan::PlanSaved;
use crate::error::AppError;

use super::args::{Format, PlanCommand};

pub(super) async fn plan(
    app: &Application,
    actor: &Actor,
    command: PlanCommand,
    out: &mut impl Write,
) -> Result<(), AppError> {
    match command {
        PlanCommand::Import {
            file,
            fiscal_year,
            replace,
        } => {
            let name = file.display().to_string();
            let bytes = std::fs::read(&file).map_err(|e| AppError::input(format!("{name}: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1;
                AppError::input(format!("{name}: line {line}: invalid UTF-8"))
            })?;
            let saved = app.import_plan(actor, &text, &name, fiscal_year, replace).await?;
            let what = match saved {
                PlanSaved::Created => "imported",
                PlanSaved::Unchanged => "unchanged (already imported from this file)",
                PlanSaved::Replaced => "replaced",
            };
            say!(out, "fiscal year {fiscal_year}: {what}");
        }
        PlanCommand::Show { fiscal_year, format } => {
            let plan = app.plan(fiscal_year).await?;
            match format {
                Format::Json => {
                    let json = serde_json::to_string_pretty(&plan).map_err(|e| AppError::Io(e.to_string()))?;
                    // JSON escapes control characters in its strings itself; its own line breaks stay.
                    writeln!(out, "{json}").map_err(super::output_error)?
                }
                Format::Table => {
                    say!(out, "{} (fiscal year {})", plan.title, plan.fiscal_year);
                    for theme in &plan.themes {
                        say!(out, "");
                        say!(out, "{}  {}", theme.slug, theme.title_ja);
                        for duty in &theme.duties {
                            let channels: Vec<&str> = duty.channels.iter().map(|c| c.slug()).collect();
                            let channels = if channels.is_empty() {
                                "no mail channel".to_owned()
                            } else {
                                channels.join(", ")
                            };
                            say!(out, "  - {}", duty.text);
                            say!(out, "      channels: {channels}");
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
