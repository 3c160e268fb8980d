//! review.xlsx: a triage sheet (sortable, filterable, frozen header), the
//! flags, a sheet per flagged department with its figures, and the
//! assessment form whose filled-in copy `bomon assess import` reads back
//! (columns: the `assessments` format of shared/DESIGN.md section 3).
//! Row 1 of every sheet carries the internal marking; headers are in row 2.

use std::collections::HashSet;
use std::path::Path;

use crate::ReportInput;
use rust_xlsxwriter::{DataValidation, Format, Workbook, Worksheet, XlsxError};

use crate::spec::scale;
use crate::{tr, Disclosure, INTERNAL_DA, INTERNAL_EN};
use bomon_engine::review::Test;

/// The form's vocabulary: defined once, with the import that reads it back.
use bomon_store::assess::{Outcome, Role, COLUMNS};

fn head(
    ws: &mut Worksheet,
    da: bool,
    cols: &[&str],
    bold: &Format,
    mark: &Format,
) -> Result<(), XlsxError> {
    ws.write_string_with_format(0, 0, if da { INTERNAL_DA } else { INTERNAL_EN }, mark)?;
    for (c, h) in cols.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *h, bold)?;
    }
    ws.set_freeze_panes(2, 0)?;
    ws.set_header(format!("&C{}", if da { INTERNAL_DA } else { INTERNAL_EN }));
    ws.set_footer("&L&A&R&P / &N");
    ws.set_landscape();
    // On paper: A4 landscape, one page wide, the header rows on every page.
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 1)?;
    Ok(())
}

fn unique_name(base: &str, used: &mut HashSet<String>) -> String {
    let clean: String = base
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let mut name: String = clean.chars().take(31).collect();
    let mut k = 2;
    while used.contains(&name.to_lowercase()) {
        let suffix = format!(" ({k})");
        name = clean
            .chars()
            .take(31 - suffix.chars().count())
            .collect::<String>()
            + &suffix;
        k += 1;
    }
    used.insert(name.to_lowercase());
    name
}

pub(crate) fn workbook(
    input: &ReportInput<'_>,
    sections: &[usize],
    disc: &Disclosure,
    path: &Path,
) -> Result<(), String> {
    build(input, sections, disc, path).map_err(|e| format!("review.xlsx: {e}"))
}

