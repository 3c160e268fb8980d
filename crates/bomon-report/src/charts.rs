//! Briefing charts (plotters): funnel, trend against the peer band, SPC and
//! category history, as SVG and PNG at 16:9 slide size. Text uses the bundled
//! DejaVu Sans (æøå render without system fonts); colours are the Okabe-Ito
//! palette (colour-blind safe); every chart carries a caption with its source
//! and the internal marking.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Width and height of a chart in pixels (16:9, a slide).
pub const SIZE: (u32, u32) = (1280, 720);

const FONT: &str = "sans-serif";
static FONTS: Once = Once::new();

fn fonts() {
    FONTS.call_once(|| {
        // The bundled font is valid; a failure here would be a build defect.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../fonts/DejaVuSans.ttf"),
        );
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Bold,
            include_bytes!("../fonts/DejaVuSans-Bold.ttf"),
        );
    });
}

/// Okabe-Ito colours.
pub mod palette {
    use plotters::style::RGBColor;
    /// The department in focus.
    pub const FOCUS: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
    /// Peers.
    pub const PEERS: RGBColor = RGBColor(0x00, 0x72, 0xB2);
    /// The peer band.
    pub const BAND: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
    /// National public housing.
    pub const NATIONAL: RGBColor = RGBColor(0x00, 0x9E, 0x73);
    /// Limits and centre lines.
    pub const LIMIT: RGBColor = RGBColor(0x55, 0x55, 0x55);
    /// Signals.
    pub const SIGNAL: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
    /// The alarm limit.
    pub const ALARM: RGBColor = RGBColor(0x99, 0x11, 0x11);
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics (text stays text).
    Svg,
    /// Portable network graphics.
    Png,
}

impl Format {
    /// File extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// A series value per period (None: missing or suppressed).
pub type Series = Vec<Option<f64>>;

/// What a chart shows. Values are on the display scale already (per cent
/// or per 1,000); `unit` names it.
#[derive(Debug, Clone)]
pub enum Spec {
    /// Rates against denominators with funnel limits around a target: the
    /// limits of the level test that was run (its scale, its overdispersion
    /// and the review's false-discovery threshold), on the worse side only -
    /// a department beyond a line is flagged, one inside is not.
    Funnel {
        /// (denominator, rate, is the department in focus).
        points: Vec<(f64, f64, bool)>,
        /// Target: the comparison's pooled rate (the centre line).
        target: f64,
        /// (denominator, alert limit, alarm limit).
        limits: Vec<(f64, f64, f64)>,
        /// Legend words: centre line, alert limit, alarm limit.
        lines: [String; 3],
        /// A note under the legend, e.g. that the department's point is
        /// suppressed ("<5 - ikke vist").
        note: Option<String>,
    },
    /// A department's series against its peers' median and inter-quartile range and national public housing.
    Trend {
        /// Period labels.
        periods: Vec<String>,
        /// The department.
        department: Series,
        /// Peers' median.
        median: Series,
        /// Peers' lower quartile.
        q1: Series,
        /// Peers' upper quartile.
        q3: Series,
        /// National public housing (same housing type).
        national: Series,
        /// The periods the flagged development or trend compares (first and
        /// last index), shaded with `window_label` in the legend.
        window: Option<(usize, usize)>,
        /// The shaded window's legend words.
        window_label: String,
    },
    /// An SPC chart.
    Spc {
        /// Period labels.
        periods: Vec<String>,
        /// Values.
        values: Series,
        /// Centre line.
        centre: Vec<f64>,
        /// Lower limit.
        lower: Vec<f64>,
        /// Upper limit.
        upper: Vec<f64>,
        /// Points in the frozen baseline.
        baseline: usize,
        /// Points marked by a rule.
        signal: Vec<bool>,
        /// The peers' series on the same scale.
        peers: Series,
        /// Legend words: centre line, limits.
        lines: [String; 2],
    },
    /// Category history.
    Categories {
        /// (period, category).
        history: Vec<(String, String)>,
    },
}

/// A chart: what it shows, and its words.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// Y-axis unit (e.g. "%", "pr. 1.000").
    pub unit: String,
    /// X-axis label.
    pub x_label: String,
    /// Legend labels: focus, peers, national (or limits).
    pub legend: [String; 3],
    /// Caption: source and the internal marking.
    pub caption: String,
    /// Danish number format.
    pub danish: bool,
    /// The data.
    pub spec: Spec,
}

