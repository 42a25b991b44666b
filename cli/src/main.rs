//! `trustline-cli`: admin commands and an HTTP token server over the Trustline core.

mod admin;
mod args;
mod config;
mod error;
mod output;
mod serve;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use serde_json::json;
use tracing_subscriber::EnvFilter;

use crate::args::{Cli, Command, GlobalArgs, LogFormat};
use crate::error::{CliError, CliResult};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // --help and --version print to stdout and exit 0; usage errors exit 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let is_serve = matches!(cli.command, Command::Serve(_));
    let json_errors = cli.global.json;
    if let Err(error) = init_logging(&cli.global, is_serve) {
        return report(&error, json_errors);
    }

    let runtime = if is_serve {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            return report(
                &CliError::failure(
                    "runtime_failed",
                    format!("starting the async runtime failed: {error}"),
                ),
                json_errors,
            )
        }
    };

    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(&error, json_errors),
    }
}

/// Prints a failure on standard error and returns its exit status.
fn report(error: &CliError, json_errors: bool) -> ExitCode {
    if json_errors {
        eprintln!(
            "{}",
            json!({ "error": error.code, "message": error.message })
        );
    } else {
        eprintln!("error: {}", error.message);
    }
    ExitCode::from(error.kind.exit_code())
}

/// Sends logs to standard error, as text or JSON lines.
fn init_logging(global: &GlobalArgs, is_serve: bool) -> CliResult<()> {
    let default = if is_serve { "info" } else { "warn" };
    let filter = EnvFilter::try_new(global.log.as_deref().unwrap_or(default)).map_err(|error| {
        CliError::usage(format!("invalid log filter {:?}: {error}", global.log))
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let result = match global.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    result.map_err(|error| {
        CliError::failure(
            "logging_failed",
            format!("setting up logging failed: {error}"),
        )
    })
}

async fn run(cli: Cli) -> CliResult<()> {
    let (file, directory) = config::load_file(cli.global.config.as_deref())?;
    let settings = config::resolve(&cli.global, &file, &directory)?;
    let format = admin::Format {
        json: cli.global.json,
    };

    if let Command::Serve(serve_args) = &cli.command {
        let serve_settings = config::resolve_serve(serve_args, &file)?;
        let storage = config::open_storage(&settings).await?;
        let provider = config::provider(&settings, &storage, Some(serve::event_hook()))?;
        let result = serve::run(
            provider,
            storage.storage.clone(),
            storage.description(),
            serve_settings,
        )
        .await;
        storage.close().await;
        tracing::info!("stopped");
        return result;
    }

    let storage = config::open_storage(&settings).await?;
    let provider = config::provider(&settings, &storage, None)?;
    let result = match cli.command {
        Command::Client(command) => admin::client(&provider, format, command).await,
        Command::Key(command) => admin::key(&provider, format, command).await,
        Command::Token(command) => admin::token(&provider, format, command).await,
        Command::Serve(_) => Ok(()),
    };
    drop(provider);
    storage.close().await;
    result
}