fn build(
    input: &ReportInput<'_>,
    sections: &[usize],
    disc: &Disclosure,
    path: &Path,
) -> Result<(), XlsxError> {
    let da = input.danish;
    let panel = input.panel;
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_background_color("#EEF4FA");
    let mark = Format::new().set_bold().set_font_color("#8B0000");
    let pct = Format::new().set_num_format("0.0");
    let mut used = HashSet::new();

    // Triage.
    let ws = wb.add_worksheet();
    ws.set_name(unique_name(tr(da, "Prioritering", "Triage"), &mut used))?;
    let cols = [
        tr(da, "nr.", "rank"),
        tr(da, "afdeling (id)", "department (id)"),
        tr(da, "navn", "name"),
        tr(da, "organisation", "organisation"),
        tr(da, "kategori", "category"),
        tr(da, "point", "score"),
        tr(da, "markerede nøgletal", "indicators flagged"),
        tr(da, "stærkeste markering", "strongest flag"),
        tr(da, "vurdering ønskes", "assessment wanted"),
        tr(da, "for lille", "too small"),
        tr(da, "hovedgrund", "main reason"),
    ];
    head(ws, da, &cols, &bold, &mark)?;
    let score = Format::new().set_num_format("0.0");
    for (r, t) in input.triage.iter().enumerate() {
        let row = r as u32 + 2;
        let d = &panel.depts[t.dept];
        ws.write_number(row, 0, t.rank as f64)?;
        ws.write_string(row, 1, &d.id)?;
        ws.write_string(row, 2, &d.name)?;
        ws.write_string(row, 3, &d.organisation)?;
        ws.write_string(
            row,
            4,
            t.category
                .as_deref()
                .map(|c| crate::html::category_label(c, da))
                .unwrap_or_default(),
        )?;
        ws.write_number_with_format(row, 5, (t.score * 10.0).round() / 10.0, &score)?;
        ws.write_number(row, 6, t.indicators_flagged as f64)?;
        let strongest = if t.alarms > 0 {
            "alarm"
        } else if t.alerts > 0 {
            "alert"
        } else {
            ""
        };
        ws.write_string(
            row,
            7,
            bomon_vocab::glossary::term(strongest)
                .map_or(String::new(), |g| g.name(da).to_lowercase()),
        )?;
        ws.write_string(
            row,
            8,
            if t.needs_assessment {
                tr(da, "ja", "yes")
            } else {
                ""
            },
        )?;
        ws.write_string(row, 9, if t.too_small { tr(da, "ja", "yes") } else { "" })?;
        ws.write_string(row, 10, &t.reason)?;
    }
    ws.autofilter(1, 0, input.triage.len() as u32 + 1, cols.len() as u16 - 1)?;
    for (c, w) in [6, 13, 28, 28, 10, 7, 10, 14, 10, 8, 90].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }

    flags_sheet(&mut wb, input, disc, &mut used, &bold, &mark)?;

    // A sheet per flagged department: its figures per indicator and period.
    for &d in sections {
        let dp = &panel.depts[d];
        let ws = wb.add_worksheet();
        ws.set_name(unique_name(&format!("{} {}", dp.id, dp.name), &mut used))?;
        let periods: Vec<i32> = (panel.first_year..panel.first_year + panel.years as i32).collect();
        let labels: Vec<String> = periods
            .iter()
            .map(|&p| {
                if input.quarterly.is_some() {
                    bomon_engine::data::quarter_label(p)
                } else {
                    p.to_string()
                }
            })
            .collect();
        let last = *periods.last().unwrap_or(&panel.first_year);
        let last_label = labels.last().cloned().unwrap_or_default();
        let peers_head = format!(
            "{} {last_label}",
            tr(da, "tvillinger (median)", "twins (median)")
        );
        let nat_head = format!(
            "{} {last_label}",
            tr(da, "landsplan (samme boligtype)", "national (same type)")
        );
        let mut cols: Vec<&str> = vec![tr(da, "nøgletal", "indicator"), tr(da, "enhed", "unit")];
        cols.extend(labels.iter().map(|s| s.as_str()));
        cols.push(&peers_head);
        cols.push(&nat_head);
        head(ws, da, &cols, &bold, &mark)?;
        let k = input.review.scope.iter().position(|&x| x == d);
        let peers: Vec<usize> = k
            .map(|k| input.review.peers[k].iter().map(|p| p.0).collect())
            .unwrap_or_default();
        let int = Format::new().set_num_format("0");
        ws.set_column_width(0, 44)?;
        ws.set_column_width(periods.len() as u16 + 2, 18)?;
        ws.set_column_width(periods.len() as u16 + 3, 18)?;
        let mut row = 2;
        for (i, id) in panel.indicators.iter().enumerate() {
            let Some(ind) = input.catalogue.get(id) else {
                continue;
            };
            let (fac, unit) = scale(ind.kind, da);
            let any = periods.iter().any(|&p| panel.get(i, d, p).0.is_finite());
            if !any {
                continue;
            }
            ws.write_string(row, 0, if da { &ind.label_da } else { &ind.label_en })?;
            ws.write_string(row, 1, unit)?;
            for (c, &p) in periods.iter().enumerate() {
                let (n, dn) = panel.get(i, d, p);
                let col = c as u16 + 2;
                if !n.is_finite() {
                    continue;
                }
                if disc.hides(n) {
                    ws.write_string(row, col, disc.mark())?;
                } else if dn.is_nan() {
                    // A count (residents, households): a number, not text.
                    ws.write_number_with_format(row, col, n, &int)?;
                } else if dn > 0.0 {
                    ws.write_number_with_format(row, col, n / dn * fac, &pct)?;
                }
            }
            // The comparisons of the last period: the twins' median and
            // public housing of the same type nationally (pooled).
            let shown = |x: usize| {
                let (n, dn) = panel.get(i, x, last);
                if !n.is_finite() || disc.hides(n) {
                    None
                } else if dn.is_nan() {
                    Some(n)
                } else {
                    (dn > 0.0).then(|| n / dn * fac)
                }
            };
            let mut pv: Vec<f64> = peers.iter().filter_map(|&p| shown(p)).collect();
            pv.sort_by(f64::total_cmp);
            if !pv.is_empty() {
                let m = pv.len() / 2;
                let med = if pv.len() % 2 == 1 {
                    pv[m]
                } else {
                    (pv[m - 1] + pv[m]) / 2.0
                };
                ws.write_number_with_format(row, periods.len() as u16 + 2, med, &pct)?;
            }
            if !ind.kind.is_value() {
                let (a, b) = (0..panel.depts.len())
                    .filter(|&x| panel.depts[x].housing_type == dp.housing_type)
                    .map(|x| panel.get(i, x, last))
                    .filter(|(a, b)| a.is_finite() && *b > 0.0)
                    .fold((0.0, 0.0), |(s, t), (a, b)| (s + a, t + b));
                if b > 0.0 {
                    ws.write_number_with_format(row, periods.len() as u16 + 3, a / b * fac, &pct)?;
                }
            }
            row += 1;
        }
    }

    form_sheet(&mut wb, input, da, &mut used, &bold, &mark)?;
    wb.save(path)
}

