//! Pictures of the hop-count benchmark: hop distributions, and mean hops against N with the
//! theory curve.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bench::hops::HopsRow;

/// Where a TrueType font for the plots' text is looked for (after `$P2P_FONT`).
const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
];

/// Registers a system font as `sans-serif` for the plots' text. Plotters measures text to
/// lay the chart out, so both SVG and PNG need one; reading a font file at run time keeps
/// the build free of system libraries.
pub(crate) fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    let result = REGISTERED.get_or_init(|| {
        let from_env = std::env::var("P2P_FONT").ok();
        let candidates = from_env
            .iter()
            .map(String::as_str)
            .chain(FONT_PATHS.iter().copied());
        for path in candidates {
            if let Ok(bytes) = std::fs::read(path) {
                // Registered fonts must live for the whole process.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(format!(
            "plots need a TrueType font for their text and none was found; install one \
             (Debian: apt-get install fonts-dejavu-core) or set P2P_FONT=/path/to/font.ttf \
             (looked in {})",
            FONT_PATHS.join(", ")
        ))
    });
    result.clone().map_err(anyhow::Error::msg)
}

/// A picture that draws itself on any plotters backend.
pub(crate) trait Picture {
    /// Draws on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Draws `picture`, `size` pixels, to `path`: PNG if its name ends in `.png`, else SVG.
pub(crate) fn render(path: &Path, size: (u32, u32), picture: &impl Picture) -> Result<()> {
    register_font()?;
    let written = || format!("writing {}", path.display());
    if path.extension().is_some_and(|e| e == "png") {
        let root = BitMapBackend::new(path, size).into_drawing_area();
        picture.draw(&root)?;
        root.present().with_context(written)?;
    } else {
        let root = SVGBackend::new(path, size).into_drawing_area();
        picture.draw(&root)?;
        root.present().with_context(written)?;
    }
    Ok(())
}

/// Draws `rows` to `path` (.svg or .png).
pub fn hops(rows: &[HopsRow], path: &Path) -> Result<()> {
    render(path, (1200, 500), &Hops(rows))
}

struct Hops<'a>(&'a [HopsRow]);

impl Picture for Hops<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.0)
    }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, rows: &[HopsRow]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (left, right) = root.split_horizontally(600);
    distribution(&left, rows).map_err(|e| anyhow::anyhow!("drawing the distribution: {e:?}"))?;
    scaling(&right, rows).map_err(|e| anyhow::anyhow!("drawing mean hops: {e:?}"))?;
    Ok(())
}

/// A legend entry: a short line in the series' colour and width.
pub(crate) fn legend_line(
    color: RGBAColor,
    width: u32,
) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(width))
}

fn label(r: &HopsRow) -> String {
    format!("{} N={}", r.variant, r.nodes)
}

fn distribution<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[HopsRow],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let max_h = rows
        .iter()
        .map(|r| r.hop_histogram.len())
        .max()
        .unwrap_or(1)
        .max(2) as i32;
    let fraction =
        |r: &HopsRow, c: u64| c as f64 / r.hop_histogram.iter().sum::<u64>().max(1) as f64;
    let top = rows
        .iter()
        .flat_map(|r| r.hop_histogram.iter().map(move |c| fraction(r, *c)))
        .fold(0.05, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption("Hop-count distribution", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0..max_h, 0f64..top)?;
    chart
        .configure_mesh()
        .x_desc("hops")
        .y_desc("fraction of lookups")
        .draw()?;
    for (k, r) in rows.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let points: Vec<(i32, f64)> = r
            .hop_histogram
            .iter()
            .enumerate()
            .map(|(h, c)| (h as i32, fraction(r, *c)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(label(r))
            .legend(legend_line(color, 2));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    Ok(())
}

fn scaling<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[HopsRow],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let min_n = rows.iter().map(|r| r.nodes).min().unwrap_or(10).max(2) as f64;
    let max_n = rows.iter().map(|r| r.nodes).max().unwrap_or(10).max(4) as f64;
    let max_y = rows
        .iter()
        .map(|r| r.mean_hops.max(r.theory_hops))
        .fold(1.0, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption("Mean hops against N", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((min_n / 2.0..max_n * 2.0).log_scale(), 0f64..max_y)?;
    chart
        .configure_mesh()
        .x_desc("nodes (log scale)")
        .y_desc("mean hops")
        .x_labels(6)
        .x_label_formatter(&|n| format!("{n:.0}"))
        .draw()?;
    let mut overlays: Vec<&str> = rows.iter().map(|r| r.variant.as_str()).collect();
    overlays.dedup();
    for (k, name) in overlays.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let mut mine: Vec<&HopsRow> = rows.iter().filter(|r| r.variant == *name).collect();
        mine.sort_by_key(|r| r.nodes);
        let measured: Vec<(f64, f64)> =
            mine.iter().map(|r| (r.nodes as f64, r.mean_hops)).collect();
        chart
            .draw_series(LineSeries::new(measured.clone(), color.stroke_width(2)))?
            .label(format!("{name} measured"))
            .legend(legend_line(color, 2));
        chart.draw_series(
            measured
                .into_iter()
                .map(|p| Circle::new(p, 4, color.filled())),
        )?;
        let theory: Vec<(f64, f64)> = mine
            .iter()
            .map(|r| (r.nodes as f64, r.theory_hops))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(theory, 6, 4, color.stroke_width(1)))?
            .label(format!("{name} theory"))
            .legend(legend_line(color, 1));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    Ok(())
}
