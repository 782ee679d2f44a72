//! `outreach user …` and `outreach token …`: accounts for the web pages and API tokens.

use std::io::{BufRead, IsTerminal, Write};

use clap::Subcommand;

use crate::Application;
use crate::domain::Actor;
use crate::domain::account::Role;
use crate::domain::campaign::schedule::format_local;
use crate::error::AppError;

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
    /// Create an account; the password is asked for (or read from standard input with --password-stdin).
    Add {
        /// admin (accounts and tokens too), staff (campaigns, members) or auditor (reads only).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The person's e-mail address; they sign in with it.
        email: String,
        /// Read the password from the first line of standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Every account with its role and state.
    List,
    /// Stop an account from signing in; its sessions end at once.
    Disable {
        /// The account's address.
        email: String,
    },
    /// Let a disabled account sign in again.
    Enable {
        /// The account's address.
        email: String,
    },
    /// Give an account another role; its sessions end, so the new role applies at the next sign-in.
    SetRole {
        /// The account's address.
        email: String,
        /// admin, staff or auditor.
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Set a new password; the account's sessions end.
    ResetPassword {
        /// The account's address.
        email: String,
        /// Read the password from the first line of standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum TokenCommand {
    /// Create an API token acting with a user's role; it is printed once and only its hash is kept.
    Create {
        /// The account the token acts for.
        #[arg(long)]
        user: String,
        /// Days until it stops working (1 to 3650; default: until revoked).
        #[arg(long, value_name = "DAYS")]
        expires: Option<u32>,
        /// What the token is for, shown in `token list`.
        #[arg(long, default_value = "api")]
        name: String,
    },
    /// Every token with its owner, expiry and last use (never the secret).
    List,
    /// Stop a token from working.
    Revoke {
        /// The token's number from `token list`.
        id: i64,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("{text:?} is not a role: admin, staff or auditor"))
}

/// The new password: the first line of standard input, or typed twice at a prompt without echo.
fn read_password(from_stdin: bool) -> Result<String, AppError> {
    let io = |e: std::io::Error| AppError::Io(format!("reading the password: {e}"));
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(io)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        return Err(AppError::input(
            "no terminal to ask for the password on: give it on standard input with --password-stdin",
        ));
    }
    let first = rpassword::prompt_password("Password: ").map_err(io)?;
    let again = rpassword::prompt_password("Again: ").map_err(io)?;
    if first != again {
        return Err(AppError::input("the two passwords differ; nothing changed"));
    }
    Ok(first)
}

pub(super) async fn user(
    app: &Application,
    actor: &Actor,
    command: UserCommand,
    out: &mut impl Write,
) -> Result<(), AppError> {
    let tz = app.settings.schedule.tz();
    match command {
        UserCommand::Add {
            role,
            email,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let user = app.add_user(actor, &email, role, &password).await?;
            say!(out, "{}: {} account created", user.email, user.role);
        }
        UserCommand::List => {
            for u in app.users().await? {
                let state = if u.active { "active" } else { "disabled" };
                say!(
                    out,
                    "{}\t{}\t{state}\t{}",
                    u.email,
                    u.role,
                    format_local(u.created_at, tz)
                );
            }
        }
        UserCommand::Disable { email } => {
            if app.set_user_active(actor, &email, false).await? {
                say!(out, "{email}: disabled; its sessions ended");
            } else {
                say!(out, "{email}: already disabled; nothing changed");
            }
        }
        UserCommand::Enable { email } => {
            if app.set_user_active(actor, &email, true).await? {
                say!(out, "{email}: enabled");
            } else {
                say!(out, "{email}: already enabled; nothing changed");
            }
        }
        UserCommand::SetRole { email, role } => {
            if app.set_user_role(actor, &email, role).await? {
                say!(out, "{email}: now {role}; its sessions ended");
            } else {
                say!(out, "{email}: already {role}; nothing changed");
            }
        }
        UserCommand::ResetPassword { email, password_stdin } => {
            let password = read_password(password_stdin)?;
            app.reset_password(actor, &email, &password).await?;
            say!(out, "{email}: password set; its sessions ended");
        }
    }
    Ok(())
}

pub(super) async fn token(
    app: &Application,
    actor: &Actor,
    command: TokenCommand,
    out: &mut impl Write,
) -> Result<(), AppError> {
    let tz = app.settings.schedule.tz();
    match command {
        TokenCommand::Create { user, expires, name } => {
            let (id, secret) = app.create_token(actor, &user, &name, expires).await?;
            say!(out, "{secret}");
            eprintln!("token {id} for {user}: shown once, keep it now (send it as `Authorization: Bearer …`)");
        }
        TokenCommand::List => {
            let time = |ms: Option<i64>| ms.map_or_else(|| "-".to_owned(), |ms| format_local(ms, tz));
            for t in app.api_tokens().await? {
                let state = if t.revoked_at.is_some() { "revoked" } else { "live" };
                say!(
                    out,
                    "{}\t{}\t{}\t{state}\texpires {}\tlast used {}",
                    t.id,
                    t.user_email,
                    t.name,
                    time(t.expires_at),
                    time(t.last_used_at)
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if app.revoke_token(actor, id).await? {
                say!(out, "token {id}: revoked");
            } else {
                say!(out, "token {id}: already revoked; nothing changed");
            }
        }
    }
    Ok(())
}
