//! Pictures of `p2p bench coordination`: messages per critical-section entry and per
//! election against N with the textbook's counts, and clock error against its bound.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bench::clock_sync::SyncRow;
use crate::bench::coordination::{ElectionRow, MutexRow};
use crate::bench::plot::{Picture, legend_line, render};

/// A textbook count as a function of N.
type Curve = fn(f64) -> f64;

/// One line of a panel: measured (solid, with points) or a textbook guide (dashed).
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
    guide: bool,
    color: usize,
}

/// A panel: its title, axis names and lines.
struct Panel {
    title: &'static str,
    y_desc: &'static str,
    lines: Vec<Line>,
}

/// Draws the rows to `path` (.svg or .png), one panel per kind of row present.
pub fn coordination(
    mutex: &[MutexRow],
    elections: &[ElectionRow],
    sync: &[SyncRow],
    path: &Path,
) -> Result<()> {
    let panels: Vec<Panel> = [
        mutex_panel(mutex),
        election_panel(elections),
        sync_panel(sync),
    ]
    .into_iter()
    .flatten()
    .collect();
    if panels.is_empty() {
        anyhow::bail!("nothing to plot");
    }
    render(path, (600 * panels.len() as u32, 500), &Panels(&panels))
}

struct Panels<'a>(&'a [Panel]);

impl Picture for Panels<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.0)
    }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, panels: &[Panel]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(panels) {
        draw_panel(area, panel).map_err(|e| anyhow::anyhow!("drawing {}: {e:?}", panel.title))?;
    }
    Ok(())
}

/// Sorted by N, one point per size.
fn by_n(mut points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

fn mutex_panel(rows: &[MutexRow]) -> Option<Panel> {
    if rows.is_empty() {
        return None;
    }
    let mut names: Vec<&str> = rows.iter().map(|r| r.algorithm).collect();
    names.dedup();
    let ns: Vec<f64> = {
        let mut ns: Vec<f64> = rows.iter().map(|r| f64::from(r.nodes)).collect();
        ns.sort_by(f64::total_cmp);
        ns.dedup();
        ns
    };
    let mut lines = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let points = rows
            .iter()
            .filter(|r| r.algorithm == *name)
            .map(|r| (f64::from(r.nodes), r.messages_per_entry))
            .collect();
        lines.push(Line {
            label: (*name).to_string(),
            points: by_n(points),
            guide: false,
            color: k,
        });
        let textbook: Vec<(&str, Curve)> = match *name {
            "central" => vec![("3", |_| 3.0)],
            "ricart-agrawala" => vec![("2(N−1)", |n| 2.0 * (n - 1.0))],
            "lamport" => vec![("3(N−1)", |n| 3.0 * (n - 1.0))],
            "maekawa" => vec![("3√N", |n| 3.0 * n.sqrt()), ("5√N", |n| 5.0 * n.sqrt())],
            "token-ring" => vec![("N", |n| n)],
            _ => vec![],
        };
        for (label, f) in textbook {
            lines.push(Line {
                label: format!("{name}: {label}"),
                points: ns.iter().map(|n| (*n, f(*n))).collect(),
                guide: true,
                color: k,
            });
        }
    }
    Some(Panel {
        title: "Messages per entry (dashed: textbook)",
        y_desc: "messages per critical-section entry",
        lines,
    })
}

fn election_panel(rows: &[ElectionRow]) -> Option<Panel> {
    if rows.is_empty() {
        return None;
    }
    let mut keys: Vec<(&str, &str)> = rows.iter().map(|r| (r.algorithm, r.start)).collect();
    keys.sort();
    keys.dedup();
    let lines = keys
        .iter()
        .enumerate()
        .map(|(k, (algorithm, start))| Line {
            label: format!("{algorithm}, {start} starts"),
            points: by_n(
                rows.iter()
                    .filter(|r| r.algorithm == *algorithm && r.start == *start)
                    .map(|r| (f64::from(r.nodes), r.messages_per_election))
                    .collect(),
            ),
            guide: false,
            color: k,
        })
        .collect();
    Some(Panel {
        title: "Messages per election",
        y_desc: "messages per election",
        lines,
    })
}

fn sync_panel(rows: &[SyncRow]) -> Option<Panel> {
    if rows.is_empty() {
        return None;
    }
    let mut names: Vec<&str> = rows.iter().map(|r| r.algorithm).collect();
    names.dedup();
    let mut lines = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let of = |f: fn(&SyncRow) -> f64| {
            by_n(
                rows.iter()
                    .filter(|r| r.algorithm == *name)
                    .map(|r| (f64::from(r.nodes), f(r)))
                    .collect(),
            )
        };
        lines.push(Line {
            label: format!("{name}: largest error"),
            points: of(|r| r.error_max_ms),
            guide: false,
            color: k,
        });
        lines.push(Line {
            label: format!("{name}: bound"),
            points: of(|r| r.bound_ms),
            guide: true,
            color: k,
        });
    }
    Some(Panel {
        title: "Clock error (dashed: bound)",
        y_desc: "ms",
        lines,
    })
}

/// An axis label: whole numbers from 1 up, two decimals below.
fn tick(v: &f64) -> String {
    if *v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let all = panel.lines.iter().flat_map(|l| l.points.iter());
    let (min_n, max_n, min_y, max_y) = all.fold(
        (f64::MAX, 1.0f64, f64::MAX, 1.0f64),
        |(a, b, c, d), (x, y)| (a.min(*x), b.max(*x), c.min(*y), d.max(*y)),
    );
    let x = (min_n.min(max_n) * 0.8).max(1.0)..max_n * 1.25;
    let y = (min_y.min(max_y) * 0.5).max(1e-3)..max_y * 2.0;
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(x.log_scale(), y.log_scale())?;
    chart
        .configure_mesh()
        .x_desc("members N")
        .y_desc(panel.y_desc)
        .x_labels(8)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    for line in &panel.lines {
        let color = Palette99::pick(line.color).to_rgba();
        if line.guide {
            chart
                .draw_series(DashedLineSeries::new(
                    line.points.clone(),
                    6,
                    4,
                    color.stroke_width(1),
                ))?
                .label(&line.label)
                .legend(legend_line(color, 1));
        } else {
            chart
                .draw_series(LineSeries::new(line.points.clone(), color.stroke_width(2)))?
                .label(&line.label)
                .legend(legend_line(color, 2));
            chart.draw_series(
                line.points
                    .iter()
                    .map(|p| Circle::new(*p, 3, color.filled())),
            )?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .label_font(("sans-serif", 11))
        .draw()?;
    Ok(())
}
