//! What the user sees: aligned tables and one-line results on stdout, coloured when stdout
//! is a terminal (and `NO_COLOR` is unset), plain when piped; `--json` prints the server's
//! JSON instead; errors go to stderr.

use serde_json::Value;
use std::io::{IsTerminal, Write};
use waygate_core::stored::is_unsafe_char;

/// A terminal colour (SGR code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Colour {
    /// Active, success.
    Green = 32,
    /// Maintenance, warnings.
    Yellow = 33,
    /// Disabled, errors.
    Red = 31,
    /// Env-gated.
    Blue = 34,
    /// Route keys.
    Cyan = 36,
    /// Limits.
    Magenta = 35,
    /// Deprecated, secondary text.
    Dim = 2,
    /// Headers.
    Bold = 1,
}

/// How to print.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    colour: bool,
    /// Print the server's JSON instead of tables and messages.
    pub(crate) json: bool,
}

impl Output {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    pub(crate) fn new(json: bool) -> Self {
        Self {
            colour: !json && colour_allowed() && std::io::stdout().is_terminal(),
            json,
        }
    }

    /// `text` in `colour`, when colouring; its control characters escaped (see
    /// [`escaped`]).
    pub(crate) fn paint(&self, colour: Colour, text: &str) -> String {
        let text = escaped(text);
        if self.colour && !text.is_empty() {
            format!("\x1b[{}m{text}\x1b[0m", colour as u8)
        } else {
            text
        }
    }

    /// `text` with its control characters escaped, for a line built by hand.
    pub(crate) fn escaped(&self, text: &str) -> String {
        escaped(text)
    }

    /// A route status in upper case, in its colour.
    pub(crate) fn status(&self, status: &str) -> String {
        self.paint(status_colour(status), &status.to_uppercase())
    }

    /// Prints a line to stdout.
    pub(crate) fn line(&self, text: impl AsRef<str>) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`waygate status | head -1`) is not an error worth a message.
        let _ = writeln!(out, "{}", text.as_ref());
    }

    /// Prints `value` as pretty JSON to stdout; the characters JSON may carry raw but a
    /// terminal must not get (C1 controls, bidirectional overrides) as `\uXXXX`.
    pub(crate) fn json(&self, value: &Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
        let mut safe = String::with_capacity(text.len());
        for c in text.chars() {
            if is_unsafe_char(c) && !c.is_ascii() {
                safe.push_str(&format!("\\u{:04x}", u32::from(c)));
            } else {
                safe.push(c);
            }
        }
        self.line(safe);
    }

    /// Prints `table` to stdout, its columns aligned, the header bold.
    pub(crate) fn table(&self, table: &Table) {
        let columns = table
            .rows
            .iter()
            .map(Vec::len)
            .chain([table.header.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0; columns];
        for (i, h) in table.header.iter().enumerate() {
            widths[i] = width(h);
        }
        for row in &table.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(width(&cell.text));
            }
        }
        let render = |cells: Vec<(String, usize)>| {
            let last = cells.len().saturating_sub(1);
            let mut line = String::new();
            for (i, (shown, plain)) in cells.into_iter().enumerate() {
                line.push_str(&shown);
                if i < last {
                    line.push_str(&" ".repeat(widths[i] - plain + 2));
                }
            }
            line
        };
        if !table.header.is_empty() {
            self.line(render(
                table
                    .header
                    .iter()
                    .map(|h| (self.paint(Colour::Bold, h), width(h)))
                    .collect(),
            ));
        }
        for row in &table.rows {
            self.line(render(
                row.iter()
                    .map(|cell| {
                        let shown = match cell.colour {
                            Some(colour) => self.paint(colour, &cell.text),
                            None => cell.text.clone(),
                        };
                        (shown, width(&cell.text))
                    })
                    .collect(),
            ));
        }
    }
}