/// The flags for people: Danish words and categories, rates in their unit,
/// a development as "before", "now" and the change - in percentage points
/// for a share, in per cent for a rate - against the comparison's change,
/// q as a percentage. The codes stay in flags.csv.
fn flags_sheet(
    wb: &mut Workbook,
    input: &ReportInput<'_>,
    disc: &Disclosure,
    used: &mut HashSet<String>,
    bold: &Format,
    mark: &Format,
) -> Result<(), XlsxError> {
    let (da, panel, review) = (input.danish, input.panel, input.review);
    let ws = wb.add_worksheet();
    ws.set_name(unique_name(tr(da, "Markeringer", "Flags"), used))?;
    let cols = [
        tr(da, "afdeling (id)", "department (id)"),
        tr(da, "navn", "name"),
        tr(da, "periode", "period"),
        tr(da, "nøgletal", "indicator"),
        tr(da, "test", "test"),
        tr(da, "sammenlignet med", "compared with"),
        tr(da, "før", "before"),
        tr(da, "nu", "now"),
        tr(da, "enhed", "unit"),
        tr(da, "ændring", "change"),
        tr(
            da,
            "sammenligningens niveau/ændring",
            "comparison's level/change",
        ),
        tr(da, "enhed for ændring", "unit of change"),
        "z",
        tr(da, "q (falsk fund)", "q (false discovery)"),
        tr(da, "markering", "flag"),
        tr(da, "tæller", "numerator"),
        tr(da, "nævner", "denominator"),
    ];
    head(ws, da, &cols, bold, mark)?;
    let one = Format::new().set_num_format("0.0");
    let two = Format::new().set_num_format("0.00");
    let q_fmt = Format::new().set_num_format("0.000%");
    let int = Format::new().set_num_format("0");
    let flags: Vec<_> = review
        .findings
        .iter()
        .filter(|f| f.severity.is_some())
        .collect();
    let period = review
        .period
        .parse::<bomon_vocab::Period>()
        .map_or(review.period.clone(), |p| p.words(da));
    for (r, f) in flags.iter().enumerate() {
        let row = r as u32 + 2;
        let id = &panel.indicators[f.indicator];
        let ind = input.catalogue.get(id);
        let kind = ind.map_or(bomon_vocab::Kind::Share, |x| x.kind);
        let (fac, unit) = scale(kind, da);
        let hidden = disc.hides(f.numerator) || disc.hides(f.previous_numerator);
        let dept = &panel.depts[f.dept];
        ws.write_string(row, 0, &dept.id)?;
        ws.write_string(row, 1, &dept.name)?;
        ws.write_string(row, 2, &period)?;
        ws.write_string(
            row,
            3,
            ind.map_or(id.as_str(), |x| {
                if da {
                    x.label_da.as_str()
                } else {
                    x.label_en.as_str()
                }
            }),
        )?;
        ws.write_string(row, 4, f.test.words(da))?;
        ws.write_string(row, 5, f.comparator.words(da))?;
        let num = |ws: &mut Worksheet, c: u16, v: f64, fmt: &Format| -> Result<(), XlsxError> {
            if v.is_finite() {
                ws.write_number_with_format(row, c, v, fmt)?;
            }
            Ok(())
        };
        ws.write_string(row, 8, unit)?;
        let relative = |x: f64| (x.exp() - 1.0) * 100.0;
        match f.test {
            Test::Level | Test::Spc | Test::EarlyWarning => {
                if hidden {
                    ws.write_string(row, 7, disc.mark())?;
                } else {
                    num(ws, 6, f.previous * fac, &one)?;
                    num(ws, 7, f.value * fac, &one)?;
                    if kind == bomon_vocab::Kind::Share {
                        num(ws, 9, (f.value - f.previous) * 100.0, &one)?;
                        ws.write_string(row, 11, tr(da, "procentpoint", "percentage points"))?;
                    }
                }
                num(ws, 10, f.reference * fac, &one)?;
            }
            Test::Development => {
                if hidden {
                    ws.write_string(row, 7, disc.mark())?;
                } else {
                    let now = if f.denominator > 0.0 {
                        f.numerator / f.denominator
                    } else {
                        f64::NAN
                    };
                    num(ws, 6, f.previous * fac, &one)?;
                    num(ws, 7, now * fac, &one)?;
                    if kind == bomon_vocab::Kind::Share {
                        num(ws, 9, (now - f.previous) * 100.0, &one)?;
                    } else {
                        num(ws, 9, relative(f.value), &one)?;
                    }
                }
                // The comparison's change is relative (its counts pooled).
                num(ws, 10, relative(f.reference), &one)?;
                ws.write_string(
                    row,
                    11,
                    if kind == bomon_vocab::Kind::Share {
                        tr(
                            da,
                            "procentpoint (sammenligning: %)",
                            "percentage points (comparison: %)",
                        )
                    } else {
                        "%"
                    },
                )?;
            }
            Test::Trend => {
                if !hidden {
                    let now = if f.denominator > 0.0 {
                        f.numerator / f.denominator
                    } else {
                        f64::NAN
                    };
                    num(ws, 7, now * fac, &one)?;
                    num(ws, 9, relative(f.value), &one)?;
                }
                num(ws, 10, relative(f.reference), &one)?;
                ws.write_string(row, 11, tr(da, "% pr. år", "% per year"))?;
            }
        }
        if !hidden {
            num(ws, 12, (f.z * 100.0).round() / 100.0, &two)?;
            num(ws, 13, f.q, &q_fmt)?;
        }
        ws.write_string(
            row,
            14,
            f.severity.map_or(String::new(), |s| {
                bomon_vocab::glossary::term(s.name())
                    .map_or(s.name().to_string(), |g| g.name(da).to_lowercase())
            }),
        )?;
        if hidden || !f.numerator.is_finite() {
            ws.write_string(row, 15, disc.count(f.numerator))?;
        } else {
            num(ws, 15, f.numerator, &int)?;
        }
        num(ws, 16, f.denominator, &int)?;
    }
    ws.autofilter(1, 0, flags.len() as u32 + 1, cols.len() as u16 - 1)?;
    for (c, w) in [13, 24, 10, 36, 11, 14, 8, 8, 12, 9, 14, 18, 7, 10, 18, 8, 9]
        .iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    Ok(())
}