/// Renders a chart as SVG text or PNG bytes.
pub fn render(chart: &Chart, format: Format) -> Result<Vec<u8>, String> {
    fonts();
    match format {
        Format::Svg => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, SIZE).into_drawing_area();
                draw(&root, chart)?;
                root.present().map_err(|e| e.to_string())?;
            }
            Ok(s.into_bytes())
        }
        Format::Png => {
            let mut buf = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area();
                draw(&root, chart)?;
                root.present().map_err(|e| e.to_string())?;
            }
            let mut out = Vec::new();
            {
                let mut enc = png::Encoder::new(&mut out, SIZE.0, SIZE.1);
                enc.set_color(png::ColorType::Rgb);
                enc.set_depth(png::BitDepth::Eight);
                enc.set_compression(png::Compression::Fast);
                let mut w = enc.write_header().map_err(|e| e.to_string())?;
                w.write_image_data(&buf).map_err(|e| e.to_string())?;
            }
            Ok(out)
        }
    }
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn finite(it: impl Iterator<Item = f64>) -> (f64, f64) {
    it.filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        })
}

fn pad(lo: f64, hi: f64, from_zero: bool) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = (hi - lo).max(hi.abs() * 0.1).max(1e-9);
    let lo = if from_zero {
        0.0_f64.min(lo)
    } else {
        lo - 0.1 * span
    };
    // Headroom above the data for the legend (upper left).
    (
        lo.max(if from_zero { 0.0 } else { f64::NEG_INFINITY }),
        hi + 0.38 * span,
    )
}

/// A number for an axis: decimal comma in Danish.
fn num(v: f64, decimals: usize, da: bool) -> String {
    bomon_vocab::number::fixed(v, decimals, da)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &Chart) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (body, foot) = root.split_vertically(SIZE.1 - 44);
    // Caption: source and marking, bottom left, on every chart.
    foot.draw(&Text::new(
        c.caption.clone(),
        (24, 12),
        (FONT, 20).into_font().color(&RGBColor(0x33, 0x33, 0x33)),
    ))
    .map_err(err)?;
    // Long titles get a smaller font rather than running off the slide.
    let size = (34.0_f64).min(1180.0 / (0.62 * c.title.chars().count().max(1) as f64));
    let title = (FONT, size, FontStyle::Bold).into_font();
    let label = (FONT, 23).into_font();
    let mut cb = ChartBuilder::on(&body);
    cb.caption(&c.title, title)
        .margin(22)
        .x_label_area_size(60)
        .y_label_area_size(96);
    match &c.spec {
        Spec::Funnel { .. } => draw_funnel(&mut cb, c, &label)?,
        Spec::Trend { .. } => draw_trend(&mut cb, c, &label)?,
        Spec::Spc { .. } => draw_spc(&mut cb, c, &label)?,
        Spec::Categories { .. } => draw_categories(&body, c)?,
    }
    Ok(())
}