/// `text` with every control character (ESC, NUL, a newline, ...) and every character that
/// reorders text (U+202E, ...) written as `\u{..}`: what a server sends is shown, never
/// obeyed by the terminal.
pub(crate) fn escaped(text: &str) -> String {
    if !text.chars().any(is_unsafe_char) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints an error and its hint to stderr, one line each.
pub(crate) fn error(message: &str, hint: Option<&str>) {
    let colour = colour_allowed() && std::io::stderr().is_terminal();
    let label = if colour {
        "\x1b[1;31merror:\x1b[0m"
    } else {
        "error:"
    };
    let mut err = std::io::stderr().lock();
    // A server's error message is shown, never obeyed.
    let _ = writeln!(err, "{label} {}", escaped(message));
    if let Some(hint) = hint {
        let _ = writeln!(err, "  hint: {}", escaped(hint));
    }
}

/// `NO_COLOR` (<https://no-color.org>) is unset or empty.
fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The colour of a route status, as the Python CLI colours it.
fn status_colour(status: &str) -> Colour {
    match status {
        "active" => Colour::Green,
        "maintenance" => Colour::Yellow,
        "disabled" => Colour::Red,
        "env_gated" => Colour::Blue,
        _ => Colour::Dim,
    }
}

/// The display width of `text`, counting characters (enough for the Latin, Greek, Cyrillic
/// and punctuation that route keys and reasons hold).
fn width(text: &str) -> usize {
    text.chars().count()
}

/// One cell: its text and an optional colour.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    text: String,
    colour: Option<Colour>,
}

impl Cell {
    /// A plain cell; empty text shows as `—`, control characters escaped (see
    /// [`escaped`]), so every row is one line and nothing a server sends can move the
    /// cursor or recolour the terminal.
    pub(crate) fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            text: if text.is_empty() {
                "—".to_owned()
            } else {
                escaped(&text)
            },
            colour: None,
        }
    }

    /// This cell in `colour`.
    pub(crate) fn colour(mut self, colour: Colour) -> Self {
        self.colour = Some(colour);
        self
    }

    /// A route status, upper case and coloured.
    pub(crate) fn status(status: &str) -> Self {
        Self::new(status.to_uppercase()).colour(status_colour(status))
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

/// A table: a header and rows of cells.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these column names (none: no header line).
    pub(crate) fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub(crate) fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }
}

/// The slice of `items` on `page` (from 1) of `per_page`, and the footer to print under it
/// when there is more than one page.
pub(crate) fn page<T>(items: &[T], page: usize, per_page: usize) -> (&[T], Option<String>) {
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    let end = start.saturating_add(per_page).min(items.len());
    let shown = &items[start..end];
    let has_next = items.len() > end;
    let footer = (page > 1 || has_next).then(|| {
        let mut parts = vec![if shown.is_empty() {
            format!("no entries on page {page}")
        } else {
            format!("showing {}–{end}", start + 1)
        }];
        if page > 1 {
            parts.push(format!("← --page {}", page - 1));
        }
        parts.push(if has_next {
            format!("--page {} →", page + 1)
        } else {
            "(last page)".to_owned()
        });
        parts.join("  •  ")
    });
    (shown, footer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escaped("plain é ✓"), "plain é ✓");
        assert_eq!(
            escaped("a\u{1b}[2Jb\nc\u{0}\u{202e}d"),
            "a\\u{1b}[2Jb\\u{a}c\\u{0}\\u{202e}d"
        );
        assert_eq!(Cell::new("x\ty").text, "x\\u{9}y");
        let output = Output::new(false);
        assert_eq!(output.paint(Colour::Red, "\u{1b}"), "\\u{1b}");
    }

    #[test]
    fn pages_and_footers() {
        let items: Vec<u32> = (1..=45).collect();
        let (shown, footer) = page(&items, 1, 20);
        assert_eq!(shown, &items[..20]);
        assert_eq!(footer.as_deref(), Some("showing 1–20  •  --page 2 →"));
        let (shown, footer) = page(&items, 3, 20);
        assert_eq!(shown, &items[40..]);
        assert_eq!(
            footer.as_deref(),
            Some("showing 41–45  •  ← --page 2  •  (last page)")
        );
        let (shown, footer) = page(&items, 1, 50);
        assert_eq!((shown.len(), footer), (45, None));
        let (shown, footer) = page(&items, 9, 20);
        assert!(shown.is_empty());
        assert!(footer.unwrap().starts_with("no entries on page 9"));
    }

    #[test]
    fn plain_output_has_no_escapes() {
        let out = Output {
            colour: false,
            json: false,
        };
        assert_eq!(out.status("maintenance"), "MAINTENANCE");
        let out = Output {
            colour: true,
            json: false,
        };
        assert_eq!(out.status("active"), "\x1b[32mACTIVE\x1b[0m");
    }
}
