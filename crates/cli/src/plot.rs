//! SVG plots (plotters, SVG backend: no fonts or native libraries needed).

use std::path::Path;

use plotters::prelude::*;

use crate::CliError;
use crate::compare::DesignerJson;

fn plot_error(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::Io {
        what: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Two panels with one row per designer: probes (bars, the lower bound as a dot; the
/// identity design is left out of the scale and named in the caption) and the maximum
/// relative decoding error (log10; exact recoveries are drawn at 1e-17).
pub fn designers_svg(path: &Path, title: &str, designers: &[DesignerJson]) -> Result<(), CliError> {
    let ran: Vec<&DesignerJson> = designers
        .iter()
        .filter(|d| d.max_rel_error.is_some())
        .collect();
    let shown: Vec<&DesignerJson> = ran
        .iter()
        .copied()
        .filter(|d| d.designer != "identity")
        .collect();
    let identity = designers
        .iter()
        .find(|d| d.designer == "identity")
        .and_then(|d| d.probes);
    let names: Vec<String> = shown.iter().map(|d| d.designer.to_string()).collect();
    let n = shown.len().max(1) as u32;
    let max_probes = shown.iter().filter_map(|d| d.probes).max().unwrap_or(1) as f64;
    let rows = 60 + 34 * shown.len() as u32;
    let root = SVGBackend::new(path, (1100, rows.max(240))).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let root = root
        .titled(title, ("sans-serif", 20))
        .map_err(|e| plot_error(path, e))?;
    let (left, right) = root.split_horizontally(560);
    let label = |i: &SegmentValue<u32>| match i {
        SegmentValue::CenterOf(k) | SegmentValue::Exact(k) => {
            names.get(*k as usize).cloned().unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    };
    let caption = match identity {
        Some(p) => format!("probes (dot: lower bound; identity: {p})"),
        None => "probes (dot: lower bound)".to_string(),
    };
    let mut probes = ChartBuilder::on(&left)
        .caption(caption, ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(150)
        .build_cartesian_2d(0f64..max_probes * 1.1 + 1.0, (0u32..n).into_segmented())
        .map_err(|e| plot_error(path, e))?;
    probes
        .configure_mesh()
        .disable_y_mesh()
        .y_label_formatter(&label)
        .y_labels(shown.len().max(1))
        .x_desc("products")
        .draw()
        .map_err(|e| plot_error(path, e))?;
    probes
        .draw_series(shown.iter().enumerate().map(|(k, d)| {
            let y0 = SegmentValue::Exact(k as u32);
            let y1 = SegmentValue::Exact(k as u32 + 1);
            let mut bar = Rectangle::new(
                [(0.0, y0), (d.probes.unwrap_or(0) as f64, y1)],
                Palette99::pick(k).filled(),
            );
            bar.set_margin(5, 5, 0, 0);
            bar
        }))
        .map_err(|e| plot_error(path, e))?;
    probes
        .draw_series(shown.iter().enumerate().filter_map(|(k, d)| {
            d.lower_bound.map(|lb| {
                Circle::new(
                    (lb as f64, SegmentValue::CenterOf(k as u32)),
                    4,
                    BLACK.filled(),
                )
            })
        }))
        .map_err(|e| plot_error(path, e))?;

    let log_err: Vec<f64> = shown
        .iter()
        .map(|d| d.max_rel_error.unwrap_or(1.0).max(1e-17).log10())
        .collect();
    let hi = log_err.iter().copied().fold(-12.0f64, f64::max).ceil() + 1.0;
    let mut errors = ChartBuilder::on(&right)
        .caption("max relative error, log10 (exact: -17)", ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(150)
        .build_cartesian_2d(-17.5f64..hi, (0u32..n).into_segmented())
        .map_err(|e| plot_error(path, e))?;
    errors
        .configure_mesh()
        .disable_y_mesh()
        .y_label_formatter(&label)
        .y_labels(shown.len().max(1))
        .x_desc("log10 error")
        .draw()
        .map_err(|e| plot_error(path, e))?;
    errors
        .draw_series(log_err.iter().enumerate().map(|(k, &e)| {
            Circle::new(
                (e, SegmentValue::CenterOf(k as u32)),
                6,
                Palette99::pick(k).filled(),
            )
        }))
        .map_err(|e| plot_error(path, e))?;
    root.present().map_err(|e| plot_error(path, e))?;
    Ok(())
}

/// One line of a line chart.
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// Points (x, y), drawn in order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart with markers; both axes log10 when asked.
pub fn lines_svg(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    log_x: bool,
    log_y: bool,
) -> Result<(), CliError> {
    let tx = |v: f64| if log_x { v.max(1e-300).log10() } else { v };
    let ty = |v: f64| if log_y { v.max(1e-300).log10() } else { v };
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter().map(|&(x, y)| (tx(x), ty(y))));
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let (dx, dy) = ((x1 - x0).max(1e-9) * 0.05, (y1 - y0).max(1e-9) * 0.08);
    let root = SVGBackend::new(path, (760, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0 - dx..x1 + dx, y0 - dy..y1 + dy)
        .map_err(|e| plot_error(path, e))?;
    let xl = if log_x {
        format!("{x_desc} (log10)")
    } else {
        x_desc.to_string()
    };
    let yl = if log_y {
        format!("{y_desc} (log10)")
    } else {
        y_desc.to_string()
    };
    chart
        .configure_mesh()
        .x_desc(xl)
        .y_desc(yl)
        .draw()
        .map_err(|e| plot_error(path, e))?;
    for (k, s) in series.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let points: Vec<(f64, f64)> = s.points.iter().map(|&(x, y)| (tx(x), ty(y))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| plot_error(path, e))?
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )
            .map_err(|e| plot_error(path, e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_error(path, e))?;
    root.present().map_err(|e| plot_error(path, e))?;
    Ok(())
}

/// Panels stacked vertically sharing the x axis, one line each: `(y label, points)`.
pub fn panels_svg(
    path: &Path,
    title: &str,
    x_desc: &str,
    panels: &[(&str, Vec<(f64, f64)>)],
) -> Result<(), CliError> {
    let height = 40 + 200 * panels.len().max(1) as u32;
    let root = SVGBackend::new(path, (760, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let root = root
        .titled(title, ("sans-serif", 18))
        .map_err(|e| plot_error(path, e))?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (k, ((label, points), area)) in panels.iter().zip(&areas).enumerate() {
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        let dy = (y1 - y0).max(1e-9) * 0.08;
        let mut chart = ChartBuilder::on(area)
            .margin(8)
            .x_label_area_size(if k + 1 == panels.len() { 35 } else { 20 })
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1.max(x0 + 1e-9), y0 - dy..y1 + dy)
            .map_err(|e| plot_error(path, e))?;
        let mut mesh = chart.configure_mesh();
        mesh.y_desc(*label).max_light_lines(0);
        if k + 1 == panels.len() {
            mesh.x_desc(x_desc);
        }
        mesh.draw().map_err(|e| plot_error(path, e))?;
        let color = Palette99::pick(k).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| plot_error(path, e))?;
    }
    root.present().map_err(|e| plot_error(path, e))?;
    Ok(())
}