/// The plotting area of a funnel chart.
fn draw_funnel<DB: DrawingBackend>(
    cb: &mut ChartBuilder<'_, '_, DB>,
    c: &Chart,
    label: &FontDesc<'_>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let Spec::Funnel {
        points,
        target,
        limits,
        lines,
        note,
    } = &c.spec
    else {
        return Ok(());
    };
    let (x0, x1) = finite(points.iter().map(|p| p.0).chain(limits.iter().map(|l| l.0)));
    let (y0, y1) = finite(
        points
            .iter()
            .map(|p| p.1)
            .chain(std::iter::once(*target))
            .chain(limits.iter().flat_map(|l| [l.1, l.2])),
    );
    let (y0, y1) = pad(y0, y1, true);
    let xmax = x1 * 1.05 + 1.0 - x0.min(0.0);
    let mut ch = cb.build_cartesian_2d(0.0..xmax, y0..y1).map_err(err)?;
    ch.configure_mesh()
        .x_desc(&c.x_label)
        .x_label_formatter(&|x| num(*x, 0, c.danish))
        .y_desc(&c.unit)
        .y_label_formatter(&|y| num(*y, 1, c.danish))
        .label_style(label.clone())
        .axis_desc_style(label.clone())
        .max_light_lines(0)
        .draw()
        .map_err(err)?;
    // Centre, then the alert (thick) and alarm (thin) limits.
    ch.draw_series(LineSeries::new(
        vec![(0.0, *target), (xmax, *target)],
        ShapeStyle::from(&palette::PEERS).stroke_width(2),
    ))
    .map_err(err)?
    .label(lines[0].clone())
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], palette::PEERS.stroke_width(2)));
    for (k, width, colour) in [(1usize, 3u32, palette::LIMIT), (2, 1, palette::ALARM)] {
        let pts: Vec<(f64, f64)> = limits
            .iter()
            .map(|l| (l.0, if k == 1 { l.1 } else { l.2 }))
            .filter(|p| p.1.is_finite() && p.1 >= y0 && p.1 <= y1)
            .collect();
        ch.draw_series(LineSeries::new(
            pts,
            ShapeStyle::from(&colour).stroke_width(width),
        ))
        .map_err(err)?
        .label(lines[k].clone())
        .legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(width))
        });
    }
    ch.draw_series(
        points
            .iter()
            .filter(|p| !p.2 && p.1.is_finite())
            .map(|p| Circle::new((p.0, p.1), 5, palette::PEERS.mix(0.7).filled())),
    )
    .map_err(err)?
    .label(c.legend[1].clone())
    .legend(|(x, y)| Circle::new((x + 10, y), 6, palette::PEERS.filled()));
    ch.draw_series(
        points
            .iter()
            .filter(|p| p.2 && p.1.is_finite())
            .map(|p| Circle::new((p.0, p.1), 11, palette::FOCUS.filled())),
    )
    .map_err(err)?
    .label(c.legend[0].clone())
    .legend(|(x, y)| Circle::new((x + 10, y), 8, palette::FOCUS.filled()));
    legend(&mut ch)?;
    if let Some(n) = note {
        ch.draw_series(std::iter::once(Text::new(
            n.clone(),
            (xmax * 0.5, y0 + (y1 - y0) * 0.06),
            (FONT, 22).into_font().color(&palette::FOCUS),
        )))
        .map_err(err)?;
    }
    Ok(())
}

/// The plotting area of a trend chart.
fn draw_trend<DB: DrawingBackend>(
    cb: &mut ChartBuilder<'_, '_, DB>,
    c: &Chart,
    label: &FontDesc<'_>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let Spec::Trend {
        periods,
        department,
        median,
        q1,
        q3,
        national,
        window,
        window_label,
    } = &c.spec
    else {
        return Ok(());
    };
    let n = periods.len();
    let all = [department, median, q1, q3, national];
    let (y0, y1) = finite(all.iter().flat_map(|s| s.iter().flatten().copied()));
    let (y0, y1) = pad(y0, y1, true);
    let mut ch = cb
        .build_cartesian_2d(-0.3..(n as f64 - 0.7), y0..y1)
        .map_err(err)?;
    period_mesh(&mut ch, c, periods, 12, label)?;
    if let Some((a, b)) = window {
        let grey = RGBColor(0xF3, 0xF3, 0xF3);
        ch.draw_series(std::iter::once(Rectangle::new(
            [(*a as f64 - 0.3, y0), (*b as f64 + 0.3, y1)],
            grey.filled(),
        )))
        .map_err(err)?
        .label(window_label.clone())
        .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 20, y + 8)], grey.filled()));
    }
    // Peer band (inter-quartile range).
    let band: Vec<(f64, f64, f64)> = (0..n)
        .filter_map(|k| Some((k as f64, q1[k]?, q3[k]?)))
        .collect();
    if band.len() >= 2 {
        let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
        poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
        ch.draw_series(std::iter::once(Polygon::new(
            poly,
            palette::BAND.mix(0.3).filled(),
        )))
        .map_err(err)?;
    }
    let line = |s: &Series| -> Vec<(f64, f64)> {
        s.iter()
            .enumerate()
            .filter_map(|(k, v)| v.map(|v| (k as f64, v)))
            .collect()
    };
    draw_line(&mut ch, median, palette::PEERS, 3, &c.legend[1])?;
    draw_line(&mut ch, national, palette::NATIONAL, 2, &c.legend[2])?;
    draw_line(&mut ch, department, palette::FOCUS, 4, &c.legend[0])?;
    ch.draw_series(
        line(department)
            .into_iter()
            .map(|p| Circle::new(p, 6, palette::FOCUS.filled())),
    )
    .map_err(err)?;
    legend(&mut ch)?;
    Ok(())
}

