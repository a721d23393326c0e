//! Pictures of `p2p bench multicast`: each overlay's relative delay penalty, and its link
//! stress beside IP multicast's and unicast's on the same routers.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bench::multicast::MulticastRow;
use crate::bench::plot::{Picture, render};

/// One bar per overlay in each series, the series side by side.
struct Bars {
    title: &'static str,
    y_desc: &'static str,
    series: Vec<(&'static str, Vec<f64>)>,
}

struct Panels<'a> {
    overlays: Vec<String>,
    panels: &'a [Bars],
}

/// Draws the rows to `path` (.svg or .png): RDP (mean, median, p90) and mean link stress
/// (Scribe, IP multicast, unicast) per overlay.
pub fn multicast(rows: &[MulticastRow], path: &Path) -> Result<()> {
    if rows.is_empty() {
        anyhow::bail!("nothing to plot");
    }
    let col = |f: fn(&MulticastRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let panels = [
        Bars {
            title: "Relative delay penalty of the tree (root to member ÷ unicast)",
            y_desc: "RDP",
            series: vec![
                ("mean", col(|r| r.rdp_mean)),
                ("median", col(|r| r.rdp_median)),
                ("p90", col(|r| r.rdp_p90)),
            ],
        },
        Bars {
            title: "Link stress (copies per physical link used)",
            y_desc: "mean link stress",
            series: vec![
                ("Scribe", col(|r| r.link_stress_mean)),
                ("IP multicast", col(|r| r.ip_link_stress_mean)),
                ("unicast", col(|r| r.unicast_link_stress_mean)),
            ],
        },
    ];
    let picture = Panels {
        overlays: rows.iter().map(|r| r.overlay.clone()).collect(),
        panels: &panels,
    };
    render(path, (1200, 500), &picture)
}

impl Picture for Panels<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let areas = root.split_evenly((1, self.panels.len()));
        for (area, bars) in areas.iter().zip(self.panels) {
            draw_bars(area, &self.overlays, bars)
                .map_err(|e| anyhow::anyhow!("drawing {}: {e:?}", bars.title))?;
        }
        Ok(())
    }
}

/// A grouped bar chart: overlay `i` spans `i..i + 1` on the x axis, its bars side by side
/// within it; the axis is labelled with overlay names at the groups' centres.
fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    overlays: &[String],
    bars: &Bars,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let n = overlays.len();
    let top = bars
        .series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(bars.title, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0f64..n as f64, 0f64..top * 1.15)?;
    let name = |x: &f64| {
        let centre = x - 0.5;
        match centre.round() {
            i if (centre - i).abs() < 1e-9 && i >= 0.0 => {
                overlays.get(i as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * n + 1)
        .x_label_formatter(&name)
        .y_desc(bars.y_desc)
        .draw()?;
    let width = 0.8 / bars.series.len() as f64;
    for (k, (label, values)) in bars.series.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let left = i as f64 + 0.1 + k as f64 * width;
                Rectangle::new([(left, 0.0), (left + width, *v)], color.filled())
            }))?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}
