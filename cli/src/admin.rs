//! The admin commands: each one calls the matching provider method and prints its result.
//!
//! Results go to standard output. Confirmations of changes go to standard error, so
//! that standard output holds only what a script reads. Nothing here writes a secret
//! anywhere but standard output.

use std::io::Write;

use serde_json::json;
use trustline::provider::{Provider, RotateKeyInput, RotateSecretInput};
use trustline::Timestamp;

use crate::args::{ClientCommand, KeyCommand, TokenCommand};
use crate::config;
use crate::error::{CliError, CliResult};
use crate::output::{self, ClientView};

/// The output format of results.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    /// JSON on standard output instead of text.
    pub json: bool,
}

fn print(text: &str) -> CliResult<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|error| {
            CliError::failure(
                "output_failed",
                format!("writing to standard output failed: {error}"),
            )
        })
}

fn confirm(message: &str) {
    eprintln!("{message}");
}

/// Parses a time argument: RFC 3339 (`2026-01-31T12:00:00Z`) or Unix seconds.
pub fn parse_time(value: &str, option: &str) -> CliResult<Timestamp> {
    let trimmed = value.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
        let seconds: i64 = trimmed.parse().map_err(|_| {
            CliError::usage(format!(
                "invalid {option} {value:?}: the number is too large"
            ))
        })?;
        return Ok(Timestamp::from_seconds(seconds));
    }
    Timestamp::parse_iso(trimmed).map_err(|_| {
        CliError::usage(format!(
            "invalid {option} {value:?}: use RFC 3339 such as 2026-01-31T12:00:00Z, or Unix seconds"
        ))
    })
}

/// Loads a client for printing after a change.
async fn reload(provider: &Provider, client_id: &str) -> CliResult<ClientView> {
    let client = provider.get_client(client_id).await?.ok_or_else(|| {
        CliError::not_found(format!(
            "unknown client id {client_id:?}: it was deleted meanwhile"
        ))
    })?;
    Ok(ClientView::from(&client))
}

/// Prints the client after a change with `--json`, or a confirmation on standard error.
async fn changed(
    provider: &Provider,
    format: Format,
    client_id: &str,
    message: String,
) -> CliResult<()> {
    if format.json {
        print(&output::json(&reload(provider, client_id).await?))
    } else {
        confirm(&message);
        Ok(())
    }
}

