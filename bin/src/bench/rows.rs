//! How the real-network benchmarks print their rows beside a baseline.

use anyhow::Result;
use serde::Serialize;

/// Prints each overlay's row as a JSON line as soon as it is measured, after `ratio` gave
/// it its ratio to `baseline` (measured first for that reason), then the baseline's row;
/// without `json`, one table of them all at the end.
pub fn print_beside_baseline<T: Serialize>(
    json: bool,
    baseline: Option<T>,
    measured: impl IntoIterator<Item = Result<T>>,
    ratio: impl Fn(&mut T, &T),
    table: impl Fn(&[T]),
) -> Result<()> {
    let print = |row: &T| -> Result<()> {
        if json {
            println!("{}", serde_json::to_string(row)?);
        }
        Ok(())
    };
    let mut rows = Vec::new();
    for row in measured {
        let mut row = row?;
        if let Some(b) = &baseline {
            ratio(&mut row, b);
        }
        print(&row)?;
        rows.push(row);
    }
    if let Some(b) = baseline {
        print(&b)?;
        rows.push(b);
    }
    if !json {
        table(&rows);
    }
    Ok(())
}