/// The plotting area of a spc chart.
fn draw_spc<DB: DrawingBackend>(
    cb: &mut ChartBuilder<'_, '_, DB>,
    c: &Chart,
    label: &FontDesc<'_>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let Spec::Spc {
        periods,
        values,
        centre,
        lower,
        upper,
        baseline,
        signal,
        peers,
        lines,
    } = &c.spec
    else {
        return Ok(());
    };
    let n = periods.len();
    let (y0, y1) = finite(
        values
            .iter()
            .flatten()
            .copied()
            .chain(peers.iter().flatten().copied())
            .chain(upper.iter().copied())
            .chain(centre.iter().copied()),
    );
    let (y0, y1) = pad(y0, y1, true);
    let mut ch = cb
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), y0..y1)
        .map_err(err)?;
    period_mesh(&mut ch, c, periods, 10, label)?;
    if *baseline > 0 {
        ch.draw_series(std::iter::once(Rectangle::new(
            [(-0.5, y0), (*baseline as f64 - 0.5, y1)],
            RGBColor(0xF2, 0xF2, 0xF2).filled(),
        )))
        .map_err(err)?;
    }
    let steps = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .filter(|(_, y)| y.is_finite())
            .map(|(k, y)| (k as f64, *y))
            .collect()
    };
    ch.draw_series(LineSeries::new(
        steps(centre),
        ShapeStyle::from(&palette::NATIONAL).stroke_width(3),
    ))
    .map_err(err)?
    .label(lines[0].clone())
    .legend(|(x, y)| {
        PathElement::new(vec![(x, y), (x + 20, y)], palette::NATIONAL.stroke_width(3))
    });
    let mut labelled = false;
    for lim in [lower, upper] {
        let pts = steps(lim);
        if pts.is_empty() {
            continue;
        }
        let s = ch
            .draw_series(LineSeries::new(
                pts,
                ShapeStyle::from(&palette::ALARM).stroke_width(2),
            ))
            .map_err(err)?;
        if !labelled {
            s.label(lines[1].clone()).legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], palette::ALARM.stroke_width(2))
            });
            labelled = true;
        }
    }
    draw_line(&mut ch, peers, palette::PEERS, 2, &c.legend[1])?;
    draw_line(&mut ch, values, palette::FOCUS, 3, &c.legend[0])?;
    ch.draw_series(values.iter().enumerate().filter_map(|(k, v)| {
        let v = (*v)?;
        let sig = signal.get(k).copied().unwrap_or(false);
        Some(Circle::new(
            (k as f64, v),
            if sig { 9 } else { 5 },
            if sig {
                palette::SIGNAL.filled()
            } else {
                palette::FOCUS.filled()
            },
        ))
    }))
    .map_err(err)?
    .label(c.legend[2].clone())
    .legend(|(x, y)| Circle::new((x + 10, y), 8, palette::SIGNAL.filled()));
    legend(&mut ch)?;
    Ok(())
}

