//! Output of the admin commands: shell `export` lines, tables, and JSON for scripts.

use serde::Serialize;
use trustline::provider::ProviderClient;
use trustline::Timestamp;

/// Quotes a value for POSIX shells: inside single quotes nothing is special, and a
/// single quote itself is written as `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `export NAME='value'` lines that `eval "$(trustline-cli client create ...)"` runs.
pub fn export_lines(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("export {name}={}\n", shell_quote(value)))
        .collect()
}

/// A client as printed by `--json`: the provider's fields with ISO-8601 UTC timestamps.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_seen_at: Option<String>,
    pub current_secret_created_at: String,
    pub current_secret_last_used_at: Option<String>,
    pub next_secret_created_at: Option<String>,
    pub next_secret_expires_at: Option<String>,
    pub next_secret_last_used_at: Option<String>,
    pub secret_last_rotated_at: Option<String>,
    pub active: bool,
    pub tokens_invalid_before: Option<String>,
    pub has_pending_secret_rotation: bool,
}

fn iso(at: Option<Timestamp>) -> Option<String> {
    at.map(Timestamp::to_iso)
}

impl From<&ProviderClient> for ClientView {
    fn from(client: &ProviderClient) -> Self {
        Self {
            id: client.id.clone(),
            client_id: client.client_id.clone(),
            name: client.name.clone(),
            scopes: client.scopes.clone(),
            created_at: client.created_at.to_iso(),
            updated_at: client.updated_at.to_iso(),
            last_seen_at: iso(client.last_seen_at),
            current_secret_created_at: client.current_secret_created_at.to_iso(),
            current_secret_last_used_at: iso(client.current_secret_last_used_at),
            next_secret_created_at: iso(client.next_secret_created_at),
            next_secret_expires_at: iso(client.next_secret_expires_at),
            next_secret_last_used_at: iso(client.next_secret_last_used_at),
            secret_last_rotated_at: iso(client.secret_last_rotated_at),
            active: client.active,
            tokens_invalid_before: iso(client.tokens_invalid_before),
            has_pending_secret_rotation: client.has_pending_secret_rotation,
        }
    }
}

/// Serializes a value as pretty JSON followed by a newline.
pub fn json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    text.push('\n');
    text
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".to_owned())
}

/// Formats rows as left-aligned columns separated by two spaces, with a header row.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            widths[index] = widths[index].max(cell.chars().count());
        }
    }

    let format_row = |cells: Vec<&str>| {
        let mut line = String::new();
        for (index, cell) in cells.iter().enumerate() {
            if index + 1 == cells.len() {
                line.push_str(cell);
            } else {
                let padding = widths[index] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(padding + 2));
            }
        }
        line.trim_end().to_owned() + "\n"
    };

    let mut text = format_row(header.to_vec());
    for row in rows {
        text.push_str(&format_row(row.iter().map(String::as_str).collect()));
    }
    text
}

/// Formats the `client list` table.
pub fn client_table(clients: &[ProviderClient]) -> String {
    let rows: Vec<Vec<String>> = clients
        .iter()
        .map(|client| {
            vec![
                client.client_id.clone(),
                client.name.clone(),
                if client.active { "yes" } else { "no" }.to_owned(),
                if client.scopes.is_empty() {
                    "-".to_owned()
                } else {
                    client.scopes.join(" ")
                },
                or_dash(iso(client.last_seen_at)),
                or_dash(iso(client.next_secret_expires_at)),
            ]
        })
        .collect();
    table(
        &[
            "CLIENT ID",
            "NAME",
            "ACTIVE",
            "SCOPES",
            "LAST SEEN",
            "PENDING SECRET UNTIL",
        ],
        &rows,
    )
}

/// Formats the `client get` listing: one `field: value` line per field.
pub fn client_details(client: &ProviderClient) -> String {
    let view = ClientView::from(client);
    let scopes = if view.scopes.is_empty() {
        "-".to_owned()
    } else {
        view.scopes.join(" ")
    };
    let rows = [
        ("client id", view.client_id),
        ("id", view.id),
        ("name", view.name),
        ("scopes", scopes),
        ("active", if view.active { "yes" } else { "no" }.to_owned()),
        ("created at", view.created_at),
        ("updated at", view.updated_at),
        ("last seen at", or_dash(view.last_seen_at)),
        ("secret created at", view.current_secret_created_at),
        (
            "secret last used at",
            or_dash(view.current_secret_last_used_at),
        ),
        (
            "secret last rotated at",
            or_dash(view.secret_last_rotated_at),
        ),
        (
            "pending secret created at",
            or_dash(view.next_secret_created_at),
        ),
        ("pending secret until", or_dash(view.next_secret_expires_at)),
        (
            "pending secret last used at",
            or_dash(view.next_secret_last_used_at),
        ),
        ("tokens invalid before", or_dash(view.tokens_invalid_before)),
    ];
    // One more than the longest label, for the colon after it.
    let width = rows.iter().map(|(label, _)| label.len() + 1).max().unwrap_or(0);
    rows.iter()
        .map(|(label, value)| format!("{:<width$}  {value}\n", format!("{label}:")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_escapes_single_quotes() {
        assert_eq!(shell_quote("abc"), "'abc'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(
            shell_quote("$(rm -rf /) `x` \"y\""),
            "'$(rm -rf /) `x` \"y\"'"
        );
    }

    #[test]
    fn export_lines_one_per_pair() {
        let text = export_lines(&[("A", "1"), ("B", "two words")]);
        assert_eq!(text, "export A='1'\nexport B='two words'\n");
    }

    #[test]
    fn table_aligns_columns() {
        let text = table(
            &["ID", "NAME"],
            &[
                vec!["a".into(), "x".into()],
                vec!["long-id".into(), "y".into()],
            ],
        );
        assert_eq!(text, "ID       NAME\na        x\nlong-id  y\n");
    }
}