/// Runs one `client` command.
pub async fn client(provider: &Provider, format: Format, command: ClientCommand) -> CliResult<()> {
    match command {
        ClientCommand::Create { name, scopes } => {
            let created = provider.create_client(&name, &scopes).await?;
            let secret = created.client_secret.expose();
            if format.json {
                print(&output::json(
                    &json!({ "clientId": created.client_id, "clientSecret": secret }),
                ))
            } else {
                print(&output::export_lines(&[
                    ("TRUSTLINE_CLIENT_ID", &created.client_id),
                    ("TRUSTLINE_CLIENT_SECRET", secret),
                ]))
            }
        }

        ClientCommand::List => {
            let clients = provider.list_clients().await?;
            if format.json {
                let views: Vec<ClientView> = clients.iter().map(ClientView::from).collect();
                print(&output::json(&views))
            } else {
                print(&output::client_table(&clients))
            }
        }

        ClientCommand::Get { client_id } => {
            let client = provider.get_client(&client_id).await?.ok_or_else(|| {
                CliError::not_found(format!(
                    "unknown client id {client_id:?}: check the id, or run `trustline-cli client list`"
                ))
            })?;
            if format.json {
                print(&output::json(&ClientView::from(&client)))
            } else {
                print(&output::client_details(&client))
            }
        }

        ClientCommand::Rename { client_id, name } => {
            provider.rename_client(&client_id, &name).await?;
            changed(
                provider,
                format,
                &client_id,
                format!("renamed client {client_id}"),
            )
            .await
        }

        ClientCommand::SetScopes {
            client_id,
            scopes,
            none,
        } => {
            let scopes = if none { Vec::new() } else { scopes };
            provider.update_scopes(&client_id, &scopes).await?;
            changed(
                provider,
                format,
                &client_id,
                format!("set the scopes of client {client_id}"),
            )
            .await
        }

        ClientCommand::RotateSecret {
            client_id,
            overlap_seconds,
            expires_at,
        } => {
            let input = RotateSecretInput {
                expires_at: expires_at
                    .as_deref()
                    .map(|at| parse_time(at, "--expires-at"))
                    .transpose()?,
                overlap_seconds,
            };
            let rotated = provider.rotate_secret(&client_id, input).await?;
            let secret = rotated.client_secret.expose();
            let expires_at = rotated.expires_at.map(Timestamp::to_iso);
            if format.json {
                return print(&output::json(&json!({
                    "clientId": rotated.client_id,
                    "clientSecret": secret,
                    "expiresAt": expires_at,
                })));
            }
            print(&output::export_lines(&[
                ("TRUSTLINE_CLIENT_ID", &rotated.client_id),
                ("TRUSTLINE_CLIENT_SECRET", secret),
            ]))?;
            match expires_at {
                Some(at) => confirm(&format!(
                    "rotated the secret of client {client_id}: the previous secret keeps working until {at}"
                )),
                None => confirm(&format!(
                    "rotated the secret of client {client_id}: the previous secret stopped working"
                )),
            }
            Ok(())
        }

        ClientCommand::Revoke { client_id } => {
            provider.revoke_client(&client_id).await?;
            if format.json {
                print(&output::json(
                    &json!({ "clientId": client_id, "revoked": true }),
                ))
            } else {
                confirm(&format!("revoked (deleted) client {client_id}"));
                Ok(())
            }
        }

        ClientCommand::Disable { client_id } => {
            provider.disable_client(&client_id).await?;
            changed(
                provider,
                format,
                &client_id,
                format!("disabled client {client_id}"),
            )
            .await
        }

        ClientCommand::Enable { client_id } => {
            provider.enable_client(&client_id).await?;
            changed(
                provider,
                format,
                &client_id,
                format!("enabled client {client_id}"),
            )
            .await
        }

        ClientCommand::InvalidateTokensBefore { client_id, at } => {
            let at = match at {
                Some(at) => parse_time(&at, "--at")?,
                None => Timestamp::now(),
            };
            provider
                .invalidate_tokens_before(&client_id, Some(at))
                .await?;
            let message = format!("client {client_id}: tokens issued before {at} are rejected");
            changed(provider, format, &client_id, message).await
        }

        ClientCommand::ClearTokensInvalidBefore { client_id } => {
            provider.clear_tokens_invalid_before(&client_id).await?;
            changed(
                provider,
                format,
                &client_id,
                format!("cleared the token cutoff of client {client_id}"),
            )
            .await
        }
    }
}

/// Runs one `key` command.
pub async fn key(provider: &Provider, format: Format, command: KeyCommand) -> CliResult<()> {
    match command {
        KeyCommand::Rotate {
            activate_at,
            algorithm,
            key_id,
            overlap_seconds,
            private_key_file,
        } => {
            let input = RotateKeyInput {
                activate_at: activate_at
                    .as_deref()
                    .map(|at| parse_time(at, "--activate-at"))
                    .transpose()?,
                algorithm: algorithm.map(config::algorithm),
                key_id,
                overlap_seconds,
                private_key: private_key_file
                    .as_deref()
                    .map(config::read_pem)
                    .transpose()?,
            };
            let key_id = provider.rotate_key(input).await?;
            if format.json {
                print(&output::json(&json!({ "keyId": key_id })))
            } else {
                print(&format!("{key_id}\n"))
            }
        }
    }
}

/// Runs one `token` command.
pub async fn token(provider: &Provider, format: Format, command: TokenCommand) -> CliResult<()> {
    match command {
        TokenCommand::Revoke { jti, expires_at } => {
            let expires_at = parse_time(&expires_at, "--expires-at")?;
            provider.revoke_token(&jti, expires_at).await?;
            if format.json {
                print(&output::json(
                    &json!({ "jti": jti, "expiresAt": expires_at.to_iso() }),
                ))
            } else {
                confirm(&format!("revoked token {jti} until {expires_at}"));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_time_accepts_rfc3339_and_seconds() {
        let from_text = parse_time("2026-01-31T12:00:00Z", "--at").expect("RFC 3339");
        let from_seconds = parse_time("1769860800", "--at").expect("seconds");
        assert_eq!(from_text, from_seconds);
    }

    #[test]
    fn parse_time_rejects_words() {
        let error = parse_time("tomorrow", "--at").expect_err("invalid");
        assert!(error.message.contains("--at"));
        assert!(error.message.contains("\"tomorrow\""));
    }
}