/// The assessment form: one row per department asked, with the columns
/// `bomon assess import` reads back (headers in the reader's language; the
/// import knows them, and the codes) and, to their right, what the reader
/// needs to answer: the department's name, what the figures show, whom to
/// ask and the questions. Drop-down lists hold the outcomes' and roles'
/// labels; the import accepts labels and codes alike.
fn form_sheet(
    wb: &mut Workbook,
    input: &ReportInput,
    da: bool,
    used: &mut HashSet<String>,
    bold: &Format,
    mark: &Format,
) -> Result<(), XlsxError> {
    let (panel, review) = (input.panel, input.review);
    let ws = wb.add_worksheet();
    ws.set_name(unique_name(
        tr(da, "Vurderingsskema", "Assessment form"),
        used,
    ))?;
    let context = [
        tr(da, "Afdeling", "Department"),
        tr(da, "Boligområde", "Housing area"),
        tr(da, "Hvad tallene viser", "What the figures show"),
        tr(da, "Spørg", "Ask"),
        tr(da, "Spørgsmål", "Questions"),
    ];
    let headers: Vec<&str> = COLUMNS
        .iter()
        .map(|c| c.header(da))
        .chain(context)
        .collect();
    head(ws, da, &headers, bold, mark)?;
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    let asked: Vec<_> = input.triage.iter().filter(|t| t.needs_assessment).collect();
    for (r, t) in asked.iter().enumerate() {
        let row = r as u32 + 2;
        let dept = &panel.depts[t.dept];
        ws.write_string(row, 0, &dept.id)?;
        ws.write_string(row, 1, &review.period)?;
        ws.write_string_with_format(row, 6, &dept.name, &wrap)?;
        ws.write_string_with_format(row, 7, dept.area.as_deref().unwrap_or(""), &wrap)?;
        ws.write_string_with_format(row, 8, t.findings.join("\n"), &wrap)?;
        ws.write_string_with_format(row, 9, t.roles.join(", "), &wrap)?;
        ws.write_string_with_format(row, 10, t.questions.join("\n"), &wrap)?;
    }
    let last = (asked.len() as u32 + 1).max(200);
    ws.add_data_validation(
        2,
        3,
        last,
        3,
        &DataValidation::new().allow_list_strings(&Role::labels(da))?,
    )?;
    ws.add_data_validation(
        2,
        4,
        last,
        4,
        &DataValidation::new().allow_list_strings(&Outcome::labels(da))?,
    )?;
    for (c, w) in [14, 10, 13, 26, 16, 60, 24, 14, 60, 34, 60]
        .iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    let help_col = 12;
    let help = [
        tr(da, "Udfyld én række pr. vurdering: dato (ÅÅÅÅ-MM-DD), hvem der vurderede, udfald og en kort note.", "One row per assessment: date (YYYY-MM-DD), who assessed, outcome and a short note."),
        &format!("{}: {}.", tr(da, "Udfald", "Outcomes"), Outcome::listing(da)),
        &format!("{}: {}.", tr(da, "Vurderet af", "Assessed by"), Role::listing(da)),
        tr(da, "Vurderet af \"andet\": skriv hvem i noten (en funktion, ikke et navn).", "Assessed by \"other\": say who in the note (a role, not a name)."),
        tr(da, "Noten må IKKE indeholde personoplysninger: ingen navne, adresser eller CPR-numre.", "The note must NOT contain personal data: no names, addresses or CPR numbers."),
        tr(da, "Noter med et CPR-nummer afvises ved indlæsning (bomon assess import). Kolonnerne til højre for Note er kun til orientering og læses ikke ind.", "Notes with a CPR number are refused on import (bomon assess import). The columns right of Note are for reference and are not read in."),
    ];
    for (k, h) in help.iter().enumerate() {
        ws.write_string_with_format(k as u32 + 1, help_col, *h, if k == 4 { mark } else { bold })?;
    }
    ws.set_column_width(help_col, 90)?;
    // The printed form is the rows and their context, not the instructions.
    ws.set_print_area(0, 0, last, 10)?;
    Ok(())
}