/// The plotting area of a categories chart.
fn draw_categories<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    c: &Chart,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let Spec::Categories { history } = &c.spec else {
        return Ok(());
    };
    let n = history.len().max(1);
    let area = body.margin(80, 80, 40, 40);
    area.draw(&Text::new(
        c.title.clone(),
        (0, 0),
        (FONT, 30, FontStyle::Bold).into_font(),
    ))
    .map_err(err)?;
    let (w, _) = area.dim_in_pixel();
    let bw = (w as i32 - 20) / n as i32;
    for (k, (p, cat)) in history.iter().enumerate() {
        let col = match cat.as_str() {
            "red" => RGBColor(0xC0, 0x39, 0x2B),
            "orange" => RGBColor(0xE6, 0x7E, 0x22),
            "yellow" => RGBColor(0xF1, 0xC4, 0x0F),
            "green" => RGBColor(0x27, 0xAE, 0x60),
            _ => RGBColor(0xBB, 0xBB, 0xBB),
        };
        let x = k as i32 * bw;
        area.draw(&Rectangle::new(
            [(x + 4, 120), (x + bw - 4, 360)],
            col.filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(p.clone(), (x + 10, 380), (FONT, 22).into_font()))
            .map_err(err)?;
        // The category in words too: colour is never the only cue.
        let word = category_word(cat, &c.unit);
        let ink = if matches!(cat.as_str(), "red" | "green") {
            WHITE
        } else {
            BLACK
        };
        area.draw(&Text::new(
            word,
            (x + 10, 130),
            (FONT, 20, FontStyle::Bold).into_font().color(&ink),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Axes over periods (x: period labels, at most `max_labels`), values (y).
fn period_mesh<'a, DB: DrawingBackend + 'a>(
    ch: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    c: &Chart,
    periods: &[String],
    max_labels: usize,
    label: &FontDesc<'_>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    ch.configure_mesh()
        .x_labels(periods.len().min(max_labels))
        .x_label_formatter(&|x| period_label(periods, *x))
        .x_desc(&c.x_label)
        .y_desc(&c.unit)
        .y_label_formatter(&|y| num(*y, 1, c.danish))
        .label_style(label.clone())
        .axis_desc_style(label.clone())
        .max_light_lines(0)
        .draw()
        .map_err(err)
}

/// Contiguous runs of present values, so a line breaks at a gap.
fn segments(s: &Series) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![];
    let mut cur = vec![];
    for (k, v) in s.iter().enumerate() {
        match v {
            Some(v) if v.is_finite() => cur.push((k as f64, *v)),
            _ => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn draw_line<'a, DB: DrawingBackend + 'a>(
    ch: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    s: &Series,
    colour: RGBColor,
    width: u32,
    label: &str,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let segs = segments(s);
    for (k, seg) in segs.iter().enumerate() {
        let a = ch
            .draw_series(LineSeries::new(
                seg.clone(),
                ShapeStyle::from(&colour).stroke_width(width),
            ))
            .map_err(err)?;
        if k == 0 {
            a.label(label.to_string()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(width))
            });
        }
    }
    Ok(())
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    ch: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    ch.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xCC, 0xCC, 0xCC))
        .label_font((FONT, 22).into_font())
        .draw()
        .map_err(err)
}

fn period_label(periods: &[String], x: f64) -> String {
    let k = x.round();
    if (x - k).abs() > 1e-6 || k < 0.0 {
        return String::new();
    }
    periods.get(k as usize).cloned().unwrap_or_default()
}

/// The category's name in the chart's language (`unit` carries "da"/"en"
/// for category charts).
pub fn category_word(cat: &str, lang: &str) -> String {
    let da = lang != "en";
    match (cat, da) {
        ("red", true) => "rød",
        ("orange", true) => "orange",
        ("yellow", true) => "gul",
        ("green", true) => "grøn",
        (c, _) => c,
    }
    .to_string()
}
