//! Pictures of `p2p bench swarm`: downloaders and seeds over time against the fluid
//! model, the distribution of download times, and the rarest piece's copies, per picker.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bench::plot::{Picture, legend_line, render};
use crate::bench::swarm::{SwarmRow, label};

/// One line of a panel: simulated (solid) or the fluid model (dashed).
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
    dashed: bool,
    color: usize,
}

/// A panel: its title, axis names and lines.
struct Panel {
    title: &'static str,
    x_desc: &'static str,
    y_desc: &'static str,
    lines: Vec<Line>,
}

/// Draws the rows to `path` (.svg or .png), three panels side by side.
pub fn swarm(rows: &[SwarmRow], path: &Path) -> Result<()> {
    let panels = [population(rows), download_times(rows), rarest(rows)];
    render(path, (1800, 500), &Panels(&panels))
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

fn population(rows: &[SwarmRow]) -> Panel {
    let mut lines = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        let name = label(r.config.picker);
        let s = &r.report.samples;
        lines.push(Line {
            label: format!("{name}: downloaders"),
            points: s.iter().map(|s| (s.t, s.downloaders as f64)).collect(),
            dashed: false,
            color: 2 * k,
        });
        lines.push(Line {
            label: format!("{name}: seeds"),
            points: s.iter().map(|s| (s.t, s.seeds as f64)).collect(),
            dashed: false,
            color: 2 * k + 1,
        });
    }
    if let Some(r) = rows.first() {
        let s = &r.report.samples;
        lines.push(Line {
            label: "fluid model: downloaders".into(),
            points: s.iter().map(|s| (s.t, s.fluid_downloaders)).collect(),
            dashed: true,
            color: 0,
        });
        lines.push(Line {
            label: "fluid model: seeds".into(),
            points: s.iter().map(|s| (s.t, s.fluid_seeds)).collect(),
            dashed: true,
            color: 1,
        });
    }
    Panel {
        title: "Peers in the swarm (dashed: Qiu-Srikant)",
        x_desc: "simulated seconds",
        y_desc: "peers",
        lines,
    }
}

fn download_times(rows: &[SwarmRow]) -> Panel {
    let lines = rows
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let mut t = r.report.download_times.clone();
            t.sort_by(f64::total_cmp);
            let n = t.len().max(1) as f64;
            Line {
                label: format!("{}: download time", label(r.config.picker)),
                points: t
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (*t, (i + 1) as f64 / n))
                    .collect(),
                dashed: false,
                color: 2 * k,
            }
        })
        .collect();
    Panel {
        title: "Download times (CDF)",
        x_desc: "seconds from arrival to the last piece",
        y_desc: "share of downloaders",
        lines,
    }
}

fn rarest(rows: &[SwarmRow]) -> Panel {
    let lines = rows
        .iter()
        .enumerate()
        .map(|(k, r)| Line {
            label: format!("{}: rarest piece", label(r.config.picker)),
            points: r
                .report
                .samples
                .iter()
                .map(|s| (s.t, s.rarest_copies as f64))
                .collect(),
            dashed: false,
            color: 2 * k,
        })
        .collect();
    Panel {
        title: "Copies of the rarest piece, seeds aside",
        x_desc: "simulated seconds",
        y_desc: "copies",
        lines,
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

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (max_x, max_y) = panel
        .lines
        .iter()
        .flat_map(|l| l.points.iter())
        .fold((1.0f64, 1.0f64), |(a, b), (x, y)| (a.max(*x), b.max(*y)));
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..max_x * 1.05, 0.0..max_y * 1.1)?;
    chart
        .configure_mesh()
        .x_desc(panel.x_desc)
        .y_desc(panel.y_desc)
        .draw()?;
    for line in &panel.lines {
        let color = Palette99::pick(line.color).to_rgba();
        if line.dashed {
            chart
                .draw_series(DashedLineSeries::new(
                    line.points.clone(),
                    6,
                    4,
                    color.stroke_width(2),
                ))?
                .label(&line.label)
                .legend(legend_line(color, 2));
        } else {
            chart
                .draw_series(LineSeries::new(line.points.clone(), color.stroke_width(2)))?
                .label(&line.label)
                .legend(legend_line(color, 2));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .label_font(("sans-serif", 11))
        .draw()?;
    Ok(())
}
